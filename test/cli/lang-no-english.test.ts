/**
 * Under `--lang zh`, no command prints a phrase of the CLI's own English message table: every label, header,
 * status, unit, hint and empty state the CLI words itself has a Chinese form, and the commands use it. Each
 * human-output command runs in-process on one small simulated database (with its loyalty ledger).
 *
 * The phrases are the English texts of src/cli/messages.ts (the literal parts of a text with placeholders),
 * matched as whole words; identifiers a user types (table and field names, metric ids) are not phrases.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import stringWidth from 'string-width'
import { ZH, type Message } from '../../src/cli/messages.js'
import { TABLES } from '../../src/core/schema.js'
import { runCli } from '../helpers/cli.js'

const PROGRAM = resolve(import.meta.dirname, '../../examples/loyalty-program.yaml')

/** Characters that continue an identifier, a path or a number: a phrase next to one is not a word. */
const WORD = 'A-Za-z0-9_./:\\-'

/** The English phrases of the message table worth looking for: three letters or more, not kept in Chinese. */
function englishPhrases(): string[] {
  const phrases = new Set<string>()
  for (const key of Object.keys(ZH) as Message[]) {
    const english = key.slice(key.indexOf('|') + 1)
    for (const part of english.split(/\{\w+\}/)) {
      const phrase = part.replace(/^[\s(),:;.·…—–\-%]+|[\s(),:;.·…—–\-%]+$/g, '')
      if (!/[A-Za-z]{3,}/.test(phrase)) continue
      // Names the Chinese text keeps as they are (RFM, CLV, P(alive), Gamma–Gamma …).
      if (ZH[key].includes(phrase)) continue
      phrases.add(phrase)
    }
  }
  return [...phrases]
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The phrases that occur in `text` as whole words. */
function englishIn(text: string, phrases: readonly string[]): string[] {
  return phrases.filter((p) => new RegExp(`(?<![${WORD}])${escape(p)}(?![${WORD}])`).test(text))
}

let dir: string
let db: string
let ledger: string
let experiment = ''
let campaign = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-zh-'))
  db = join(dir, 'm.duckdb')
  ledger = join(dir, '.memberlens', 'demo-ledger')
  const demo = await runCli([
    'demo',
    '--no-serve',
    '--quiet',
    '--members',
    '300',
    '--months',
    '8',
    '--db',
    db,
  ])
  expect(demo.code, demo.err).toBe(0)
  // The demo fits CLV; small data needs a short horizon for the risk model.
  for (const args of [
    ['risk', 'train', '--horizon', '30', '--json'],
    ['risk', 'score', '--top', '0', '--json'],
  ]) {
    const r = await runCli([...args, '--db', db])
    expect(r.code, r.err).toBe(0)
  }
  const exps = JSON.parse((await runCli(['experiments', 'list', '--json', '--db', db])).out) as {
    experiments: { experimentId: string }[]
  }
  experiment = exps.experiments[0]?.experimentId ?? ''
  const campaigns = JSON.parse((await runCli(['effects', '--json', '--db', db])).out) as {
    campaigns: { campaignId: string }[]
  }
  campaign = campaigns.campaigns[0]?.campaignId ?? ''
  expect(experiment).not.toBe('')
  expect(campaign).not.toBe('')
}, 120_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Case {
  readonly args: () => readonly string[]
  /** The first column lists ids a user types (metric ids, setting keys, table names): not checked. */
  readonly idColumn?: boolean
  /** The header of the last column when it quotes the members' own texts (data, in their language). */
  readonly quotes?: string
  /** The output names canonical tables and fields (`schema`, the files of `simulate`): identifiers, not words. */
  readonly schemaNames?: boolean
}

/** The names of the canonical tables and fields: identifiers a user types, printed as they are. */
const SCHEMA_NAMES = new Set(
  Object.values(TABLES).flatMap((t) => [t.name, ...t.fields.map((f) => f.name)]),
)

/** The output without the columns the case says are not the CLI's own words. */
function ownWords(out: string, c: Case): string {
  let lines = out.split('\n')
  if (c.idColumn) lines = lines.map((l) => l.replace(/^\S+/, ''))
  if (c.quotes !== undefined) {
    const quotes = c.quotes
    let from: number | undefined
    lines = lines.map((l) => {
      const at = l.indexOf(quotes)
      if (at >= 0) from = stringWidth(l.slice(0, at))
      if (l.trim() === '') from = undefined
      return from === undefined ? l : cutAtWidth(l, from)
    })
  }
  const text = lines.join('\n')
  return c.schemaNames ? text.replace(/[A-Za-z_]+/g, (w) => (SCHEMA_NAMES.has(w) ? '' : w)) : text
}

/** The start of a line up to a display width (Chinese characters take two columns). */
function cutAtWidth(line: string, width: number): string {
  let w = 0
  let i = 0
  for (const ch of line) {
    w += stringWidth(ch)
    if (w > width) break
    i += ch.length
  }
  return line.slice(0, i)
}

const withDb = (...args: string[]): Case => ({ args: () => [...args, '--db', db] })
const CASES: Record<string, Case> = {
  overview: withDb('overview'),
  'rollups status': withDb('rollups', 'status'),
  'rollups rebuild': withDb('rollups', 'rebuild'),
  tree: withDb('tree'),
  'metrics list': { args: () => ['metrics', 'list'], idColumn: true },
  'metrics get --by': withDb(
    'metrics',
    'get',
    'net_revenue',
    'aov',
    '--from',
    '2026-08',
    '--to',
    '2026-10',
    '--by',
    'registration_channel',
  ),
  'metrics drivers': withDb('metrics', 'drivers', 'net_revenue'),
  explain: { args: () => ['explain'], idColumn: true },
  'explain churn_rate': { args: () => ['explain', 'churn_rate'] },
  'lifecycle stages': withDb('lifecycle', 'stages'),
  'lifecycle flows': withDb('lifecycle', 'flows', '--from', '2026-08-01', '--to', '2026-10-31'),
  'lifecycle history': withDb('lifecycle', 'history', '--from', '2026-08-01', '--to', '2026-10-31'),
  'lifecycle churn': withDb('lifecycle', 'churn', '--from', '2026-08-01', '--to', '2026-10-31'),
  rfm: withDb('rfm'),
  'rfm --compare': withDb('rfm', '--compare', '2026-08-01'),
  cohorts: withDb('cohorts', '--periods', '3'),
  'cohorts --ltv': withDb('cohorts', '--ltv', '--periods', '3'),
  'cohorts --payback': withDb('cohorts', '--payback'),
  survival: withDb('survival', '--churn-days', '90'),
  funnel: withDb(
    'funnel',
    '--step',
    'page_view',
    '--step',
    'add_to_cart',
    '--from',
    '2026-08-01',
    '--to',
    '2026-10-01',
  ),
  'segments list': withDb('segments', 'list'),
  'segments save': withDb(
    'segments',
    'save',
    'lapsed-vips',
    '--config',
    resolve(import.meta.dirname, '../../examples/segments.yaml'),
    '--description',
    '流失中的高价值会员',
  ),
  'segments show': withDb('segments', 'show', 'lapsed-vips'),
  'segments compare': withDb('segments', 'compare', 'lapsed-vips'),
  'tags compute': withDb(
    'tags',
    'compute',
    '--config',
    resolve(import.meta.dirname, '../../examples/tags.yaml'),
    '--period',
    '2026-10',
  ),
  'tags list': withDb('tags', 'list'),
  'tags member': withDb('tags', 'member', '1'),
  'experiments list': withDb('experiments', 'list'),
  effects: withDb('effects'),
  'effects <campaign>': { args: () => ['effects', campaign, '--db', db] },
  'experiments report': { args: () => ['experiments', 'report', experiment, '--db', db] },
  'experiments plan': withDb('experiments', 'plan'),
  'clv report': withDb(
    'clv',
    'report',
    '--calibration-end',
    '2026-07-31',
    '--holdout-end',
    '2026-10-31',
  ),
  'points earn': {
    args: () => [
      'points',
      'earn',
      '1',
      '--order',
      'T-1',
      '--amount',
      '199',
      '--key',
      'test-earn-1',
      '--ledger',
      ledger,
      '--program',
      PROGRAM,
    ],
  },
  'keys create': {
    args: () => [
      'keys',
      'create',
      '--name',
      'report-bot',
      '--keys',
      join(dir, 'keys.json'),
      '--audit',
      join(dir, 'audit.duckdb'),
    ],
  },
  'keys list': { args: () => ['keys', 'list', '--keys', join(dir, 'keys.json')] },
  'tiers review': {
    args: () => [
      'tiers',
      'review',
      '--key',
      'test-review',
      '--ledger',
      ledger,
      '--program',
      PROGRAM,
    ],
  },
  'voice summary': withDb('voice', 'summary'),
  'voice topics': { ...withDb('voice', 'topics'), quotes: '示例（负面）' },
  'voice members-at-risk': withDb('voice', 'members-at-risk'),
  'loyalty metrics': withDb('loyalty', 'metrics', '--from', '2026-06-01', '--to', '2026-11-01'),
  'alerts list': withDb('alerts', 'list'),
  'clv predict': withDb('clv', 'predict', '--top', '3'),
  'clv predict --intervals': withDb('clv', 'predict', '--top', '3', '--intervals', '--draws', '20'),
  'clv renewals': withDb('clv', 'renewals'),
  'risk list': withDb('risk', 'list', '--top', '5'),
  'risk reasons': withDb('risk', 'reasons'),
  'members show': withDb('members', 'show', '1'),
  'members merges': withDb('members', 'merges', '--limit', '5'),
  schema: { args: () => ['schema'], schemaNames: true },
  'schema orders': { args: () => ['schema', 'orders'], schemaNames: true },
  'points balance': {
    args: () => ['points', 'balance', '1', '--ledger', ledger, '--program', PROGRAM],
  },
  'points history': { args: () => ['points', 'history', '1', '--ledger', ledger, '--limit', '5'] },
  'tiers show': { args: () => ['tiers', 'show', '1', '--ledger', ledger, '--program', PROGRAM] },
  'tiers forecast': {
    args: () => ['tiers', 'forecast', '--ledger', ledger, '--program', PROGRAM, '--limit', '3'],
  },
  'loyalty farming': withDb('loyalty', 'farming'),
  config: { ...withDb('config'), idColumn: true },
  'clv fit': withDb('clv', 'fit'),
  'clv fit --covariates': withDb('clv', 'fit', '--covariates', 'season'),
  'risk train': withDb('risk', 'train', '--horizon', '30'),
  'risk score': withDb('risk', 'score', '--top', '3'),
  simulate: {
    args: () => ['simulate', '--out', join(dir, 'sim'), '--members', '40', '--months', '2'],
    schemaNames: true,
  },
  // Loads the members the case above wrote into a database of its own.
  ingest: {
    args: () => [
      'ingest',
      'members',
      join(dir, 'sim', 'members.csv'),
      '--db',
      join(dir, 'ingest.duckdb'),
    ],
    schemaNames: true,
  },
}

describe('no English phrase of the message table under --lang zh', () => {
  const phrases = englishPhrases()

  it('has phrases to look for, and finds them in English output', async () => {
    expect(phrases.length).toBeGreaterThan(300)
    const en = await runCli(['overview', '--db', db])
    expect(englishIn(en.out, phrases)).toEqual(
      expect.arrayContaining(['net revenue', 'repurchase rate', 'Members and purchases']),
    )
  })

  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const r = await runCli([...c.args(), '--lang', 'zh'])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/[\u4e00-\u9fff]/)
    expect(englishIn(ownWords(r.out, c), phrases), r.out).toEqual([])
  })
})
