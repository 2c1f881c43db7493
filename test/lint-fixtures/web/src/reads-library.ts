import { sql } from 'memberlens' // expect-lint: no-restricted-imports

export const query = sql
