export { report } from './analytics/report.js'
export { command } from './cli/command.js' // expect-lint: import-x/no-restricted-paths
