import pc from 'picocolors'
import { INGEST_TABLES, TABLES, sourceFields, type FieldType } from '../../core/schema.js'
import { printJson, table } from '../output.js'

function typeLabel(t: FieldType): string {
  return t.kind === 'enum' ? t.values.join('|') : t.kind
}

/** Prints the canonical fields of one table (or lists the tables) so users can map their columns. */
export function runSchema(name: string | undefined, flags: { json: boolean }): void {
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
  if (name === undefined) {
    process.stdout.write(
      `${table(
        ['table', 'key', 'description'],
        defs.map((t) => [t.name, t.key.join(', '), t.description]),
      )}\n`,
    )
    process.stdout.write('\nRun `memberlens schema <table>` for its fields.\n')
    return
  }
  const t = defs[0]
  if (!t) return
  process.stdout.write(`${pc.bold(t.name)} — ${t.description}\nkey: ${t.key.join(', ')}\n\n`)
  process.stdout.write(
    `${table(
      ['field', 'type', 'required', 'description'],
      t.fields
        .filter((f) => !f.derived)
        .map((f) => [
          f.name,
          typeLabel(f.type),
          f.required ? (f.default ? `default ${f.default}` : 'yes') : '',
          f.description,
        ]),
    )}\n`,
  )
  if (t.memberLink === 'owner' || t.memberLink === 'reference' || t.name === 'returns') {
    process.stdout.write(
      '\nIdentity columns (any of): member_id, phone, email, wechat_unionid, card_no, app_user_id, pos_customer_id, customer_id, or identity_type + identity_value\n',
    )
  }
}
