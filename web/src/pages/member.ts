/**
 * Member 360: search by member id, phone, email or card; profile, identities, purchases, points and tier,
 * lifecycle stage, churn risk with its reasons, predicted value, and the timeline.
 */
import { t } from '../i18n'
import { api, app, clear, el, format, named, table, type Name } from '../ui'

// Member 360: search by member id, phone, email or card.
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
    result.replaceChildren(el('p', { class: 'loading' }, t('loading')))
    try {
      const p = await api<{
        member: Record<string, unknown>
        identities: Record<string, unknown>[]
        purchases: Record<string, number | string | null>
        clv: { pAlive: number; expectedPurchases: number; clv: number } | null
        loyalty: { balance: number; tier: string; tierSince?: string | null } | null
        lifecycle: { stage: string; name?: Name; asOf: string; daysSinceLast: number | null } | null
        risk: {
          score: number
          reasons: string[]
          signals: string[]
          signalDetails?: { points_expiring?: { points: number; firstExpiresAt: string } }
          churnClass: string
          playbook: string
        } | null
        timeline: { at: string; kind: string; detail: string; amount: number | null }[]
        masked: boolean
      }>(`/api/v1/members/${encodeURIComponent(input.value.trim())}`)
      const kv = (k: string, v: unknown) =>
        el('tr', {}, el('th', {}, k), el('td', {}, v === null || v === undefined ? '–' : String(v)))
      result.replaceChildren(
        el('h2', {}, `${t('member')} ${String(p.member['memberId'])}`),
        el(
          'table',
          {},
          ...Object.entries(p.member)
            .filter(([, v]) => v !== null)
            .map(([k, v]) => kv(k, v)),
        ),
        el('h2', {}, t('identities') + (p.masked ? ` (${t('masked')})` : '')),
        el(
          'table',
          {},
          ...p.identities.map((i) =>
            kv(
              String(i['identityType']),
              `${String(i['identityValue'])} · ${String(i['firstSeenAt'] ?? '')}`,
            ),
          ),
        ),
        el('h2', {}, t('purchases')),
        el('table', {}, ...Object.entries(p.purchases).map(([k, v]) => kv(k, v))),
        el('h2', {}, t('memberStatus')),
        el(
          'table',
          { id: 'member-status' },
          kv(
            t('lifecycle'),
            p.lifecycle
              ? `${named(p.lifecycle.name, p.lifecycle.stage)} (${p.lifecycle.asOf})`
              : null,
          ),
          kv(
            t('tier'),
            p.loyalty
              ? `${p.loyalty.tier} · ${format(p.loyalty.balance, 'count')} ${t('points')}`
              : null,
          ),
          kv(
            t('riskScore'),
            p.risk ? `${format(p.risk.score, 'ratio')} · ${p.risk.churnClass}` : null,
          ),
          kv(t('reasons'), p.risk ? p.risk.reasons.join(', ') : null),
          kv(
            t('signals'),
            p.risk
              ? p.risk.signals
                  .map((s) => {
                    // points_expiring carries the amount and the earliest expiry date.
                    const d =
                      s === 'points_expiring' ? p.risk?.signalDetails?.points_expiring : undefined
                    return d
                      ? `${s} (${format(d.points, 'count')} ${t('points')} · ${d.firstExpiresAt.slice(0, 10)})`
                      : s
                  })
                  .join(', ') || '–'
              : null,
          ),
          kv(t('playbook'), p.risk?.playbook ?? null),
        ),
        ...(p.clv
          ? [
              el('h2', {}, t('predicted')),
              el(
                'table',
                { id: 'member-clv' },
                kv(t('pAlive'), format(p.clv.pAlive, 'ratio')),
                kv(t('expectedPurchases'), format(p.clv.expectedPurchases, 'per_member')),
                kv(t('clv'), format(p.clv.clv, 'currency')),
              ),
            ]
          : []),
        el('h2', {}, t('timeline')),
        p.timeline.length === 0
          ? el('p', { class: 'notice empty' }, t('empty'))
          : table(
              'member-timeline',
              t('timeline'),
              [t('time'), t('kind'), t('detail'), t('amount')],
              p.timeline.map((x) => [
                x.at.replace('T', ' ').replace('Z', ''),
                x.kind,
                x.detail,
                x.amount === null
                  ? ''
                  : format(x.amount, x.kind === 'points' ? 'count' : 'currency'),
              ]),
              [3],
            ),
      )
    } catch (e) {
      result.replaceChildren(
        el('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)),
      )
    }
  }
  button.addEventListener('click', () => void search())
  input.addEventListener('keydown', (e) => e.key === 'Enter' && void search())
  app.append(el('h1', {}, t('nav.member')), el('div', { class: 'controls' }, input, button), result)
  if (query) await search()
}
