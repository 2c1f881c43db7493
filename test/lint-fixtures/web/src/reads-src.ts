import { MEMBER_ID } from '../../src/core/ids.js' // expect-lint: import-x/no-restricted-paths

export const column = MEMBER_ID
