import { rule } from '../alerts/rule.js' // expect-lint: import-x/no-restricted-paths

export const alerted = rule
