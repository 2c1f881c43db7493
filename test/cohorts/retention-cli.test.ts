/** The retention commands in-process (`main`), on a small database file: flags, JSON/CSV output, exit codes. */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/store/database.js'
import { event, insert, member, order } from './fixture-db.js'
import { runCli } from '../helpers/cli.js'

let dir: string
let db: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-retention-cli-'))
  db = join(dir, 'm.duckdb')
  const d = await openDatabase(db)
  await insert(d, 'members', [
    member(1, '2024-01-05 00:00:00', { registration_channel: 'app', consent_sms: true }),
    member(2, '2024-01-20 00:00:00', { registration_channel: 'store' }),
    member(3, '2024-02-10 00:00:00', { registration_channel: 'app' }),
  ])
  await insert(d, 'orders', [
    order(1, '2024-01-06 00:00:00', 100),
    order(1, '2024-02-06 00:00:00', 50),
    order(2, '2024-03-01 00:00:00', 80),
  ])
  await insert(d, 'events', [
    event(3, '2024-02-11 00:00:00', 'page_view'),
    event(3, '2024-02-11 00:01:00', 'add_to_cart'),
  ])
  await d.close()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = (args: string[]) => runCli([...args, '--db', db])

describe('retention CLI', () => {
  it('cohorts --json: as of the day after the latest activity (2024-03-02)', async () => {
    const r = await run(['cohorts', '--periods', '1', '--activity', 'purchase', '--json'])
    expect(r.code).toBe(0)
    const t = JSON.parse(r.out) as {
      spec: { asOf: string }
      cohorts: { cohort: string; cells: { active: number; eligible: number }[] }[]
    }
    expect(t.spec.asOf).toBe('2024-03-02')
    // January: m1 (01-06) in period 0; m1 (02-06) in period 1; m2's March order is period 2.
    expect(t.cohorts[0]?.cells.map((c) => [c.active, c.eligible])).toEqual([
      [1, 2],
      [1, 2],
    ])
  })

  it('cohorts renders a table and refuses a bad dimension with exit 2', async () => {
    const ok = await run(['cohorts', '--periods', '2'])
    expect(ok.out).toContain('2024-01-01')
    expect(ok.out).toContain('average')
    const bad = await run(['cohorts', '--by', 'shoe_size'])
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('--by')
  })

  it('lifecycle stages --csv, rfm --json, survival, funnel', async () => {
    const stages = await run(['lifecycle', 'stages', '--csv'])
    expect(stages.out.split('\r\n')[0]).toBe('stage,members,share,action')
    const rfm = await run(['rfm', '--json'])
    expect((JSON.parse(rfm.out) as { segments: unknown[] }).segments).toHaveLength(11)
    // --as-of is a day in the project time zone: 2024-02-06 starts at 02-05 16:00 UTC in Asia/Shanghai, at
    // 02-06 00:00 in UTC and at 02-06 05:00 UTC in New York. Member 1 bought on 01-06 and 02-06 at 00:00 UTC.
    const rfmAt = async (tz: string) => {
      const r = await run(['rfm', '--members', '--json', '--as-of', '2024-02-06', '--tz', tz])
      const body = JSON.parse(r.out) as {
        asOf: string
        timeZone: string
        scores: { memberId: number; frequency: number; recencyDays: number }[]
      }
      const m1 = body.scores.find((x) => x.memberId === 1)
      return [body.asOf, body.timeZone, m1?.frequency, m1?.recencyDays]
    }
    expect(await rfmAt('Asia/Shanghai')).toEqual(['2024-02-06', 'Asia/Shanghai', 1, 30 + 16 / 24])
    expect(await rfmAt('UTC')).toEqual(['2024-02-06', 'UTC', 1, 31])
    expect(await rfmAt('America/New_York')).toEqual(['2024-02-06', 'America/New_York', 2, 5 / 24])
    const stagesText = await run(['lifecycle', 'stages', '--as-of', '2024-02-06'])
    expect(stagesText.out).toContain('Lifecycle stages as of 2024-02-06 00:00 Asia/Shanghai')
    // As of 2024-03-02, the default 365 churn days leave no observable buyer; with 30 the horizon is 2024-02-01:
    // member 1 (01-06, then 02-06 after a 31-day gap) churned at day 0, member 2 (first on 03-01) is left out.
    const none = await run(['survival', '--json'])
    expect((JSON.parse(none.out) as { groups: unknown[] }).groups).toEqual([])
    const text = await run(['survival'])
    expect(text.out).toContain('No buyer can be observed yet')
    const surv = await run(['survival', '--json', '--churn-days', '30'])
    const groups = (JSON.parse(surv.out) as { groups: { members: number; churned: number }[] })
      .groups
    expect(groups.map((g) => [g.members, g.churned])).toEqual([[1, 1]])
    const f = await run([
      'funnel',
      '--step',
      'page_view',
      '--step',
      'add_to_cart',
      '--from',
      '2024-02-01',
      '--to',
      '2024-03-01',
      '--json',
    ])
    expect(
      (JSON.parse(f.out) as { results: { steps: { members: number }[] }[] }).results[0]?.steps.map(
        (s) => s.members,
      ),
    ).toEqual([1, 1])
    // The range is read in the project zone: member 3's page view at 2024-02-11 00:00 UTC is on 02-11 in
    // Asia/Shanghai (08:00) but on 02-10 in New York (19:00).
    const entered = async (tz: string) => {
      const r = await run([
        'funnel',
        '--step',
        'page_view',
        '--step',
        'add_to_cart',
        '--from',
        '2024-02-11',
        '--to',
        '2024-02-12',
        '--tz',
        tz,
        '--json',
      ])
      const body = JSON.parse(r.out) as { results: { steps: { members: number }[] }[] }
      return body.results[0]?.steps[0]?.members ?? 0
    }
    expect(await entered('Asia/Shanghai')).toBe(1)
    expect(await entered('America/New_York')).toBe(0)
    expect(
      (await run(['funnel', '--step', 'page_view', '--from', '2024-02-01', '--to', '2024-03-01']))
        .code,
    ).toBe(2)
    expect(
      (await run(['lifecycle', 'flows', '--from', 'yesterday', '--to', '2024-03-01'])).code,
    ).toBe(2)
  })

  it('segments save, list, export to a file; a cohort cell saved as a segment', async () => {
    expect(
      (await run(['segments', 'save', 'app', '--filter', '{"registrationChannel":["app"]}'])).code,
    ).toBe(0)
    expect((await run(['segments', 'list', '--json'])).out).toContain('"app"')
    const out = join(dir, 'app.csv')
    expect((await run(['segments', 'export', 'app', '--out', out])).code).toBe(0)
    const csv = await readFile(out, 'utf8')
    expect(csv.split('\r\n').slice(1, 3)).toEqual([
      '1,,,,,,,,true,false,false,false',
      '3,,,,,,,,false,false,false,false',
    ])
    expect(
      (
        await run([
          'cohorts',
          '--save-cell',
          'jan-p1',
          '--cohort',
          '2024-01-01',
          '--period',
          '1',
          '--activity',
          'purchase',
        ])
      ).code,
    ).toBe(0)
    expect((await run(['segments', 'export', 'jan-p1', '--format', 'jsonl'])).out).toBe(
      `${JSON.stringify({ member_id: 1, phone: null, email: null, wechat_unionid: null, app_user_id: null, card_no: null, pos_customer_id: null, customer_id: null, consent_sms: true, consent_email: false, consent_wechat: false, consent_push: false })}\n`,
    )
    expect((await run(['segments', 'show', 'nope'])).code).toBe(3)
    expect((await run(['segments', 'save', 'x', '--filter', '{"stage":1}'])).code).toBe(2)
  })
})
