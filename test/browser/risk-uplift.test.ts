/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Risk & win-back page's uplift section in a real browser, against `memberlens serve` on 127.0.0.1: after
 * `memberlens target` on data with a randomised four-arm campaign, the Qini table has one row per offer and
 * model with the AUUC, the random ranking's AUUC and the Qini of `GET /api/v1/targeting`, the plan shows the
 * run's figures, and in Chinese the section shows no English labels or model names.
 */
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../src/cli/server.js'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase } from '../../src/store/database.js'
import { formatNumber, type FormatLang } from '../../web/src/format.js'
import { LABELS } from '../../web/src/i18n.js'
import { runCli } from '../helpers/cli.js'
import { TEST_CLOCK, scratch, ingestSimulated } from '../helpers/db.js'
import {
  ROOT,
  englishIn,
  englishPhrases,
  launchBrowser,
  newWatchedPage,
  prepareBrowserTest,
  settledText,
} from './helpers.js'

const SHOTS = resolve(ROOT, 'test-results/dashboard')
const ARMS = resolve(ROOT, 'examples/arms.yaml')
const OFFERS = ['coupon_10', 'coupon_20', 'points_x2', 'service_call']

let s: Awaited<ReturnType<typeof scratch>>
let server: RunningServer
let browser: Browser
let page: Page
const consoleErrors: string[] = []

beforeAll(async () => {
  prepareBrowserTest()
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, {
    members: 3000,
    seed: 42,
    upliftCampaign: true,
    tables: ['members', 'orders', 'returns', 'feedback', 'touches', 'events', 'coupons'],
  })
  const dbPath = `${s.dir}/uplift.duckdb`
  const db = await openDatabase(dbPath, { threads: 1 })
  await ingestSimulated(db.driver, sim.files)
  // The churn-risk run the page opens with, as the demo makes it.
  await runDemoModels(db.driver, TEST_CLOCK)
  await db.close()
  const run = await runCli([
    'target',
    '--db',
    dbPath,
    '--arms',
    ARMS,
    '--budget',
    '3000',
    '--bootstrap',
    '20',
    '--json',
  ])
  if (run.code !== 0) throw new Error(run.err)
  server = await startServer({ db: dbPath, host: '127.0.0.1', port: 0, keys: `${s.dir}/keys.json` })
  browser = await launchBrowser()
  page = await newWatchedPage(browser, consoleErrors)
  await mkdir(SHOTS, { recursive: true })
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await s?.cleanup()
})

interface Interval {
  estimate: number
  low: number | null
  high: number | null
}
interface Targeting {
  runId: string
  campaignId: string
  learner: string
  budget: number
  qini: {
    arm: string
    learner: string
    auuc: number
    randomAuuc: number
    qini: number
    upliftAt: { share: number; uplift: number | null }[]
  }[]
  policy: {
    members: number
    retained: Interval
    revenue: Interval
    cost: Interval
    net: Interval
    roi: Interval | null
  }
}

/** The latest targeting run as the dashboard reads it (same origin, same session). */
async function targeting(): Promise<Targeting> {
  const body = await page.evaluate(async () => {
    const key = sessionStorage.getItem('memberlens.key') ?? ''
    const r = await fetch('/api/v1/targeting', { headers: { authorization: `Bearer ${key}` } })
    return (await r.json()) as { targeting: unknown }
  })
  if (body.targeting === null) throw new Error('no targeting run')
  return body.targeting as Targeting
}

/** Opens the Risk page in `lang` and returns the rows of a table of the uplift section, cell by cell. */
async function riskPage(lang: FormatLang): Promise<string> {
  await page.goto(server.dashboardUrl)
  await page.waitForSelector('#app > *')
  await page.selectOption('#lang', lang)
  await page.click('header nav a[data-page="risk"]')
  await page.waitForSelector('#risk-qini tbody tr')
  await page.waitForSelector('#risk-targeting-plan tbody tr')
  return settledText(page)
}

const rows = (id: string): Promise<string[][]> =>
  page.evaluate(
    (sel) =>
      [...document.querySelectorAll(`${sel} tbody tr`)].map((tr) =>
        [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      ),
    id,
  )

const money = (v: number, lang: FormatLang) =>
  formatNumber(v, 'currency', { lang, currency: 'CNY' })
const withInterval = (i: Interval, unit: string, lang: FormatLang) => {
  const f = (v: number) => formatNumber(v, unit, { lang, currency: 'CNY' })
  return i.low === null || i.high === null
    ? f(i.estimate)
    : `${f(i.estimate)} (${f(i.low)} … ${f(i.high)})`
}

describe('Risk & win-back: uplift targeting', () => {
  for (const lang of ['en', 'zh'] as const) {
    it(`shows the Qini per offer and the plan of the latest targeting run (${lang})`, async () => {
      const text = await riskPage(lang)
      const r = await targeting()
      // One row per offer and model, in the run's order, with its figures to four places.
      const qini = await rows('#risk-qini')
      expect(qini.length).toBe(r.qini.length)
      expect(new Set(r.qini.map((q) => q.arm))).toEqual(new Set(OFFERS))
      expect(r.qini.length).toBe(OFFERS.length * new Set(r.qini.map((q) => q.learner)).size)
      const model = (id: string) => LABELS[lang][`learner.${id}`]
      r.qini.forEach((q, i) => {
        const row = qini[i] ?? []
        expect(row[0], `row ${i}`).toBe(q.arm)
        expect(row[1], `row ${i}`).toBe(model(q.learner))
        const at = (share: number) =>
          formatNumber(q.upliftAt.find((u) => u.share === share)?.uplift ?? null, 'ratio', {
            lang,
            currency: 'CNY',
          })
        expect(row.slice(2), `${q.arm} ${q.learner}`).toEqual([
          q.qini.toFixed(4),
          q.auuc.toFixed(4),
          q.randomAuuc.toFixed(4),
          at(0.1),
          at(0.3),
        ])
        // The Qini coefficient is the model's area over the random ranking's.
        expect(q.qini).toBeCloseTo(q.auuc - q.randomAuuc, 9)
      })
      // The plan: the budget and the policy's figures with their bootstrap intervals.
      const p = r.policy
      const plan = await rows('#risk-targeting-plan')
      expect(plan.map((x) => x[1])).toEqual([
        money(r.budget, lang),
        formatNumber(p.members, 'members', { lang, currency: 'CNY' }),
        withInterval(p.retained, 'members', lang),
        withInterval(p.revenue, 'currency', lang),
        withInterval(p.cost, 'currency', lang),
        withInterval(p.net, 'currency', lang),
        p.roi === null
          ? '–'
          : `${p.roi.estimate.toFixed(2)}×` +
            (p.roi.low === null || p.roi.high === null
              ? ''
              : ` (${p.roi.low.toFixed(2)}× … ${p.roi.high.toFixed(2)}×)`),
      ])
      // The plan says which model chose its members.
      expect(await page.locator('#risk-plan-learner').textContent()).toBe(
        (LABELS[lang]['planLearner'] ?? '').replace('{learner}', model(r.learner) ?? ''),
      )
      expect(p.members).toBeGreaterThan(0)
      expect(p.cost.estimate).toBeLessThanOrEqual(r.budget)
      expect(text).toContain(r.campaignId)
      // The section's words, ids from the data (the run, the offers: `code.id`) left out.
      const section = await page.evaluate(() => {
        const box = document.querySelector('#risk-uplift')?.cloneNode(true) as HTMLElement
        box.querySelectorAll('code.id').forEach((e) => e.remove())
        const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT)
        const parts: string[] = []
        for (let n = walk.nextNode(); n !== null; n = walk.nextNode())
          parts.push(n.textContent ?? '')
        return parts.join(' ')
      })
      if (lang === 'zh') {
        expect(englishIn(text, englishPhrases())).toEqual([])
        // Beyond the dictionary: no English word but the campaign's id, acronyms (AUUC, ROI), Qini and the
        // learners' names as the literature writes them.
        const words = (section.match(/[A-Za-z][A-Za-z_-]*[A-Za-z0-9]/g) ?? []).filter(
          (w) =>
            !/^[A-Z]+$/.test(w) &&
            !['Qini', 'T-learner', 'X-learner'].includes(w) &&
            !r.campaignId.includes(w),
        )
        expect(words).toEqual([])
        expect(section).toContain('预算内方案')
      } else {
        expect(section).toContain('Plan within the budget')
      }
      await page.locator('#risk-uplift').screenshot({ path: `${SHOTS}/risk-uplift-${lang}.png` })
      expect(consoleErrors).toEqual([])
    })
  }
})
