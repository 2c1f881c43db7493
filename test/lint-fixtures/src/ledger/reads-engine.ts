import { query } from '../engine/query.js' // expect-lint: import-x/no-restricted-paths

export const posted = query
