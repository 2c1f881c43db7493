import { command } from '../cli/command.js' // expect-lint: import-x/no-restricted-paths

export const commanded = command
