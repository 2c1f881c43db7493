import { createApp } from '../api/index.js'

export const command = (): number => createApp().length
