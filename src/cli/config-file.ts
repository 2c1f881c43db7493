/**
 * The one reader of the configuration files commands take (lifecycle rules, early-warning rules, metric
 * definitions, ingest mappings, topic keywords): YAML, or JSON by the `.json` extension. A missing file is an
 * input error naming it; text that does not parse is a configuration error naming the file and the parser's
 * line. Each caller validates the value with its own schema. The project file `memberlens.config.yaml` has
 * its own reader (`config.ts`), which keeps the line of every key for its messages.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { ConfigError, InputError } from '../core/errors.js'

/** Reads a YAML or JSON file (by extension) into a plain value. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw InputError.single({ file: path, reason: 'file not found or not readable' })
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (e) {
    throw new ConfigError(
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    )
  }
}
