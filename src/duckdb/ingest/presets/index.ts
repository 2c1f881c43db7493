import { cdnowPreset } from './cdnow.js'
import { onlineRetailPreset } from './online-retail.js'
import type { Preset } from './preset.js'

/** Documented mappings of well-known data sets, by name. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  [onlineRetailPreset.name]: onlineRetailPreset,
  [cdnowPreset.name]: cdnowPreset,
}

export function findPreset(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined
}

export type { Preset, PresetOptions, PresetReport } from './preset.js'
