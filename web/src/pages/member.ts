/**
 * Member 360, as a person reads it: a header card (who, tier, lifecycle stage, churn-risk score with its
 * reasons in words, predicted CLV, P(alive), points and the points that expire next), the profile as labelled
 * rows in the page's language (attributes as key/value rows, consent as ✓/✗ with words), identities,
 * purchases, and the timeline grouped by day with a filter by kind. Search by member id or any identity
 * (phone, e-mail, WeChat unionid, card number, …, or `type:value`).
 */
import type { components } from '../generated/api'
import { lang, t } from '../i18n'
import { ApiError, app, clear, client, coded, el, format, named, ok, type Name } from '../ui'

type Member360 = components['schemas']['Member360']
type TimelineItem = Member360['timeline'][number]

/** The score from which the glossary calls a member "high churn risk". */
const HIGH_RISK = 0.5

/** Timeline kinds in the order of the filter buttons. */
const KINDS = ['order', 'return', 'feedback', 'touch', 'events', 'points'] as const

/** Attribute keys that name the member (shown in the header, masked below the operator role). */
const NAME_KEY = /^(name|nickname|nick|real_?name|full_?name|姓名|名字|昵称)$/i

const MISSING = '–'
const text = (v: unknown): string =>
  v === null || v === undefined || v === '' ? MISSING : String(v as string | number)
/** `YYYY-MM-DD hh:mm[:ss]` or ISO 8601 → `YYYY-MM-DD hh:mm`. */
const minute = (v: unknown): string =>
  typeof v === 'string' && v.length >= 16 ? v.replace('T', ' ').slice(0, 16) : text(v)
const day = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 10) : text(v))

/**
 * An identity value as shown: phones as stored carry their country code without the `+` (8613800138000), so
 * they are shown with it (+8613800138000), which a search accepts as it is.
 */
const identityText = (type: unknown, v: unknown): string =>
  type === 'phone' && typeof v === 'string' && /^\d/.test(v) ? `+${v}` : text(v)

/** A labelled row. */
const row = (label: string, value: Node | string, key?: string) =>
  el('tr', key ? { 'data-field': key } : {}, el('th', { scope: 'row' }, label), el('td', {}, value))

/** One consent as ✓ or ✗ with words. */
function consent(channel: string, v: unknown): HTMLElement {
  const yes = v === true
  const no = v === false
  return el(
    'span',
    { class: `consent ${yes ? 'yes' : no ? 'no' : 'unknown'}` },
    el('span', { 'aria-hidden': 'true' }, yes ? '✓' : no ? '✗' : '?'),
    ` ${t(`channel.${channel}`)} · ${t(yes ? 'consent.yes' : no ? 'consent.no' : 'consent.unknown')}`,
  )
}

/**
 * An attribute value in words: known codes of a known key in the page's language (e.g. source referral), other
 * text as is, yes/no for booleans, lists joined, objects as key: value.
 */
function attributeValue(v: unknown, key: string): string {
  if (v === null || v === undefined) return MISSING
  if (typeof v === 'boolean') return t(v ? 'yes' : 'no')
  if (Array.isArray(v)) return v.map((x) => attributeValue(x, key)).join('、')
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${coded('attr', k)}: ${attributeValue(x, k)}`)
      .join(' · ')
  return typeof v === 'string' ? coded(`attrValue.${key}`, v) : String(v as number)
}

/** The member's free-form attributes (JSON text or an object) as entries; text that is not JSON is one entry. */
function attributes(raw: unknown): [string, unknown][] {
  if (raw === null || raw === undefined || raw === '') return []
  let v: unknown = raw
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw)
    } catch {
      return [['note', raw]]
    }
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.entries(v as Record<string, unknown>)
    : [['note', v]]
}

/** An identifier from the data (an order, a return, a campaign): shown as is, in every language. */
const id = (v: string | undefined) => (v === undefined ? undefined : el('code', { class: 'id' }, v))

/**
 * A ledger entry's reason in words. The ledger writes a rule's code (`spend`, a bonus kind) or a sentence
 * with ids in it (`return R1 of order O1`, `spend (campaign C1)`, `reward W1 × 2`); those are read into the
 * page's language with the ids as they are. Other text (an operator's adjustment note) is shown as written.
 */
function pointsReason(reason: string): string | Node {
  const words = (...parts: (string | Node)[]) => el('span', {}, ...parts)
  let m = /^return (\S+) of order (\S+)$/.exec(reason)
  if (m)
    return words(
      `${t('pointsReason.return')} `,
      id(m[1]) ?? '',
      ` ${t('ofOrder')} `,
      id(m[2]) ?? '',
    )
  m = /^spend \(campaign (\S+)\)$/.exec(reason)
  if (m) return words(`${t('pointsReason.spendCampaign')} `, id(m[1]) ?? '')
  m = /^reward (\S+) × (\d+)$/.exec(reason)
  if (m) return words(`${t('pointsReason.reward')} `, id(m[1]) ?? '', ` × ${m[2]}`)
  return coded('pointsReason', reason)
}

/** A timeline item in words, from its named parts (the API's `facts`), in the page's language. */
function describe(x: TimelineItem): (string | Node)[] {
  const f = x.facts ?? {}
  const s = (k: string) => (f[k] === undefined ? undefined : String(f[k]))
  const word = (prefix: string, k: string) => {
    const v = s(k)
    return v === undefined ? undefined : coded(prefix, v)
  }
  const parts: (string | Node | undefined)[] = []
  switch (x.kind) {
    case 'order':
      parts.push(id(s('order_id')), word('channel', 'channel'), word('orderStatus', 'status'))
      break
    case 'return':
      parts.push(id(s('return_id')))
      if (s('order_id') !== undefined)
        parts.push(el('span', {}, `${t('ofOrder')} `, id(s('order_id')) ?? ''))
      break
    case 'feedback':
      parts.push(word('feedback', 'kind'))
      if (f['score'] !== undefined)
        parts.push(`${t('score')} ${format(Number(f['score']), 'count')}`)
      break
    case 'touch':
      parts.push(word('touch', 'kind'), id(s('campaign_id')), word('channel', 'channel'))
      parts.push(word('group', 'group'))
      break
    case 'events':
      parts.push(
        t('eventsLine')
          .replace('{n}', format(Number(f['count'] ?? 0), 'count'))
          .replace(
            '{types}',
            (s('types') ?? '')
              .split(',')
              .filter((e) => e !== '')
              .map((e) => coded('event', e))
              .join(lang() === 'zh' ? '、' : ', '),
          ),
      )
      break
    case 'points': {
      parts.push(word('entry', 'kind'))
      // The ledger's reason: a rule id or a sentence; the known ones in words, the default for expiry left out.
      const reason = s('reason')
      if (reason && reason !== 'points expired') parts.push(pointsReason(reason))
      break
    }
    default:
      return [x.detail]
  }
  const out = parts.filter((p): p is string | Node => p !== undefined && p !== '')
  if (out.length === 0) return [x.detail]
  return out.flatMap((p, i) => (i === 0 ? [p] : [' · ', p]))
}

/** The header card: who, tier, stage, risk with its reasons, predicted value and points. */
function headerCard(p: Member360): HTMLElement {
  const id = text(p.member['memberId'])
  const nameEntry = attributes(p.member['attributes']).find(([k]) => NAME_KEY.test(k))
  const phoneRow = p.identities.find((i) => i['identityType'] === 'phone')
  const phone = phoneRow ? identityText('phone', phoneRow['identityValue']) : undefined
  const who = [nameEntry ? attributeValue(nameEntry[1], nameEntry[0]) : undefined, phone]
    .filter((x): x is string => x !== undefined)
    .join(' · ')
  const badges = el(
    'div',
    { class: 'badges' },
    p.loyalty ? el('span', { class: 'badge tier', 'data-badge': 'tier' }, tierName(p.loyalty)) : '',
    p.lifecycle
      ? el(
          'span',
          { class: `badge stage ${p.lifecycle.stage}`, 'data-badge': 'stage' },
          `${t('lifecycleStage')}: ${named(p.lifecycle.name, p.lifecycle.stage)}`,
        )
      : '',
    p.risk
      ? el(
          'span',
          {
            class: `badge risk ${p.risk.score >= HIGH_RISK ? 'high' : 'low'}`,
            'data-badge': 'risk',
          },
          t(p.risk.score >= HIGH_RISK ? 'riskHigh' : 'riskLow'),
        )
      : '',
  )
  const kpi = (key: string, label: string, value: string, sub?: Node | string) =>
    el(
      'div',
      { class: 'kpi', 'data-kpi': key },
      el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, value),
      sub ? el('div', { class: 'sub' }, sub) : '',
    )
  const r = p.risk
  const expiry = p.loyalty?.nextExpiry ?? null
  const kpis = el(
    'div',
    { class: 'kpis' },
    kpi(
      'risk',
      t('churnRiskScore'),
      r ? format(r.score, 'ratio') : MISSING,
      r
        ? r.reasons.length > 0
          ? el(
              'ul',
              { class: 'reasons', 'aria-label': t('reasons') },
              ...r.reasons.map((c) => el('li', {}, coded('reason', c))),
            )
          : t('noReasons')
        : t('noRiskRunShort'),
    ),
    kpi(
      'clv',
      t('clv'),
      p.clv ? format(p.clv.clv, 'currency') : MISSING,
      p.clv ? '' : t('noClvRunShort'),
    ),
    kpi('pAlive', t('pAlive'), p.clv ? format(p.clv.pAlive, 'ratio') : MISSING),
    kpi(
      'points',
      t('pointsBalance'),
      p.loyalty ? format(p.loyalty.balance, 'points') : MISSING,
      p.loyalty ? '' : t('noLoyaltyShort'),
    ),
    kpi(
      'expiring',
      t('pointsExpiring'),
      expiry ? format(expiry.points, 'points') : p.loyalty ? '0' : MISSING,
      expiry ? `${t('expiresOn')} ${day(expiry.at)}` : '',
    ),
  )
  return el(
    'section',
    { class: 'member-card', id: 'member-card', 'aria-label': `${t('member')} ${id}` },
    el('h2', {}, `${t('member')} ${id}`),
    who ? el('p', { class: 'who', id: 'member-who' }, who) : '',
    badges,
    kpis,
  )
}

/** A tier in words: its name in the program file (in the page's language), else its id. */
function tierName(l: { tier: string; tierName?: Name }): string {
  return named(l.tierName, l.tier)
}

/** The profile as labelled rows: registration, region, birthday, gender, attributes, consent. */
function profile(p: Member360): HTMLElement {
  const m = p.member
  const rows: HTMLTableRowElement[] = [
    row(t('field.registeredAt'), minute(m['registeredAt']), 'registeredAt'),
    row(
      t('field.registrationChannel'),
      m['registrationChannel'] ? coded('channel', String(m['registrationChannel'])) : MISSING,
      'registrationChannel',
    ),
    row(t('field.region'), text(m['region']), 'region'),
    row(t('field.city'), text(m['city']), 'city'),
    row(t('field.birthday'), text(m['birthday']), 'birthday'),
    row(t('field.gender'), m['gender'] ? coded('gender', String(m['gender'])) : MISSING, 'gender'),
    ...attributes(m['attributes']).map(([k, v]) =>
      row(coded('attr', k), attributeValue(v, k), `attr.${k}`),
    ),
    row(
      t('field.consent'),
      el(
        'span',
        { class: 'consents' },
        ...(['sms', 'email', 'wechat', 'push'] as const).map((c) =>
          consent(c, m[`consent${c[0]?.toUpperCase() ?? ''}${c.slice(1)}`]),
        ),
      ),
      'consent',
    ),
  ]
  return el('table', { class: 'fields', id: 'member-profile' }, el('tbody', {}, ...rows))
}

function identities(p: Member360): HTMLElement {
  if (p.identities.length === 0) return el('p', { class: 'notice empty' }, t('noIdentities'))
  return el(
    'table',
    { class: 'fields', id: 'member-identities' },
    el(
      'tbody',
      {},
      ...p.identities.map((i) =>
        row(
          coded('identity', String(i['identityType'])),
          [
            identityText(i['identityType'], i['identityValue']),
            i['sourceChannel'] ? coded('channel', String(i['sourceChannel'])) : undefined,
            i['firstSeenAt'] ? `${t('firstSeen')} ${day(i['firstSeenAt'])}` : undefined,
          ]
            .filter((x): x is string => x !== undefined)
            .join(' · '),
        ),
      ),
    ),
  )
}

function purchases(p: Member360): HTMLElement {
  const x = p.purchases
  return el(
    'table',
    { class: 'fields', id: 'member-purchases' },
    el(
      'tbody',
      {},
      row(t('field.orders'), format(x.orders, 'orders'), 'orders'),
      row(t('field.netAmount'), format(x.netAmount, 'currency'), 'netAmount'),
      row(t('field.returnsAmount'), format(x.returnsAmount, 'currency'), 'returnsAmount'),
      row(t('field.firstOrderAt'), minute(x.firstOrderAt), 'firstOrderAt'),
      row(t('field.lastOrderAt'), minute(x.lastOrderAt), 'lastOrderAt'),
      row(t('field.medianGapDays'), format(x.medianGapDays, 'days'), 'medianGapDays'),
      row(t('field.p90GapDays'), format(x.p90GapDays, 'days'), 'p90GapDays'),
    ),
  )
}

/** Stage, tier, risk class and playbook, signals. */
function status(p: Member360): HTMLElement {
  const r = p.risk
  const high = r !== null && r.score >= HIGH_RISK
  const signals = r
    ? r.signals
        .map((s) => {
          const d = s === 'points_expiring' ? r.signalDetails?.points_expiring : undefined
          return d
            ? `${coded('signal', s)} (${format(d.points, 'points')} ${t('points')} · ${day(d.firstExpiresAt)})`
            : coded('signal', s)
        })
        .join('、') || t('none')
    : MISSING
  return el(
    'table',
    { class: 'fields', id: 'member-status' },
    el(
      'tbody',
      {},
      row(
        t('lifecycleStage'),
        p.lifecycle
          ? `${named(p.lifecycle.name, p.lifecycle.stage)} (${t('asOf')} ${p.lifecycle.asOf})`
          : MISSING,
      ),
      row(
        t('tier'),
        p.loyalty
          ? `${tierName(p.loyalty)}${p.loyalty.tierSince ? ` (${t('since')} ${day(p.loyalty.tierSince)})` : ''} · ${format(p.loyalty.balance, 'points')} ${t('points')}`
          : MISSING,
      ),
      row(
        t('churnRiskScore'),
        r ? `${format(r.score, 'ratio')} · ${t(high ? 'riskHigh' : 'riskLow')}` : MISSING,
      ),
      row(t('churnClass'), r && high ? coded('class', r.churnClass) : MISSING),
      row(t('playbook'), r && high ? coded('playbook', r.churnClass) : MISSING),
      row(t('signals'), signals),
    ),
  )
}

function predicted(p: Member360): HTMLElement[] {
  if (!p.clv) return []
  return [
    el('h2', {}, t('predicted')),
    el(
      'table',
      { class: 'fields', id: 'member-clv' },
      el(
        'tbody',
        {},
        row(t('pAlive'), format(p.clv.pAlive, 'ratio')),
        row(t('expectedPurchases'), format(p.clv.expectedPurchases, 'per_member')),
        row(t('clv'), format(p.clv.clv, 'currency')),
      ),
    ),
  ]
}

/** The timeline grouped by day (UTC), newest first, with a button per kind that shows only that kind. */
function timeline(p: Member360): HTMLElement[] {
  if (p.timeline.length === 0) return [el('p', { class: 'notice empty' }, t('noTimeline'))]
  const list = el('div', { id: 'member-timeline' })
  const counts = new Map<string, number>()
  for (const x of p.timeline) counts.set(x.kind, (counts.get(x.kind) ?? 0) + 1)
  const buttons = ['all', ...KINDS.filter((k) => counts.has(k))].map((k) =>
    el(
      'button',
      {
        type: 'button',
        class: 'filter',
        'data-kind': k,
        'aria-pressed': k === 'all' ? 'true' : 'false',
      },
      `${t(`timeline.${k}`)} (${format(k === 'all' ? p.timeline.length : (counts.get(k) ?? 0), 'count')})`,
    ),
  )
  const draw = (kind: string) => {
    const items = p.timeline.filter((x) => kind === 'all' || x.kind === kind)
    const days = new Map<string, TimelineItem[]>()
    for (const x of items) days.set(day(x.at), [...(days.get(day(x.at)) ?? []), x])
    list.replaceChildren(
      ...[...days].map(([d, xs]) =>
        el(
          'section',
          { class: 'day', 'data-day': d },
          el('h3', {}, dayLabel(d)),
          el(
            'ul',
            {},
            ...xs.map((x) =>
              el(
                'li',
                { class: `item ${x.kind}`, 'data-kind': x.kind, 'data-at': x.at },
                el('time', { datetime: x.at }, x.at.slice(11, 16)),
                el('span', { class: `kind ${x.kind}` }, t(`timeline.${x.kind}`)),
                el('span', { class: 'detail' }, ...describe(x)),
                x.amount === null
                  ? ''
                  : el(
                      'span',
                      { class: 'amount num' },
                      x.kind === 'points'
                        ? `${format(x.amount, 'points_delta')} ${t('points')}`
                        : format(x.amount, 'currency'),
                    ),
              ),
            ),
          ),
        ),
      ),
    )
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset['kind'] === kind))
  }
  for (const b of buttons) b.addEventListener('click', () => draw(b.dataset['kind'] ?? 'all'))
  draw('all')
  return [
    el(
      'div',
      { class: 'controls timeline-filters', role: 'group', 'aria-label': t('kind') },
      ...buttons,
    ),
    list,
  ]
}

/** A day heading: the date and its weekday in the page's language. */
/**
 * The member's tags: the latest month as chips grouped by tag group, then every month's tags as a table
 * (month, group, tag, source), so that a change of tag shows.
 */
function memberTags(p: Member360): HTMLElement {
  if (p.tags.length === 0) return el('p', { class: 'hint', id: 'member-tags' }, t('memberTagsNone'))
  const latest = p.tags[0]?.period
  const chips = p.tags
    .filter((x) => x.period === latest)
    .map((x) =>
      el(
        'span',
        {
          class: 'badge tag',
          'data-tag': `${x.group}:${x.tag}`,
          title: named(x.groupName, x.group),
        },
        `${named(x.groupName, x.group)} · ${named(x.tagName, x.tag)}`,
      ),
    )
  const rows = p.tags.map((x) =>
    el(
      'tr',
      {},
      el('td', {}, x.period),
      el('td', {}, named(x.groupName, x.group)),
      el('td', {}, named(x.tagName, x.tag)),
      el(
        'td',
        {},
        `${t(`tagSource.${x.source}`)}${x.sourceDetail === null ? '' : ` (${x.sourceDetail})`}`,
      ),
    ),
  )
  return el(
    'section',
    { id: 'member-tags' },
    el('p', { class: 'tags' }, `${latest ?? ''}: `, ...chips),
    el(
      'table',
      { id: 'member-tag-history' },
      el('caption', { class: 'visually-hidden' }, t('memberTags')),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...[t('tagPeriod'), t('group'), t('tag'), t('tagSource')].map((h) =>
            el('th', { scope: 'col' }, h),
          ),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  )
}

function dayLabel(d: string): string {
  const date = new Date(`${d}T00:00:00Z`)
  if (Number.isNaN(date.getTime())) return d
  const weekday = new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en-US', {
    weekday: 'short',
    timeZone: 'UTC',
  }).format(date)
  return `${d} ${weekday}`
}

// Member 360: search by member id, phone, email, WeChat unionid or card.
export async function member(query?: string): Promise<void> {
  clear()
  const input = el('input', {
    id: 'member-query',
    placeholder: t('memberSearch'),
    'aria-label': t('memberSearch'),
    value: query ?? '',
  })
  const button = el('button', { id: 'member-search', type: 'button' }, t('search'))
  const result = el('div', { id: 'member-result' })
  const search = async () => {
    const q = input.value.trim()
    if (q === '') {
      result.replaceChildren(el('p', { class: 'notice empty' }, t('memberSearchHint')))
      return
    }
    result.replaceChildren(el('p', { class: 'loading' }, t('loading')))
    try {
      const p = await ok(
        client.GET('/api/v1/members/{query}', {
          params: { path: { query: q }, query: { timeline: 200 } },
        }),
      )
      result.replaceChildren(
        headerCard(p),
        el('h2', {}, t('profile')),
        profile(p),
        el('h2', {}, t('identities') + (p.masked ? ` (${t('masked')})` : '')),
        identities(p),
        el('h2', {}, t('purchases')),
        purchases(p),
        el('h2', {}, t('memberStatus')),
        status(p),
        ...predicted(p),
        el('h2', {}, t('memberTags')),
        memberTags(p),
        el('h2', {}, t('timeline')),
        ...timeline(p),
      )
    } catch (e) {
      // No member for the query is an answer, not a failure.
      const missing = e instanceof ApiError && e.status === 404
      result.replaceChildren(
        el(
          'p',
          missing
            ? { class: 'notice empty', role: 'status' }
            : { class: 'notice error', role: 'alert' },
          missing
            ? `${t('memberNotFound')}: ${q}`
            : `${t('error')}: ${e instanceof Error ? e.message : String(e)}`,
        ),
      )
    }
  }
  button.addEventListener('click', () => void search())
  input.addEventListener('keydown', (e) => e.key === 'Enter' && void search())
  app.append(
    el('h1', {}, t('nav.member')),
    el('div', { class: 'controls' }, input, button),
    el('p', { class: 'hint' }, t('memberSearchHint')),
    result,
  )
  if (query) await search()
}
