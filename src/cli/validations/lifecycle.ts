/**
 * The lifecycle rules a command reads from `--config`.
 * @module
 */
import {
  lifecycleConfigSchema,
  type LifecycleConfig,
} from '../../engine/lifecycle/lifecycle-config.js'
import { parseWith } from './retention.js'
import { readConfigFile } from '../config-file.js'

/** The lifecycle rules from `--config` (YAML or JSON; the `lifecycle:` key or the whole file), or the defaults. */
export async function loadLifecycleConfig(path: string | undefined): Promise<LifecycleConfig> {
  if (path === undefined) return lifecycleConfigSchema.parse({})
  const raw = await readConfigFile(path)
  const body =
    raw !== null && typeof raw === 'object' && 'lifecycle' in raw
      ? (raw as { lifecycle: unknown }).lifecycle
      : raw
  return parseWith(lifecycleConfigSchema, body ?? {}, `${path} setting`)
}
