/**
 * The canonical data model (DOMAIN §1), defined once.
 *
 * Each table lists its fields with a closed set of logical types. Everything else is derived from this one
 * definition: the DDL of every dialect (`engine/sql/ddl.ts`, `engine/clickhouse/schema.ts`), the ingest parsing
 * and checks (`ingest/fields.ts`, `ingest/typed-stage.ts`) and the zod row schemas used for JSON batches
 * (`rowSchema`). Money is exact (`DECIMAL(18,4)`), timestamps are UTC.
 * @module
 */
import { z } from 'zod'

/** The identity types a source record can carry; any of them links the record to a member. */
export const IDENTITY_TYPES = [
  'phone',
  'email',
  'wechat_unionid',
  'card_no',
  'app_user_id',
  'pos_customer_id',
  'customer_id',
] as const
export type IdentityType = (typeof IDENTITY_TYPES)[number]

export const ORDER_STATUSES = ['paid', 'cancelled', 'refunded', 'partially_refunded'] as const
export const FEEDBACK_KINDS = [
  'nps',
  'csat',
  'review',
  'complaint',
  'suggestion',
  'support_ticket',
  'social_comment',
  'message_board',
] as const
export const TOUCH_CHANNELS = ['sms', 'email', 'wechat', 'push', 'app'] as const
export const TREATMENT_GROUPS = ['treatment', 'holdout'] as const
export const GENDERS = ['female', 'male', 'other', 'unknown'] as const

/** Logical field types. `money` is DECIMAL(18,2); `timestamp` is a UTC instant. */
export type FieldType =
  | { readonly kind: 'string' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'integer' }
  | { readonly kind: 'bigint' }
  | { readonly kind: 'number' }
  | { readonly kind: 'money' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'date' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'json' }

export interface FieldDef {
  readonly name: string
  readonly type: FieldType
  /** Required in every stored row. */
  readonly required: boolean
  /** Rejects negative values (numeric kinds only). */
  readonly nonNegative?: boolean
  /** Inclusive numeric range. */
  readonly range?: readonly [number, number]
  /** Filled by memberlens during ingest, never read from a source file (e.g. the resolved member_id). */
  readonly derived?: boolean
  /** Value used when the source has no such column or leaves it blank. */
  readonly default?: string
  readonly description: string
}

/**
 * How a table's rows refer to a member:
 * - `none`: the table is not about one member (acquisition_spend, visitors);
 * - `owner`: the row *is* a member (members): identities create or update it;
 * - `reference`: the row belongs to a member found through identities or an existing member_id;
 * - `via-order`: the member comes from the referenced order (order_items, returns).
 */
export type MemberLink = 'none' | 'owner' | 'reference' | 'via-order'

export interface TableDef {
  readonly name: TableName
  readonly description: string
  readonly fields: readonly FieldDef[]
  /** Primary key fields (after resolution; may include member_id). */
  readonly key: readonly string[]
  readonly memberLink: MemberLink
  /** The timestamp used for "first seen" when this table creates members or identities. */
  readonly timeField?: string
  /** Channel field copied to identities.source_channel when this table introduces an identity. */
  readonly channelField?: string
}

const string = { kind: 'string' } as const
const integer = { kind: 'integer' } as const
const bigint = { kind: 'bigint' } as const
const number = { kind: 'number' } as const
const money = { kind: 'money' } as const
const timestamp = { kind: 'timestamp' } as const
const date = { kind: 'date' } as const
const boolean = { kind: 'boolean' } as const
const json = { kind: 'json' } as const
const oneOf = (values: readonly string[]): FieldType => ({ kind: 'enum', values })

function field(
  name: string,
  type: FieldType,
  description: string,
  opts: Partial<Pick<FieldDef, 'required' | 'nonNegative' | 'range' | 'derived' | 'default'>> = {},
): FieldDef {
  return { name, type, description, required: opts.required ?? false, ...opts }
}
const req = { required: true } as const

const memberIdField = field('member_id', bigint, 'resolved member (identity resolution)', {
  required: true,
  derived: true,
})

export const TABLE_NAMES = [
  'members',
  'identities',
  'member_merges',
  'shared_identities',
  'orders',
  'order_items',
  'returns',
  'events',
  'feedback',
  'touches',
  'experiments',
  'subscriptions',
  'acquisition_spend',
  'visitors',
  'coupons',
  'loads',
] as const
export type TableName = (typeof TABLE_NAMES)[number]

/**
 * Tables a user loads with `memberlens ingest`, in the order a full load takes them (members first, so later
 * files link to them). identities, member_merges and loads are maintained by memberlens.
 */
export const INGEST_TABLES = [
  'members',
  'orders',
  'order_items',
  'returns',
  'events',
  'feedback',
  'touches',
  'experiments',
  'subscriptions',
  'acquisition_spend',
  'visitors',
  'coupons',
] as const satisfies readonly TableName[]
export type IngestTable = (typeof INGEST_TABLES)[number]

export const TABLES: Readonly<Record<TableName, TableDef>> = {
  members: {
    name: 'members',
    description: 'One row per resolved member.',
    memberLink: 'owner',
    timeField: 'registered_at',
    channelField: 'registration_channel',
    key: ['member_id'],
    fields: [
      memberIdField,
      field('registered_at', timestamp, 'registration time (UTC)', req),
      field(
        'registration_channel',
        string,
        'channel of registration (app, web, store, mini_program…)',
      ),
      field('region', string, 'region or province'),
      field('city', string, 'city'),
      field('birthday', date, 'date of birth'),
      field('gender', oneOf(GENDERS), 'gender'),
      field('attributes', json, 'free-form member attributes (JSON object)'),
      field('consent_sms', boolean, 'may receive SMS'),
      field('consent_email', boolean, 'may receive email'),
      field('consent_wechat', boolean, 'may receive WeChat messages'),
      field('consent_push', boolean, 'may receive app push'),
    ],
  },
  identities: {
    name: 'identities',
    description: 'Every identity ever seen, mapped to its resolved member.',
    memberLink: 'none',
    key: ['identity_type', 'identity_value'],
    fields: [
      field('identity_type', oneOf(IDENTITY_TYPES), 'kind of identity', req),
      field('identity_value', string, 'normalised identity value', req),
      field('member_id', bigint, 'resolved member', req),
      field('source_channel', string, 'channel where the identity was first seen'),
      field('first_seen_at', timestamp, 'first time the identity was seen (UTC)'),
    ],
  },
  member_merges: {
    name: 'member_merges',
    description: 'Log of members merged because a record linked them.',
    memberLink: 'none',
    key: ['merge_id'],
    fields: [
      field('merge_id', bigint, 'sequence number of the merge', req),
      field('load_id', bigint, 'the load that caused the merge', req),
      field('from_member_id', bigint, 'member that was merged away', req),
      field('into_member_id', bigint, 'surviving member (the older one)', req),
      field('identity_type', oneOf(IDENTITY_TYPES), 'an identity of the record that linked them'),
      field('identity_value', string, 'its value'),
      field('source_file', string, 'file of the linking record'),
      field('source_line', bigint, 'line of the linking record'),
    ],
  },
  shared_identities: {
    name: 'shared_identities',
    description:
      'Identities kept on a member but not used to merge members: deny-listed or shared by too many members.',
    memberLink: 'none',
    key: ['identity_type', 'identity_value', 'member_id'],
    fields: [
      field('identity_type', oneOf(IDENTITY_TYPES), 'kind of identity', req),
      field('identity_value', string, 'normalised identity value', req),
      field('member_id', bigint, 'a member whose record carried it', req),
      field('reason', string, 'why it is not used to merge', req),
      field('load_id', bigint, 'the load that first held it back for this member', req),
      field('source_file', string, 'file of the first such record'),
      field('source_line', bigint, 'line of the first such record'),
    ],
  },
  orders: {
    name: 'orders',
    description: 'Orders from every channel; idempotent on order_id.',
    memberLink: 'reference',
    timeField: 'ordered_at',
    channelField: 'channel',
    key: ['order_id'],
    fields: [
      field('order_id', string, 'order id (unique)', req),
      memberIdField,
      field('ordered_at', timestamp, 'order time (UTC)', req),
      field('channel', string, 'sales channel (app, web, store, mini_program…)', req),
      field('store_id', string, 'store for offline orders'),
      field('gross_amount', money, 'amount before discounts', { nonNegative: true }),
      field('discount_amount', money, 'discounts and coupons', { nonNegative: true }),
      field('net_amount', money, 'amount paid', { required: true, nonNegative: true }),
      field('currency', string, 'ISO 4217 currency code'),
      field('status', oneOf(ORDER_STATUSES), 'paid, cancelled, refunded or partially_refunded', {
        required: true,
        default: 'paid',
      }),
      field('coupon_id', string, 'coupon used'),
      field('points_used', integer, 'loyalty points used as payment', { nonNegative: true }),
    ],
  },
  order_items: {
    name: 'order_items',
    description: 'Lines of an order (optional).',
    memberLink: 'via-order',
    key: ['order_id', 'line_no'],
    fields: [
      field('order_id', string, 'order of the line', req),
      field('line_no', integer, 'line number within the order', req),
      field('sku', string, 'product id', req),
      field('category', string, 'product category'),
      field('quantity', integer, 'units', { required: true, nonNegative: true }),
      field('unit_price', money, 'price per unit', { required: true, nonNegative: true }),
    ],
  },
  returns: {
    name: 'returns',
    description: 'Returns and refunds (退换货).',
    memberLink: 'via-order',
    timeField: 'returned_at',
    key: ['return_id'],
    fields: [
      field('return_id', string, 'return id (unique)', req),
      field('order_id', string, 'order returned (may be empty when the source does not link it)'),
      memberIdField,
      field('returned_at', timestamp, 'time of the return (UTC)', req),
      field('amount', money, 'refunded amount', { required: true, nonNegative: true }),
      field('reason', string, 'reason given'),
    ],
  },
  events: {
    name: 'events',
    description: 'Behaviour events (login, session_start, page_view, check_in, …).',
    memberLink: 'reference',
    timeField: 'ts',
    channelField: 'channel',
    key: ['event_id'],
    fields: [
      field('event_id', string, 'event id (unique)', req),
      memberIdField,
      field('ts', timestamp, 'event time (UTC)', req),
      field('event_type', string, 'login, session_start, page_view, check_in, …', req),
      field('session_id', string, 'session id when the source has one'),
      field('duration_s', number, 'duration in seconds', { nonNegative: true }),
      field('channel', string, 'channel (app, web, mini_program, store…)'),
      field('properties', json, 'event properties (JSON object)'),
    ],
  },
  feedback: {
    name: 'feedback',
    description: 'NPS, CSAT, reviews, complaints, tickets and comments.',
    memberLink: 'reference',
    timeField: 'ts',
    channelField: 'channel',
    key: ['feedback_id'],
    fields: [
      field('feedback_id', string, 'feedback id (unique)', req),
      memberIdField,
      field('ts', timestamp, 'time (UTC)', req),
      field('kind', oneOf(FEEDBACK_KINDS), 'nps, csat, review, complaint, …', req),
      field('score', number, 'NPS 0–10, CSAT and reviews 1–5', { range: [0, 10] }),
      field('text', string, 'free text'),
      field('channel', string, 'channel'),
    ],
  },
  touches: {
    name: 'touches',
    description: 'Campaign touches (marketing automation), including holdout members not sent.',
    memberLink: 'reference',
    timeField: 'sent_at',
    key: ['campaign_id', 'member_id', 'sent_at'],
    fields: [
      field('campaign_id', string, 'campaign', req),
      memberIdField,
      field('channel', oneOf(TOUCH_CHANNELS), 'sms, email, wechat, push or app', req),
      field('kind', string, 'welcome, birthday, winback, promo, …', req),
      field('sent_at', timestamp, 'send time, or assignment time for holdout members (UTC)', req),
      field('offer', string, 'offer made'),
      field('cost', money, 'cost of the touch', { nonNegative: true }),
      field('treatment_group', oneOf(TREATMENT_GROUPS), 'treatment (sent) or holdout (not sent)', {
        required: true,
        default: 'treatment',
      }),
    ],
  },
  experiments: {
    name: 'experiments',
    description: 'A/B assignments.',
    memberLink: 'reference',
    timeField: 'assigned_at',
    key: ['experiment_id', 'member_id'],
    fields: [
      field('experiment_id', string, 'experiment', req),
      memberIdField,
      field('variant', string, 'variant (control, treatment, …)', req),
      field('assigned_at', timestamp, 'assignment time (UTC)', req),
    ],
  },
  subscriptions: {
    name: 'subscriptions',
    description: 'Paid-membership terms (续费).',
    memberLink: 'reference',
    timeField: 'started_at',
    key: ['member_id', 'plan', 'started_at'],
    fields: [
      memberIdField,
      field('plan', string, 'plan name', req),
      field('started_at', timestamp, 'start of the term (UTC)', req),
      field('ends_at', timestamp, 'end of the term (UTC)', req),
      field('renewed_at', timestamp, 'time the term was renewed, empty if not renewed'),
      field('price', money, 'price paid for the term', { required: true, nonNegative: true }),
    ],
  },
  acquisition_spend: {
    name: 'acquisition_spend',
    description: 'Spend on acquiring members, by period and channel.',
    memberLink: 'none',
    key: ['period_start', 'channel'],
    fields: [
      field('period_start', date, 'first day of the period', req),
      field('period_end', date, 'last day of the period', req),
      field('channel', string, 'acquisition channel', req),
      field('amount', money, 'spend', { required: true, nonNegative: true }),
    ],
  },
  visitors: {
    name: 'visitors',
    description:
      'Anonymous visitors by period and channel, as counted by web or app analytics (registration conversion).',
    memberLink: 'none',
    key: ['period_start', 'channel'],
    fields: [
      field('period_start', date, 'first day of the period', req),
      field('period_end', date, 'last day of the period', req),
      field('channel', string, 'channel the visitors came through (as registration_channel)', req),
      field('visitors', bigint, 'distinct visitors in the period who were not yet members', {
        required: true,
        nonNegative: true,
      }),
    ],
  },
  coupons: {
    name: 'coupons',
    description:
      'Coupons issued to members: one row per coupon, with its redemption (the order it was used on) when used.',
    memberLink: 'reference',
    timeField: 'issued_at',
    key: ['coupon_id'],
    fields: [
      field('coupon_id', string, 'coupon id (unique per issued coupon)', req),
      memberIdField,
      field('campaign_id', string, 'campaign or coupon programme that issued it', req),
      field('issued_at', timestamp, 'issue time (UTC)', req),
      field('face_value', money, 'value of the coupon', { required: true, nonNegative: true }),
      field('threshold', money, 'minimum order amount to use it (满减 threshold; empty: none)', {
        nonNegative: true,
      }),
      field('expires_at', timestamp, 'end of validity (UTC)'),
      field('redeemed_at', timestamp, 'time it was used, empty if not used (UTC)'),
      field('order_id', string, 'order it was used on, empty if not used'),
    ],
  },
  loads: {
    name: 'loads',
    description: 'One row per successful ingest of one file.',
    memberLink: 'none',
    key: ['load_id'],
    fields: [
      field('load_id', bigint, 'sequence number', req),
      field('table_name', string, 'canonical table loaded', req),
      field('source_file', string, 'file name', req),
      field('rows_read', bigint, 'rows in the file', req),
      field('rows_written', bigint, 'rows inserted or changed', req),
      field('rows_skipped', bigint, 'rows skipped by a documented rule', req),
      field('members_created', bigint, 'members created by this load', req),
      field('members_merged', bigint, 'members merged by this load', req),
      field('loaded_at', timestamp, 'time of the load (UTC)', req),
    ],
  },
}

/** Source columns that carry identities: one column per identity type, or an identity_type/identity_value pair. */
export const IDENTITY_SOURCE_FIELDS: readonly string[] = [
  ...IDENTITY_TYPES,
  'identity_type',
  'identity_value',
]

export function getTable(name: string): TableDef {
  if (!(TABLE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown table ${JSON.stringify(name)}`)
  }
  return TABLES[name as TableName]
}

export function isIngestTable(name: string): name is IngestTable {
  return (INGEST_TABLES as readonly string[]).includes(name)
}

/** Fields a source file may supply for a table (derived fields excluded; identity columns added where linked). */
export function sourceFields(table: TableDef): readonly string[] {
  const own = table.fields.filter((f) => !f.derived).map((f) => f.name)
  if (table.memberLink === 'owner' || table.memberLink === 'reference') {
    return [...own, 'member_id', ...IDENTITY_SOURCE_FIELDS]
  }
  if (table.name === 'returns') return [...own, ...IDENTITY_SOURCE_FIELDS]
  return own
}

function zodFor(f: FieldDef): z.ZodType {
  const t = f.type
  let s: z.ZodType
  switch (t.kind) {
    case 'string':
      s = z.string()
      break
    case 'enum':
      s = z.enum(t.values as [string, ...string[]])
      break
    case 'integer':
    case 'bigint':
      s = f.nonNegative ? z.number().int().nonnegative() : z.number().int()
      break
    case 'number':
    case 'money': {
      let n = z.number()
      if (f.nonNegative) n = n.nonnegative()
      if (f.range) n = n.min(f.range[0]).max(f.range[1])
      s = t.kind === 'money' ? z.union([n, z.string().regex(/^-?\d+(\.\d+)?$/)]) : n
      break
    }
    case 'timestamp':
      s = z.string().min(1)
      break
    case 'date':
      s = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)
      break
    case 'boolean':
      s = z.boolean()
      break
    case 'json':
      s = z.record(z.string(), z.unknown())
      break
    default: {
      const _exhaustive: never = t
      throw new Error(`unhandled field type ${JSON.stringify(_exhaustive)}`)
    }
  }
  return f.required && f.default === undefined ? s : s.nullish()
}

/** zod schema of one source row of a table (for JSON batches); unknown keys are rejected. */
export function rowSchema(table: TableDef): z.ZodObject {
  const shape: Record<string, z.ZodType> = {}
  for (const f of table.fields) {
    if (!f.derived) shape[f.name] = zodFor(f)
  }
  if (
    table.memberLink === 'owner' ||
    table.memberLink === 'reference' ||
    table.name === 'returns'
  ) {
    shape['member_id'] = z.number().int().positive().nullish()
    for (const id of IDENTITY_SOURCE_FIELDS) shape[id] = z.string().nullish()
  }
  return z.object(shape).strict()
}
