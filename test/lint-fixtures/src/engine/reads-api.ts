import { createApp } from '../api/index.js' // expect-lint: import-x/no-restricted-paths

export const served = createApp
