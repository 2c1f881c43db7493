import { MEMBER_ID } from '../core/ids.js'

export const fitted = `${MEMBER_ID}: fitted`
