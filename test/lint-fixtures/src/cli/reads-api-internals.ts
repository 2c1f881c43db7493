import { routes } from '../api/routes.js' // expect-lint: import-x/no-restricted-paths

export const listed = routes
