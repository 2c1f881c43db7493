/**
 * The `risk` and `clv renewals` commands in-process (`main`) on a small simulated database file: train,
 * score with an early-warning config file, list (table, CSV, JSON, by class, by CLV at risk), the
 * churn-class export with identities and consent, renewals, and the exit codes of bad input.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureLoyaltyTables } from '../../src/analytics/loyalty/sync.js'
import { findMemberRisk } from '../../src/analytics/risk/member-signals.js'
import { sql } from '../../src/engine/sql/fragment.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase } from '../../src/store/database.js'
import { ingestSimulated } from '../helpers/db.js'
import { runCli } from '../helpers/cli.js'

let dir: string
let db: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-risk-cli-'))
  db = join(dir, 'm.duckdb')
  const sim = await simulate(join(dir, 'data'), {
    members: 3000,
    months: 24,
    seed: 11,
    end: '2026-10-31',
  })
  const d = await openDatabase(db, { threads: 1 })
  await ingestSimulated(d.driver, sim.files)
  await d.close()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = (args: string[]) => runCli([...args, '--db', db])

interface Row {
  memberId: number
  score: number
  signals: string
  reasons: string
  churnClass: string
  playbook: string
  clv: number | null
  clvAtRisk: number | null
}

describe('risk CLI', () => {
  it('list before any scoring: not found, exit 3', async () => {
    const r = await run(['risk', 'list'])
    expect(r.code).toBe(3)
    expect(r.err).toMatch(/no risk-score run/)
  })

  it('train prints the evaluation against recency only; score reads the early-warning file', async () => {
    const trained = await run(['risk', 'train'])
    expect(trained.code).toBe(0)
    expect(trained.out).toMatch(/recency only/)
    expect(trained.out).toMatch(/Calibration by decile/)

    // noLoginDays beyond the data: nobody can raise no_login.
    const quiet = join(dir, 'quiet.yaml')
    await writeFile(quiet, 'noLoginDays: 100000\n')
    const a = await run(['risk', 'score', '--early-warning', quiet, '--json', '--top', '0'])
    expect(a.code).toBe(0)
    const sa = JSON.parse(a.out) as { signals: Record<string, number>; members: number }
    expect(sa.signals['no_login']).toBe(0)
    const b = await run(['risk', 'score', '--json', '--top', '3'])
    const sb = JSON.parse(b.out) as {
      signals: Record<string, number>
      members: number
      earlyWarning: { noLoginDays: number }
      top: Row[]
    }
    expect(sb.earlyWarning.noLoginDays).toBe(30)
    expect(sb.signals['no_login']).toBeGreaterThan(0)
    expect(sb.members).toBe(sa.members)
    expect(sb.top).toHaveLength(3)

    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, 'noLoginDays: -1\nsurprise: 1\n')
    const c = await run(['risk', 'score', '--early-warning', bad])
    expect(c.code).toBe(2)
    expect(c.err).toMatch(/noLoginDays/)
    expect(c.err).toMatch(/surprise/)
  })

  it('list: highest risk first, by class (underscores accepted), CSV, and by CLV at risk', async () => {
    const table = await run(['risk', 'list', '--top', '5'])
    expect(table.code).toBe(0)
    expect(table.out).toMatch(/no CLV run/)
    expect(table.out).toMatch(/reason codes/)
    expect(table.out.trim().split('\n')).toHaveLength(1 + 1 + 5)

    const byClass = JSON.parse(
      (await run(['risk', 'list', '--class', 'price_sensitive', '--json', '--top', '1000'])).out,
    ) as { rows: Row[] }
    expect(byClass.rows.length).toBeGreaterThan(0)
    for (const r of byClass.rows) {
      expect(r.churnClass).toBe('price-sensitive')
      expect(r.playbook).toBe('targeted discount')
    }
    const scores = byClass.rows.map((r) => r.score)
    expect(scores).toEqual([...scores].sort((x, y) => y - x))

    const csv = (await run(['risk', 'list', '--top', '2', '--csv'])).out.trim().split('\r\n')
    expect(csv[0]).toBe(
      'member_id,score,signals,reasons,churn_class,playbook,p_alive,clv,clv_at_risk',
    )
    expect(csv).toHaveLength(3)

    expect((await run(['risk', 'list', '--order', 'clv_at_risk'])).code).toBe(3)
    expect((await run(['clv', 'fit'])).code).toBe(0)
    const byValue = JSON.parse(
      (await run(['risk', 'list', '--order', 'clv_at_risk', '--min-score', '0.5', '--json'])).out,
    ) as { rows: Row[] }
    for (const r of byValue.rows) {
      expect(r.score).toBeGreaterThanOrEqual(0.5)
      expect(r.clvAtRisk).toBeCloseTo(r.score * (r.clv as number), 9)
    }
    const risk = byValue.rows.map((r) => r.clvAtRisk as number)
    expect(risk).toEqual([...risk].sort((x, y) => y - x))
  })

  it('export --class price_sensitive: the class with first-seen identities and consent flags', async () => {
    const csv = await run(['risk', 'export', '--class', 'price_sensitive', '--format', 'csv'])
    expect(csv.code).toBe(0)
    const lines = csv.out.trimEnd().split('\r\n')
    expect(lines[0]).toBe(
      'member_id,score,churn_class,playbook,reasons,phone,email,wechat_unionid,app_user_id,card_no,pos_customer_id,customer_id,consent_sms,consent_email,consent_wechat,consent_push',
    )
    const list = JSON.parse(
      (await run(['risk', 'list', '--class', 'price-sensitive', '--top', '100000', '--json'])).out,
    ) as { rows: Row[] }
    expect(lines).toHaveLength(1 + list.rows.length)

    const out = join(dir, 'ps.jsonl')
    const jl = await run([
      'risk',
      'export',
      '--class',
      'price-sensitive',
      '--format',
      'jsonl',
      '--out',
      out,
    ])
    expect(jl.err).toMatch(/price-sensitive members written/)
    const rows = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(rows).toHaveLength(list.rows.length)
    // Check every member against the tables directly.
    const d = await openDatabase(db, { readOnly: true })
    try {
      const truth = await d.driver.all<{
        memberId: bigint
        phone: string | null
        appUserId: string | null
        consentSms: boolean | null
        consentPush: boolean | null
      }>(sql`SELECT m.member_id,
          (SELECT identity_value FROM identities i WHERE i.member_id = m.member_id AND identity_type = 'phone'
            ORDER BY first_seen_at NULLS LAST, identity_value LIMIT 1) AS phone,
          (SELECT identity_value FROM identities i WHERE i.member_id = m.member_id AND identity_type = 'app_user_id'
            ORDER BY first_seen_at NULLS LAST, identity_value LIMIT 1) AS app_user_id,
          m.consent_sms, m.consent_push
        FROM members m`)
      const byId = new Map(truth.map((t) => [Number(t.memberId), t]))
      let withPhone = 0
      for (const r of rows) {
        expect(r['churn_class']).toBe('price-sensitive')
        const t = byId.get(r['member_id'] as number)
        expect(t).toBeDefined()
        // Phones are written in E.164, with their +.
        expect(r['phone']).toBe(t?.phone == null ? null : `+${t.phone}`)
        expect(r['app_user_id']).toBe(t?.appUserId ?? null)
        expect(r['consent_sms']).toBe(t?.consentSms ?? false)
        expect(r['consent_push']).toBe(t?.consentPush ?? false)
        if (r['phone'] !== null) withPhone++
      }
      expect(withPhone).toBeGreaterThan(0)
    } finally {
      await d.close()
    }

    const top = await run([
      'risk',
      'export',
      '--class',
      'disengaged',
      '--top',
      '2',
      '--format',
      'jsonl',
    ])
    expect(top.out.trim().split('\n')).toHaveLength(2)
    const bad = await run(['risk', 'export', '--class', 'cheap'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--class/)
  })

  it('reasons --evaluate: the churn classes against the simulator truth, service-dissatisfied precise', async () => {
    const r = await run([
      'risk',
      'reasons',
      '--evaluate',
      '--truth',
      join(dir, 'data', 'truth.json'),
      '--json',
    ])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.out) as {
      counts: { churnClass: string; n: number }[]
      evaluation: {
        scored: number
        matchedIdentities: number
        knownIdentities: number
        classes: {
          churnClass: string
          predicted: number
          truePositives: number
          precision: number
          recall: number
          baseRate: number
        }[]
      }
    }
    const e = out.evaluation
    expect(e.matchedIdentities).toBe(e.knownIdentities)
    expect(out.counts.reduce((a, c) => a + c.n, 0)).toBe(e.scored)
    const service = e.classes.find((c) => c.churnClass === 'service-dissatisfied')
    const price = e.classes.find((c) => c.churnClass === 'price-sensitive')
    expect(service?.predicted).toBe(
      out.counts.find((c) => c.churnClass === 'service-dissatisfied')?.n,
    )
    expect(service?.precision).toBeCloseTo(
      (service?.truePositives ?? 0) / (service?.predicted ?? 1),
      12,
    )
    // The bar of the issue, and well above what a class of random members would hit.
    expect(service?.precision).toBeGreaterThanOrEqual(0.6)
    expect(service?.precision).toBeGreaterThan(3 * (service?.baseRate ?? 1))
    expect(service?.recall).toBeGreaterThan(0.15)
    expect(price?.precision).toBeGreaterThan(2 * (price?.baseRate ?? 1))

    const text = await run([
      'risk',
      'reasons',
      '--evaluate',
      '--truth',
      join(dir, 'data', 'truth.json'),
      '--lang',
      'zh',
    ])
    expect(text.out).toMatch(/精确率/)
    expect(text.out).toMatch(/服务不满/)
    const without = await run(['risk', 'reasons', '--truth', join(dir, 'data', 'truth.json')])
    expect(without.code).toBe(2)
    expect(without.err).toMatch(/only with --evaluate/)
  })

  it('clv renewals: per plan, the monthly plan fitted, JSON and CSV', async () => {
    const r = await run(['clv', 'renewals', '--json'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out) as {
      asOf: string
      plans: { plan: string; subscribers: number; cohorts: { subscribers: number }[] }[]
    }
    expect(report.plans.map((p) => p.plan)).toEqual(['plus_annual', 'plus_monthly'])
    for (const p of report.plans) {
      expect(p.cohorts.reduce((n, c) => n + c.subscribers, 0)).toBe(p.subscribers)
    }
    const text = await run(['clv', 'renewals', '--plan', 'plus_monthly'])
    expect(text.out).toMatch(/Plan plus_monthly/)
    expect(text.out).toMatch(/sBG retention/)
    const csv = await run(['clv', 'renewals', '--csv', '--horizon', '3'])
    expect(csv.out.split('\r\n')[0]).toBe(
      'plan,cohort,period,survivors,projected_survival,params_from',
    )
    expect((await run(['clv', 'renewals', '--plan', 'gold'])).code).toBe(2)
  })

  it('score raises points_expiring from the synced buckets and stores the amount and first expiry', async () => {
    const listed = await run(['risk', 'list', '--top', '2', '--json'])
    const [a, b] = (JSON.parse(listed.out) as { rows: Row[] }).rows.map((r) => r.memberId) as [
      number,
      number,
    ]
    const d = await openDatabase(db, { threads: 1 })
    try {
      await ensureLoyaltyTables(d.driver)
      // Scoring on 2026-10-31, window (10-31, 11-30]: a holds 150 expiring on 11-10 and 11-20 plus 500 in
      // December; b holds 50, under the default minimum of 100.
      await d.driver.execute(sql`INSERT INTO loyalty_buckets VALUES
        (1, ${String(a)}, ${a}, 1, NULL, TIMESTAMP '2026-09-20', TIMESTAMP '2026-09-20', TIMESTAMP '2026-11-20', 100, 90),
        (2, ${String(a)}, ${a}, 2, NULL, TIMESTAMP '2026-09-10', TIMESTAMP '2026-09-10', TIMESTAMP '2026-11-10', 80, 60),
        (3, ${String(a)}, ${a}, 3, NULL, TIMESTAMP '2026-10-01', TIMESTAMP '2026-10-01', TIMESTAMP '2026-12-31', 500, 500),
        (4, ${String(b)}, ${b}, 4, NULL, TIMESTAMP '2026-09-05', TIMESTAMP '2026-09-05', TIMESTAMP '2026-11-05', 50, 50)`)
    } finally {
      await d.close()
    }
    const scored = await run(['risk', 'score', '--as-of', '2026-10-31', '--json', '--top', '0'])
    expect(scored.code).toBe(0)
    expect(
      (JSON.parse(scored.out) as { signals: Record<string, number> }).signals['points_expiring'],
    ).toBe(1)
    const d2 = await openDatabase(db, { threads: 1 })
    try {
      const ra = await findMemberRisk(d2.driver, a)
      expect(ra?.signals).toContain('points_expiring')
      expect(ra?.signalDetails).toEqual({
        points_expiring: { points: 150, firstExpiresAt: '2026-11-10T00:00:00Z' },
      })
      const rb = await findMemberRisk(d2.driver, b)
      expect(rb?.signals).not.toContain('points_expiring')
      expect(rb?.signalDetails).toEqual({})
    } finally {
      await d2.close()
    }
  })
})
