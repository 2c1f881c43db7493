import { open } from '../store/open.js' // expect-lint: import-x/no-restricted-paths

export const opened = open
