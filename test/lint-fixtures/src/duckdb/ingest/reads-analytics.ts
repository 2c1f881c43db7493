import { report } from '../../analytics/report.js' // expect-lint: import-x/no-restricted-paths

export const ingested = report
