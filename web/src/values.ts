/**
 * The values a dimension takes in the data (GET /api/v1/dimensions/{name}/values), named in the page's
 * language: provinces by the name the API gives in each language (浙江 / Zhejiang), channels and genders by
 * the dashboard's labels, tiers by the program file's names. Filters offer these instead of free text, so a
 * value the data does not hold cannot be asked for.
 */
import type { components } from './generated/api'
import { lang } from './i18n'
import { client, coded, format, named, ok } from './ui'

type Values = components['schemas']['DimensionValues']
export type DimensionValue = Values['values'][number]

/** The values of dimension `name`, most members first, each with its label in the page's language. */
export async function dimensionValues(
  name: string,
): Promise<{ values: (DimensionValue & { text: string })[]; note?: string }> {
  const [r, tiers] = await Promise.all([
    ok(client.GET('/api/v1/dimensions/{name}/values', { params: { path: { name } } })),
    name === 'tier' ? tierNames() : Promise.resolve(undefined),
  ])
  return {
    values: r.values.map((v) => ({ ...v, text: valueLabel(name, v, tiers) })),
    ...(r.note === undefined ? {} : { note: r.note }),
  }
}

async function tierNames() {
  try {
    return (await ok(client.GET('/api/v1/loyalty-program'))).program?.tierNames
  } catch {
    // Without the program's names the tiers show as stored.
    return undefined
  }
}

/** A value in the page's language: its own label, a dashboard label of its kind, or the value as stored. */
export function valueLabel(
  dimension: string,
  v: DimensionValue,
  tiers?: Readonly<Record<string, components['schemas']['Text']>>,
): string {
  if (v.label) return v.label[lang()]
  switch (dimension) {
    case 'registration_channel':
    case 'order_channel':
    case 'event_channel':
      return coded('channel', v.value)
    case 'gender':
      return coded('gender', v.value)
    case 'tier':
      return named(tiers?.[v.value], v.value)
    default:
      return v.value
  }
}

/** An option's text: the value's label and its members (浙江 · 1,234). */
export const optionText = (v: DimensionValue & { text: string }): string =>
  `${v.text} · ${format(v.members, 'members')}`
