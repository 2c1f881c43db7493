/**
 * `memberlens config`: the effective settings and where each came from (flag, environment variable, project
 * file or built-in default).
 * @module
 */
import { Option, type Command } from 'commander'
import {
  CONFIG_FILE,
  SETTINGS,
  SETTING_KEYS,
  checkValue,
  currentConfig,
  describeSource,
  loadConfig,
  type SettingKey,
  type SettingSource,
} from '../config.js'
import { translator } from '../lang.js'
import { MISSING, printJson } from '../output.js'

/** The flags `config` takes, one per setting that commands take as a flag. */
const FLAG_OF: Readonly<Partial<Record<SettingKey, string>>> = {
  db: 'db',
  engine: 'engine',
  url: 'url',
  tz: 'tz',
  lang: 'lang',
  currency: 'currency',
  ledger: 'ledger',
}

interface Row {
  readonly key: SettingKey
  readonly value: string | number | undefined
  readonly source: SettingSource
}

export function registerConfigCommand(program: Command): void {
  const cmd = program
    .command('config')
    .description('print the effective settings and where each came from')
    .addOption(new Option('--json', 'machine-readable JSON on stdout').default(false))
  for (const key of SETTING_KEYS) {
    const flag = FLAG_OF[key]
    if (flag !== undefined)
      cmd.option(`--${flag} <value>`, `${SETTINGS[key].help} (${SETTINGS[key].env})`)
  }
  cmd.addHelpText(
    'after',
    `
Precedence: a command's flag, then the environment variable, then ${CONFIG_FILE} (in the current folder
or the nearest folder above it, or the file MEMBERLENS_CONFIG names), then the built-in default. Paths in
the file are relative to the file's folder. Example ${CONFIG_FILE}:

  db: data/members.duckdb
  tz: Asia/Shanghai
  lang: zh
  currency: CNY
  ledger: data/ledger`,
  )
  cmd.action(async (flags: Record<string, unknown>, self: Command) => {
    const config = currentConfig() ?? (await loadConfig())
    const rows: Row[] = []
    for (const key of SETTING_KEYS) {
      const flag = FLAG_OF[key]
      if (flag !== undefined && self.getOptionValueSource(flag) === 'cli') {
        const value = await checkValue(key, flags[flag], `--${flag}`)
        rows.push({ key, value, source: { kind: 'flag' } })
      } else rows.push({ key, ...config.settings[key] })
    }
    if (flags['json'] === true) {
      printJson({
        file: config.file ?? null,
        settings: Object.fromEntries(
          rows.map((r) => [
            r.key,
            {
              value: r.value ?? null,
              source: r.source.kind,
              ...(r.source.kind === 'env' ? { variable: r.source.name } : {}),
              ...(r.source.kind === 'file' ? { file: r.source.path } : {}),
            },
          ]),
        ),
      })
      return
    }
    // The table speaks the language it shows as effective.
    const lang = rows.find((r) => r.key === 'lang')?.value === 'zh' ? 'zh' : 'en'
    const t = translator(lang)
    process.stdout.write(
      `${config.file === undefined ? t('no {file} here or in a folder above', { file: CONFIG_FILE }) : t('file {file}', { file: config.file })}\n\n`,
    )
    const source = (r: Row): string => {
      if (lang === 'en') return describeSource(r.source)
      switch (r.source.kind) {
        case 'flag':
          return t('config|flag')
        case 'env':
          return t('environment variable {name}', { name: r.source.name })
        case 'file':
          return t('file {file}', { file: r.source.path })
        default:
          return t('built-in default')
      }
    }
    const cells = rows.map((r) => [
      r.key,
      r.value === undefined ? MISSING : String(r.value),
      source(r),
    ])
    const keyWidth = Math.max(...cells.map((c) => c[0]?.length ?? 0))
    const valueWidth = Math.max(...cells.map((c) => c[1]?.length ?? 0))
    for (const [key, value, from] of cells)
      process.stdout.write(
        `${(key ?? '').padEnd(keyWidth)}  ${(value ?? '').padEnd(valueWidth)}  ${from ?? ''}\n`,
      )
  })
}
