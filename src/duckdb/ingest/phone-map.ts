/**
 * Phone values of a staged file, read by the numbering-plan library once per distinct text.
 *
 * The engine lists the distinct raw values (trimmed) of every phone source; each is read in TypeScript by
 * {@link phoneReader}; the mapping goes back into the engine through an appender, and the typed projection
 * joins it. Rows never travel to TypeScript one by one: a file of ten million orders by two million people
 * reads two million values at most.
 * @module
 */
import { phoneReader, type PhoneReading } from '../../core/phone.js'
import type { DuckDbDriver } from '../driver.js'
import { ident, join, sql, type Fragment } from '../../engine/sql/fragment.js'
import { blankToNull } from '../identity.js'

/**
 * `_ml_phone(raw, phone, reason, not_personal)`: `raw` is a trimmed source text; `phone` its stored value (E.164
 * digits), NULL when it is not a phone number, with `reason` saying why; `not_personal` says why a valid
 * number is not a person's own (a service number), else NULL.
 */
export const PHONE_MAP = '_ml_phone'

/** Builds {@link PHONE_MAP} from the distinct non-blank values of the given text expressions. */
export async function buildPhoneMap(
  driver: DuckDbDriver,
  sources: readonly Fragment[],
  defaultCountryCode: string,
): Promise<void> {
  const read = phoneReader(defaultCountryCode)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE ${ident(PHONE_MAP)}
    (raw VARCHAR, phone VARCHAR, reason VARCHAR, not_personal VARCHAR)`)
  if (sources.length === 0) return
  const values = sources.map((s) => sql`SELECT ${blankToNull(s)} AS raw FROM _ml_stage s`)
  const q = sql`SELECT DISTINCT raw FROM (${join(values, ' UNION ALL ')}) WHERE raw IS NOT NULL`
  const raws = await driver.column(q)
  await appendReadings(driver, raws as string[], read)
}

/** Reads each distinct value and appends the readings to {@link PHONE_MAP}. */
async function appendReadings(
  driver: DuckDbDriver,
  raws: readonly string[],
  read: (raw: string) => PhoneReading,
): Promise<void> {
  const phones: Array<string | null> = []
  const reasons: Array<string | null> = []
  const notPersonal: Array<string | null> = []
  for (const raw of raws) {
    const r = read(raw)
    phones.push(r.ok ? r.value : null)
    reasons.push(r.ok ? null : r.reason)
    notPersonal.push(r.ok ? (r.notPersonal ?? null) : null)
  }
  await driver.append(
    PHONE_MAP,
    [
      { type: 'varchar', values: raws },
      { type: 'varchar', values: phones },
      { type: 'varchar', values: reasons },
      { type: 'varchar', values: notPersonal },
    ],
    { temporary: true },
  )
}
