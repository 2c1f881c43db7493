/**
 * What the rest of memberlens may use of the API: the application factory, the API keys (which the
 * `serve` and `keys` commands manage) and the JSON error body (which `serve` also writes for requests it
 * answers before the application). Lint keeps `cli/` to this module; routes, schemas and middleware stay
 * internal to `api/`.
 * @module
 */
export { createApp, type ApiOptions, type App } from './app.js'
export { errorBody, type ApiErrorCode } from './error-handler.js'
export { KeyStore, ROLES, SCOPES, type KeyRecord, type Role, type Scope } from './keys.js'
