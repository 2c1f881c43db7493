/** The CLI end to end, as a user runs it: the real executable in a child process, exit codes and output. */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = resolve(import.meta.dirname, '../../bin/memberlens.js')
const run = promisify(execFile)

async function cli(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
    })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-cli-'))
  await writeFile(
    join(dir, 'members.csv'),
    'mobile,email,signup\n13800138000,a@x.com,2024-01-01 10:00:00\n',
  )
  await writeFile(
    join(dir, 'orders.csv'),
    'order_id,phone,ordered_at,channel,net_amount\nO1,138 0013 8000,2024-05-01 10:00:00,app,100.50\nO2,13800138000,2024-05-09 10:00:00,app,20\n',
  )
  await writeFile(
    join(dir, 'bad.csv'),
    'order_id,phone,ordered_at,channel,net_amount\nO1,13800138000,yesterday,app,1\n',
  )
  await writeFile(
    join(dir, 'map.yaml'),
    'columns:\n  phone: mobile\n  registered_at: signup\ntimezone: Asia/Shanghai\n',
  )
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('memberlens CLI', () => {
  it('loads with a mapping file, shows the member and the overview', async () => {
    const m = await cli(
      ['ingest', 'members', 'members.csv', '--mapping', 'map.yaml', '--db', 'x.duckdb'],
      dir,
    )
    expect(m).toMatchObject({ code: 0 })
    expect(m.stdout).toMatch(/members\.csv\s+members\s+1\s+1\s+0\s+0\s+1\s+0/)
    const o = await cli(['ingest', 'orders', 'orders.csv', '--db', 'x.duckdb', '--json'], dir)
    expect(o.code).toBe(0)
    expect(JSON.parse(o.stdout).loads[0]).toMatchObject({
      table: 'orders',
      rowsInserted: 2,
      membersCreated: 0,
    })
    const show = await cli(
      ['members', 'show', 'phone:+86 13800138000', '--db', 'x.duckdb', '--json'],
      dir,
    )
    const profile = JSON.parse(show.stdout)
    // 10:00 in Shanghai is 02:00 UTC.
    expect(profile.member).toMatchObject({ memberId: 1, registeredAt: '2024-01-01 02:00:00' })
    expect(profile.purchases).toMatchObject({ orders: 2, netAmount: 120.5 })
    // By default the data's last complete month: the data ends on 2024-05-09, so April (no orders yet).
    const last = await cli(['overview', '--db', 'x.duckdb'], dir)
    expect(last.code).toBe(0)
    expect(last.stdout).toContain('Members and purchases — 2024-04')
    expect(last.stdout).toMatch(/orders\s+0\n/)
    const ov = await cli(['overview', '--month', '2024-05', '--db', 'x.duckdb'], dir)
    expect(ov.code).toBe(0)
    expect(ov.stdout).toContain('Members and purchases — 2024-05')
    // Money for managers: the currency's symbol, whole units from ¥100 up (the JSON keeps 120.5).
    expect(ov.stdout).toMatch(/net revenue\s+¥121\n/)
    expect(ov.stdout).toMatch(/repurchase rate\s+100\.0%/)
  })

  it('exits 2 with file, line, field and reason on bad input, and writes nothing', async () => {
    const r = await cli(['ingest', 'orders', 'bad.csv', '--db', 'y.duckdb'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('bad.csv:2: ordered_at "yesterday": not a timestamp')
    const j = await cli(['ingest', 'orders', 'bad.csv', '--db', 'y.duckdb', '--json'], dir)
    expect(j.code).toBe(2)
    expect(JSON.parse(j.stderr).error).toMatchObject({
      code: 'INPUT_INVALID',
      totalIssues: 1,
      issues: [{ line: 2, field: 'ordered_at' }],
    })
    const ov = await cli(['overview', '--db', 'y.duckdb', '--json'], dir)
    expect(JSON.parse(ov.stdout)).toEqual({ overview: null })
  })

  it('exits 3 for a member that does not exist, 2 for usage errors, 0 for help', async () => {
    expect((await cli(['members', 'show', 'nobody@x.com', '--db', 'x.duckdb'], dir)).code).toBe(3)
    expect((await cli(['ingest', 'orders'], dir)).code).toBe(2)
    expect((await cli(['overview', '--month', '2024-5', '--db', 'x.duckdb'], dir)).code).toBe(2)
    const help = await cli(['ingest', '--help'], dir)
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--unknown-identity')
  })

  it('lists the canonical schema', async () => {
    const r = await cli(['schema', 'orders', '--json'], dir)
    const t = JSON.parse(r.stdout).tables[0]
    expect(t.key).toEqual(['order_id'])
    expect(t.sourceFields).toContain('phone')
  })
})

describe('memberlens metrics and tree', () => {
  it('lists the catalog, reads metrics as a table, JSON and CSV, and renders the tree', async () => {
    const list = await cli(['metrics', 'list', '--json'], dir)
    const ids = JSON.parse(list.stdout).metrics.map((m: { id: string }) => m.id)
    expect(ids).toEqual(
      expect.arrayContaining([
        'net_revenue',
        'nps',
        'churn_rate',
        'period_retention',
        'cost_per_new_member',
      ]),
    )
    const csv = await cli(
      [
        'metrics',
        'get',
        'orders',
        'net_revenue',
        '--from',
        '2024-05',
        '--to',
        '2024-05',
        '--db',
        'x.duckdb',
        '--csv',
      ],
      dir,
    )
    expect(csv.stdout.trim().split('\n')).toEqual(['period,orders,net_revenue', '2024-05,2,120.5'])
    const text = await cli(
      [
        'metrics',
        'get',
        'aov',
        '--from',
        '2024-05',
        '--to',
        '2024-05',
        '--db',
        'x.duckdb',
        '--lang',
        'zh',
      ],
      dir,
    )
    expect(text.stdout).toContain('客单价')
    expect(text.stdout).toContain('60.25')
    const tree = await cli(['tree', '--db', 'x.duckdb', '--period', '2024-05', '--json'], dir)
    expect(tree.code).toBe(0)
    expect(JSON.parse(tree.stdout).nodes.map((n: { metric: string }) => n.metric)).toEqual([
      'purchase_frequency',
      'net_revenue',
      'period_retention',
    ])
    const bad = await cli(
      ['metrics', 'get', 'nope', '--from', '2024-05', '--to', '2024-05', '--db', 'x.duckdb'],
      dir,
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('unknown metric')
  })
})
