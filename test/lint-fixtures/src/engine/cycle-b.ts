import { a } from './cycle-a.js'

export const b = (): string => (Math.random() > 2 ? a() : 'b')
