/**
 * Every command that prints text for people speaks Chinese under `--lang zh` (and under MEMBERLENS_LANG=zh):
 * on a small simulated database, each command's Chinese output holds its Chinese headers and none of the
 * English header words its English output holds (checked too, so that the test can fail).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/index.js'

const BIN = resolve(import.meta.dirname, '../../bin/memberlens.js')
const spawn = promisify(execFile)

let dir: string
let experiment = ''
let winback = ''
let demoEn = ''
let demoZh = ''

/** Runs a command in-process on the demo database, with MEMBERLENS_LANG set only when `lang` is given. */
async function cli(
  args: readonly string[],
  lang?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const before = process.env['MEMBERLENS_LANG']
  if (lang === undefined) delete process.env['MEMBERLENS_LANG']
  else process.env['MEMBERLENS_LANG'] = lang
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((x) => ((stdout += String(x)), true))
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((x) => ((stderr += String(x)), true))
  try {
    const code = await main(['node', 'memberlens', ...args, '--db', join(dir, 'en', 'm.duckdb')])
    return { code, stdout, stderr }
  } finally {
    o.mockRestore()
    e.mockRestore()
    if (before === undefined) delete process.env['MEMBERLENS_LANG']
    else process.env['MEMBERLENS_LANG'] = before
  }
}

/** The demo as a user runs it (the executable, in a folder of its own: it writes its files beside the database). */
async function demo(folder: string, extra: readonly string[]): Promise<string> {
  await mkdir(join(dir, folder))
  const args = [
    'demo',
    '--no-serve',
    '--members',
    '300',
    '--months',
    '8',
    '--db',
    'm.duckdb',
    ...extra,
  ]
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env['MEMBERLENS_LANG']
  const r = await spawn(process.execPath, [BIN, ...args], { cwd: join(dir, folder), env })
  return r.stdout
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-lang-'))
  ;[demoEn, demoZh] = await Promise.all([demo('en', []), demo('zh', ['--lang', 'zh'])])
  // Small data: a 30-day horizon leaves two periods for training and evaluation.
  for (const args of [
    ['risk', 'train', '--horizon', '30', '--json'],
    ['risk', 'score', '--top', '0', '--json'],
  ]) {
    const r = await cli(args)
    expect(r.code, r.stderr).toBe(0)
  }
  const exps = JSON.parse((await cli(['experiments', 'list', '--json'])).stdout) as {
    experiments: { experimentId: string }[]
  }
  experiment = exps.experiments[0]?.experimentId ?? ''
  const campaigns = JSON.parse((await cli(['effects', '--json'])).stdout) as {
    campaigns: { campaignId: string; kind: string; holdout: number }[]
  }
  winback = campaigns.campaigns.find((c) => c.kind === 'winback' && c.holdout > 0)?.campaignId ?? ''
  expect(experiment).not.toBe('')
  expect(winback).not.toBe('')
}, 120_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Case {
  readonly args: () => readonly string[]
  /** Words the Chinese output must hold. */
  readonly zh: readonly string[]
  /** English header words: in the English output, and not in the Chinese one. */
  readonly en: readonly string[]
}

const CASES: Record<string, Case> = {
  overview: {
    args: () => ['overview'],
    zh: ['会员与购买', '消费金额', '复购率'],
    en: ['Members and purchases', 'net revenue', 'repurchase rate', 'All time'],
  },
  tree: {
    args: () => ['tree'],
    zh: ['目标', '环比', '无数据'],
    en: ['target', 'pop', 'no data', 'no decline', 'core metrics in bold'],
  },
  'lifecycle stages': {
    args: () => ['lifecycle', 'stages'],
    zh: ['建议动作', '流失风险', '新人首单券'],
    en: ['recommended action', 'At risk', 'onboarding', 'win-back campaign'],
  },
  'lifecycle churn': {
    args: () => ['lifecycle', 'churn', '--from', '2026-08-01', '--to', '2026-10-31'],
    zh: ['期初未流失', '流失率'],
    en: ['period', 'not churned at start', 'churn rate', 'reactivated'],
  },
  rfm: {
    args: () => ['rfm'],
    zh: ['RFM 分群', '收入占比'],
    en: ['RFM segments as of', 'segment', 'of revenue', 'avg orders'],
  },
  cohorts: {
    args: () => ['cohorts', '--periods', '3'],
    zh: ['同期群', '平均', '注册'],
    en: ['N-period retention', 'cohort', 'members', 'average', 'Blank cells'],
  },
  survival: {
    // Eight months of data: a churn after 90 days without a purchase can be observed, one after 365 cannot.
    args: () => ['survival', '--churn-days', '90'],
    zh: ['中位天数', '首次购买'],
    en: ['Time to churn', 'median days', 'members', 'first-purchase'],
  },
  'risk train': {
    args: () => ['risk', 'train', '--horizon', '30'],
    zh: ['流失风险模型', '特征'],
    en: ['Churn-risk model', 'feature', 'Calibration by decile', 'observed churn'],
  },
  'risk score': {
    args: () => ['risk', 'score', '--top', '3'],
    zh: ['挽回策略', '高价值流失风险', '定向折扣'],
    en: ['Churn class', 'playbook', 'high-value-at-risk', 'targeted discount', 'members scored'],
  },
  'risk list': {
    args: () => ['risk', 'list', '--top', '5'],
    zh: ['流失类型', '挽回策略'],
    en: ['churn class', 'playbook', 'reason codes', 'at risk'],
  },
  'clv fit': {
    args: () => ['clv', 'fit'],
    zh: ['CLV 分布', '预测期'],
    en: ['CLV distribution', 'horizon', 'parameters', 'calibration end'],
  },
  'clv predict': {
    args: () => ['clv', 'predict', '--top', '3'],
    zh: ['会员评分'],
    en: ['Member scores', 'member'],
  },
  'clv report': {
    args: () => ['clv', 'report', '--calibration-end', '2026-07-31', '--holdout-end', '2026-10-31'],
    zh: ['验证期检验', '实际', '预测'],
    en: ['Holdout validation', 'actual', 'predicted', 'holdout'],
  },
  'clv renewals': {
    args: () => ['clv', 'renewals'],
    zh: ['付费会员续费', '实际留存'],
    en: ['Paid-membership renewals', 'observed retention', 'subscribers', 'residual value'],
  },
  funnel: {
    args: () => [
      'funnel',
      '--step',
      'page_view',
      '--step',
      'add_to_cart',
      '--from',
      '2026-08-01',
      '--to',
      '2026-10-01',
    ],
    zh: ['漏斗', '步骤', '占第一步'],
    en: ['Funnel', 'step', 'of first', 'drop-off', 'median time'],
  },
  'segments list': {
    args: () => ['segments', 'list'],
    zh: ['还没有保存的分群'],
    en: ['No saved segments'],
  },
  'experiments list': {
    args: () => ['experiments', 'list'],
    zh: ['实验', '首次分组'],
    en: ['experiment', 'variants', 'first assigned'],
  },
  'experiments report': {
    args: () => ['experiments', 'report', experiment],
    zh: ['目标指标', '结论', '越高越好'],
    en: ['Experiment', 'Goal', 'Verdict', 'higher is better', 'vs control', 'outcome window'],
  },
  'effects list': {
    args: () => ['effects'],
    zh: ['活动', '首次发送'],
    en: ['campaign', 'first sent', 'cost'],
  },
  effects: {
    args: () => ['effects', winback],
    zh: ['活动效果', '挽回率'],
    en: ['Program effect', 'with the campaign', 'uplift', 'outcome window'],
  },
  'voice summary': {
    args: () => ['voice', 'summary'],
    zh: ['会员之声', '投诉率'],
    en: ['Voice of the member', 'reviews', 'Service', 'complaint rate', 'Return reasons'],
  },
  'voice topics': {
    args: () => ['voice', 'topics'],
    zh: ['反馈文本', '话题'],
    en: ['Feedback texts', 'topic', 'mentions'],
  },
  'voice members-at-risk': {
    args: () => ['voice', 'members-at-risk'],
    zh: ['最近购买'],
    en: ['last purchase', 'complaints', 'topics', 'care call'],
  },
  'loyalty metrics': {
    args: () => ['loyalty', 'metrics', '--from', '2026-03-01', '--to', '2026-11-01'],
    zh: ['积分发放量', '积分负债'],
    en: ['points issued', 'liability', 'breakage', 'tier'],
  },
  'alerts list': {
    args: () => ['alerts', 'list'],
    zh: ['名称', '条件', '粒度'],
    en: ['name', 'metric', 'condition', 'grain'],
  },
  'metrics get': {
    args: () => ['metrics', 'get', 'net_revenue', '--from', '2026-08', '--to', '2026-10'],
    zh: ['期间', '消费金额'],
    en: ['period', 'Net revenue'],
  },
}

describe('--lang zh on every human-output command', () => {
  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const en = await cli(c.args())
    const zh = await cli([...c.args(), '--lang', 'zh'])
    expect(en.code, en.stderr).toBe(0)
    expect(zh.code, zh.stderr).toBe(0)
    for (const word of c.en) {
      expect(en.stdout, `English output holds "${word}"`).toContain(word)
      expect(zh.stdout, `Chinese output holds no "${word}"`).not.toContain(word)
    }
    for (const word of c.zh) expect(zh.stdout).toContain(word)
  })

  it('prints the demo summary in Chinese', () => {
    for (const word of ['Members and purchases', 'on track', 'Lifecycle stages as of', 'cohort']) {
      expect(demoEn).toContain(word)
      expect(demoZh).not.toContain(word)
    }
    for (const word of ['会员与购买', '生命周期阶段', '同期群']) expect(demoZh).toContain(word)
  })

  it('takes the language from MEMBERLENS_LANG when --lang is not given', async () => {
    const r = await cli(['tree'], 'zh')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('环比')
    expect(r.stdout).not.toContain('no decline')
  })
})
