import { routes } from './routes.js'

export const createApp = (): readonly string[] => routes
