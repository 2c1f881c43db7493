/**
 * Dimensions a metric can be split by, and member filters (`--where`).
 *
 * Member dimensions (registration channel, region, city, gender, cohort, a member attribute, an experiment's
 * variant) apply to every member-based measure through a join with `members`. Row dimensions (order channel,
 * store, event channel, coupon campaign, campaign) exist only on some sources; a metric whose measures lack one cannot be split by it.
 * @module
 */
import { nearest } from '../../core/did-you-mean.js'
import { InputError } from '../../core/errors.js'
import { regionWritings } from '../../core/regions.js'
import type { SqlDialect } from '../dialects/dialect.js'
import { DEFAULT_LIFECYCLE_CONFIG } from '../lifecycle/lifecycle-config.js'
import { buildMemberStagesQuery } from '../lifecycle/lifecycle-stages.js'
import { rfmConfigSchema } from '../rfm/rfm-config.js'
import { buildRfmQuery } from '../rfm/rfm-scores.js'
import { ident, join, sql, type Fragment } from '../sql/fragment.js'

/** The fact sources measures read (CTEs named `src_<id>`). */
export type SourceId =
  | 'purchases'
  | 'returns'
  | 'events'
  | 'activity'
  | 'member_periods'
  | 'sessions'
  | 'feedback'
  | 'registrations'
  | 'spend'
  | 'visits'
  | 'touches'
  | 'sentiment'
  | 'points'
  | 'enrollments'
  | 'tier_changes'
  | 'renewals_due'
  | 'clv_scores'
  | 'coupons_issued'
  | 'coupons_redeemed'
  | 'campaign_units'

export interface Dimension {
  /** As written by the user: `region`, `attribute:vip`, `experiment:exp_coupon`. */
  readonly id: string
  readonly kind: 'member' | 'row'
  /** Sources that carry a row dimension. */
  readonly sources?: readonly SourceId[]
  /** The dimension's value for a row of `source` aliased `s`, members aliased `m`. */
  expr(source: SourceId, s: string, m: string): Fragment
  /** Every value of the dimension (one column `v`), so that values without rows still show. */
  domain(): Fragment
  /** Common table expressions the expression reads (`name AS (query)`), one per member with its value `v`. */
  readonly ctes?: readonly { readonly name: string; readonly query: Fragment }[]
  /** Tables that must exist (with a hint naming the command that fills them). */
  readonly requires?: { readonly table: string; readonly hint: string }
}

/** What snapshot dimensions (tier, lifecycle stage, RFM segment) are evaluated at. */
export interface DimensionOptions {
  /** The instant (YYYY-MM-DD, exclusive) at which lifecycle stages and RFM segments are taken. */
  readonly asOf?: string
}

const ATTR_RE = /^[A-Za-z0-9_.-]{1,64}$/

function memberColumn(id: string, column: string): Dimension {
  return {
    id,
    kind: 'member',
    expr: (_source, _s, m) => sql`${ident(m, column)}`,
    domain: () => sql`SELECT DISTINCT ${ident(column)} AS v FROM members`,
  }
}

/**
 * Sources without members (spend, visits): only the registration channel applies, as the channel the money
 * was spent on or the visitors came through.
 */
function spendChannel(source: SourceId, s: string): Fragment | undefined {
  return source === 'spend' || source === 'visits' ? sql`${ident(s, 'channel')}` : undefined
}

export const MEMBER_DIMENSIONS = [
  'registration_channel',
  'region',
  'city',
  'gender',
  'cohort',
  'tier',
  'lifecycle_stage',
  'rfm_segment',
] as const
export const ROW_DIMENSIONS = [
  'order_channel',
  'store',
  'event_channel',
  'coupon_campaign',
  'campaign',
] as const

/**
 * A member dimension read from a per-member table (`member_id`, `v`) built by a common table expression: the
 * member's value, or empty when the member has none.
 */
function snapshot(id: string, query: Fragment, requires?: Dimension['requires']): Dimension {
  const name = `dim_${id}`
  return {
    id,
    kind: 'member',
    expr: (_source, _s, m) =>
      sql`(SELECT x.v FROM ${ident(name)} x WHERE x.member_id = ${ident(m, 'member_id')})`,
    domain: () => sql`SELECT DISTINCT v FROM ${ident(name)} UNION SELECT NULL AS v`,
    ctes: [{ name, query }],
    ...(requires === undefined ? {} : { requires }),
  }
}

/** Parses a dimension name; throws an InputError naming the allowed ones. */
export function parseDimension(
  dialect: SqlDialect,
  id: string,
  options: DimensionOptions = {},
): Dimension {
  const asOf = (): string => {
    if (options.asOf === undefined)
      throw badDimension(id, `${id} needs the instant at which it is taken`)
    return options.asOf
  }
  switch (id) {
    case 'tier':
      // The member's current tier at the last sync of the ledger (one account per member: the latest updated).
      return snapshot(
        id,
        sql`SELECT member_id, tier AS v FROM (
          SELECT member_id, tier, row_number() OVER (PARTITION BY member_id ORDER BY updated_at DESC, ledger_member) AS rn
          FROM loyalty_accounts WHERE member_id IS NOT NULL) a WHERE rn = 1`,
        {
          table: 'loyalty_accounts',
          hint: 'the tier dimension reads the ledger synced into the engine: run `memberlens loyalty sync` (or `loyalty replay`) first',
        },
      )
    case 'lifecycle_stage':
      return snapshot(
        id,
        sql`SELECT member_id, stage AS v FROM (${buildMemberStagesQuery(asOf(), DEFAULT_LIFECYCLE_CONFIG)}) st`,
      )
    case 'rfm_segment':
      return snapshot(
        id,
        sql`SELECT member_id, segment AS v FROM (${buildRfmQuery(asOf(), rfmConfigSchema.parse({}))}) r`,
      )
    case 'registration_channel': {
      const base = memberColumn(id, 'registration_channel')
      return { ...base, expr: (source, s, m) => spendChannel(source, s) ?? base.expr(source, s, m) }
    }
    case 'region':
    case 'city':
    case 'gender':
      return memberColumn(id, id)
    case 'cohort': {
      // The registration month, as YYYY-MM.
      const cohort = (m: string) => dialect.dateText(sql`${ident(m, 'registered_at')}`, 'month')
      return {
        id,
        kind: 'member',
        expr: (_source, _s, m) => cohort(m),
        domain: () => sql`SELECT DISTINCT ${cohort('members')} AS v FROM members`,
      }
    }
    case 'order_channel':
      return rowColumn(id, 'channel', ['purchases'])
    case 'store':
      return rowColumn(id, 'store_id', ['purchases'])
    case 'event_channel':
      return rowColumn(id, 'channel', ['events', 'sessions'])
    case 'coupon_campaign':
      return rowColumn(id, 'campaign_id', ['coupons_issued', 'coupons_redeemed'])
    case 'campaign':
      // A campaign of the touches table (its id), for the campaign metrics.
      return rowColumn(id, 'campaign_id', ['campaign_units'])
    default:
      break
  }
  const attr = /^attribute:(.+)$/.exec(id)?.[1]
  if (attr !== undefined) {
    if (!ATTR_RE.test(attr)) throw badDimension(id, 'attribute names are letters, digits, _ . -')
    return {
      id,
      kind: 'member',
      expr: (_source, _s, m) => dialect.jsonText(sql`${ident(m, 'attributes')}`, attr),
      domain: () =>
        sql`SELECT DISTINCT ${dialect.jsonText(sql`attributes`, attr)} AS v FROM members`,
    }
  }
  const experiment = /^experiment:(.+)$/.exec(id)?.[1]
  if (experiment !== undefined) {
    const variant = (m: Fragment) =>
      sql`(SELECT min(x.variant) FROM experiments x WHERE x.member_id = ${m} AND x.experiment_id = ${experiment})`
    return {
      id,
      kind: 'member',
      expr: (_source, _s, m) => variant(sql`${ident(m, 'member_id')}`),
      domain:
        () => sql`SELECT DISTINCT variant AS v FROM experiments WHERE experiment_id = ${experiment}
        UNION SELECT NULL AS v`,
    }
  }
  throw badDimension(id, '')
}

function rowColumn(id: string, column: string, sources: readonly SourceId[]): Dimension {
  return {
    id,
    kind: 'row',
    sources,
    expr: (source, s) => {
      if (!sources.includes(source))
        throw new InputError(`dimension ${id} does not apply to ${source}`)
      return sql`${ident(s, column)}`
    },
    domain: () =>
      sql`SELECT DISTINCT ${ident(column)} AS v FROM ${ident(`src_${sources[0] as SourceId}`)}`,
  }
}

function badDimension(id: string, reason: string): InputError {
  const guess = reason === '' ? nearest(id, [...MEMBER_DIMENSIONS, ...ROW_DIMENSIONS]) : undefined
  const why = guess === undefined ? reason : `did you mean ${guess}?`
  return InputError.single({
    field: 'dimension',
    value: id,
    reason: `${why ? `${why}; ` : ''}dimensions: ${[...MEMBER_DIMENSIONS, ...ROW_DIMENSIONS].join(', ')}, attribute:<key>, experiment:<id>`,
    allowed: [...MEMBER_DIMENSIONS, ...ROW_DIMENSIONS, 'attribute:<key>', 'experiment:<id>'],
  })
}

/** One member filter condition (`where`): a member dimension compared with values. */
export interface MemberCondition {
  readonly dimension: string
  readonly op: '=' | '!=' | 'in' | 'not in'
  readonly values: readonly string[]
}

/** Parses `field=value`, `field!=value`, `field in a|b` (values separated by `|`). */
export function parseCondition(text: string): MemberCondition {
  const m = /^\s*([A-Za-z0-9_:.-]+)\s*(!=|=|\s+not\s+in\s+|\s+in\s+)\s*(.*)$/i.exec(text)
  if (!m)
    throw InputError.single({
      field: 'where',
      value: text,
      reason: 'expected field=value, field!=value or "field in a|b"',
    })
  const op = (m[2] as string).trim().toLowerCase() as MemberCondition['op']
  const values =
    op === 'in' || op === 'not in'
      ? (m[3] as string).split('|').map((v) => v.trim())
      : [(m[3] as string).trim()]
  return { dimension: m[1] as string, op, values }
}

/** The dimension of a filter condition; an unknown one is a problem of the filter (`where`), not of `by`. */
function whereDimension(dialect: SqlDialect, id: string, options: DimensionOptions) {
  try {
    return parseDimension(dialect, id, options)
  } catch (e) {
    const issue = e instanceof InputError && e.issues.length === 1 ? e.issues[0] : undefined
    if (issue?.field !== 'dimension') throw e
    throw InputError.single({ ...issue, field: 'where' })
  }
}

/** The SQL condition over members aliased `m` for a list of conditions (all must hold). */
export function memberFilter(
  dialect: SqlDialect,
  conditions: readonly MemberCondition[],
  options: DimensionOptions = {},
): Fragment | undefined {
  if (conditions.length === 0) return undefined
  const parts = conditions.map((condition) => {
    let c = condition
    const d = whereDimension(dialect, c.dimension, options)
    if (d.kind !== 'member') {
      throw InputError.single({
        field: 'where',
        value: c.dimension,
        reason: 'filters apply to member fields only',
      })
    }
    const v = d.expr('registrations', 's', 'm')
    // A province named in English matches the ways Chinese data writes it (Zhejiang → 浙江, 浙江省).
    const english = c.dimension === 'region' ? c.values.map(regionWritings) : []
    if (english.some((w) => w !== undefined)) {
      const values = c.values.flatMap((x, i) => english[i] ?? [x])
      c = { ...c, op: c.op === '=' || c.op === 'in' ? 'in' : 'not in', values }
    }
    const list = join(c.values.map((x) => sql`${x}`))
    switch (c.op) {
      case '=':
        return sql`${v} = ${c.values[0] ?? ''}`
      case '!=':
        return sql`${v} IS DISTINCT FROM ${c.values[0] ?? ''}`
      case 'in':
        return sql`${v} IN (${list})`
      case 'not in':
        return sql`(${v} IS NULL OR ${v} NOT IN (${list}))`
      default: {
        const _exhaustive: never = c.op
        throw new Error(`unknown operator ${String(_exhaustive)}`)
      }
    }
  })
  return join(parts, ' AND ')
}
