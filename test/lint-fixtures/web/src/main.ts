import type { Overview } from './generated/api-types.js'

export const show = (o: Overview): string => String(o.members)
