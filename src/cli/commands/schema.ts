import pc from 'picocolors'
import {
  IDENTITY_TYPES,
  INGEST_TABLES,
  TABLES,
  sourceFields,
  type FieldType,
  type IngestTable,
} from '../../core/schema.js'
import { translator, type Lang } from '../lang.js'
import { FIELD_DESCRIPTIONS_ZH, TABLE_DESCRIPTIONS_ZH } from '../messages.js'
import { printJson, table } from '../output.js'

function typeLabel(t: FieldType): string {
  return t.kind === 'enum' ? t.values.join('|') : t.kind
}

/** Prints the canonical fields of one table (or lists the tables) so users can map their columns. */
export function runSchema(name: string | undefined, flags: { json: boolean; lang?: Lang }): void {
  const names = name === undefined ? INGEST_TABLES : [name]
  const defs = names.map((n) => {
    const t = TABLES[n as keyof typeof TABLES]
    if (t === undefined) throw new Error(`unknown table ${n}`)
    return t
  })
  if (flags.json) {
    printJson({ tables: defs.map((t) => ({ ...t, sourceFields: sourceFields(t) })) })
    return
  }
  const lang = flags.lang ?? 'en'
  const t = translator(lang)
  const tableText = (n: string, en: string) =>
    lang === 'zh' ? (TABLE_DESCRIPTIONS_ZH[n as IngestTable] ?? en) : en
  if (name === undefined) {
    process.stdout.write(
      `${table(
        [t('table'), t('key'), t('description')],
        defs.map((d) => [d.name, d.key.join(', '), tableText(d.name, d.description)]),
      )}\n`,
    )
    process.stdout.write(`\n${t('Run `memberlens schema <table>` for its fields.')}\n`)
    return
  }
  const d = defs[0]
  if (!d) return
  process.stdout.write(
    `${pc.bold(d.name)} — ${tableText(d.name, d.description)}\n${t('key: {fields}', { fields: d.key.join(', ') })}\n\n`,
  )
  process.stdout.write(
    `${table(
      [t('field'), t('type'), t('required'), t('description')],
      d.fields
        .filter((f) => !f.derived)
        .map((f) => [
          f.name,
          typeLabel(f.type),
          f.required ? (f.default ? t('default {value}', { value: f.default }) : t('yes')) : '',
          lang === 'zh'
            ? (FIELD_DESCRIPTIONS_ZH[`${d.name}.${f.name}`] ?? f.description)
            : f.description,
        ]),
    )}\n`,
  )
  if (d.memberLink === 'owner' || d.memberLink === 'reference' || d.name === 'returns') {
    const columns = ['member_id', ...IDENTITY_TYPES].join(', ')
    process.stdout.write(
      `\n${t('Identity columns (any of): {columns}', { columns: `${columns}, identity_type + identity_value` })}\n`,
    )
  }
}
