import { open } from '../store/open.js'

export const load = open
