import { MEMBER_ID } from '../core/ids.js'

export const query = `SELECT ${MEMBER_ID} FROM members`
