/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Loyalty page's "what if" view in a real browser, against `memberlens serve` with a ledger and the example
 * program on 127.0.0.1: the current program and its parameters are shown, an edited earn rate is backtested and
 * the difference appears as a table and a chart; a pasted program with an error names the field, one with budgets
 * shows the day each was reached; in Chinese the view shows no English labels.
 */
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDemoLoyalty } from '../../src/cli/commands/demo.js'
import { startServer, type RunningServer } from '../../src/cli/server.js'
import { INGEST_TABLES } from '../../src/core/schema.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { simulate } from '../../src/simulate/simulate.js'
import { openDatabase } from '../../src/store/database.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'
import {
  ROOT,
  englishIn,
  englishPhrases,
  launchBrowser,
  newWatchedPage,
  prepareBrowserTest,
} from './helpers.js'

const SHOTS = resolve(ROOT, 'test-results/dashboard')

let s: Awaited<ReturnType<typeof scratch>>
let server: RunningServer
let browser: Browser
let page: Page
const consoleErrors: string[] = []

beforeAll(async () => {
  prepareBrowserTest()
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 300, months: 12, seed: 9 })
  const dbPath = `${s.dir}/whatif.duckdb`
  const db = await openDatabase(dbPath)
  for (const t of INGEST_TABLES)
    await ingestFile(db.driver, sim.files[t] as string, { table: t, clock: TEST_CLOCK })
  const loyalty = await runDemoLoyalty(db, `${s.dir}/ledger`, TEST_CLOCK)
  if ('skipped' in loyalty) throw new Error(loyalty.skipped)
  await db.close()
  server = await startServer({
    db: dbPath,
    host: '127.0.0.1',
    port: 0,
    keys: `${s.dir}/keys.json`,
    ledger: `${s.dir}/ledger`,
    program: resolve(ROOT, 'examples/loyalty-program.yaml'),
  })
  browser = await launchBrowser()
  page = await newWatchedPage(browser, consoleErrors)
  await mkdir(SHOTS, { recursive: true })
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await s?.cleanup()
})

const cell = async (row: string, col: number) =>
  (await page
    .locator(`#whatif-diff tbody tr:has(td:text-is("${row}")) td`)
    .nth(col)
    .textContent()) ?? ''
const count = (text: string) => Number(text.replace(/[^\d.-]/g, ''))

describe('loyalty what-if', () => {
  it('backtests an edited earn rate and shows the difference as a table and a chart', async () => {
    await page.goto(server.dashboardUrl)
    await page.waitForSelector('article.card.core')
    // By the menu (one route), so that no earlier render replaces the page under the test.
    await page.click('header nav a[data-page="loyalty"]')
    await page.waitForSelector('#loyalty-kpis tbody tr')
    await page.click('#whatif-open')
    await page.waitForSelector('#whatif-current tbody tr')
    expect(await page.locator('#whatif-current').textContent()).toContain('freshmart-rewards')
    expect(await page.inputValue('#whatif-rate')).toBe('1')
    expect(await page.inputValue('#whatif-expiry')).toBe('12')
    expect(await page.inputValue('#whatif-cap-order')).toBe('20000')
    await page.fill('#whatif-rate', '2')
    await page.fill('#whatif-expiry', '3')
    await page.click('#whatif-run')
    await page.waitForSelector('#whatif-diff tbody tr')
    const current = count(await cell('Points issued', 1))
    const proposed = count(await cell('Points issued', 2))
    expect(current).toBeGreaterThan(0)
    // Twice the spend points (check-ins and reviews unchanged; caps and rounding may cut a little).
    expect(proposed).toBeGreaterThan(1.5 * current)
    expect(count(await cell('Points expired', 2))).toBeGreaterThan(
      count(await cell('Points expired', 1)),
    )
    expect(await page.locator('#whatif-tiers tbody tr').count()).toBe(4)
    await page.waitForFunction(() => document.querySelectorAll('#whatif-chart svg path').length > 3)
    await page.screenshot({ path: `${SHOTS}/loyalty-whatif.png`, fullPage: true })
  })

  it('a pasted program with an error names its field', async () => {
    await page.fill(
      '#whatif-program',
      'program: x\ncurrency: CNY\npoint_value: 0.01\nearn: {caps: {per_day: -1}}\nexpiry: {policy: never}\ntiers: {basis: spend, levels: [{id: m, name: M, threshold: 0}]}\n',
    )
    await page.click('#whatif-run')
    await page.waitForSelector('#whatif-result [role="alert"]')
    expect(await page.locator('#whatif-result').textContent()).toContain(
      'program.earn.caps.per_day',
    )
    // A pasted program with budgets: the day each was reached and the points beyond it.
    await page.fill(
      '#whatif-program',
      'program: x\ncurrency: CNY\npoint_value: 0.01\nearn: {caps: {per_year: 100000}}\nexpiry: {policy: never}\ntiers: {basis: spend, levels: [{id: m, name: M, threshold: 0}]}\nbudgets: [{id: monthly, scope: global, max_points_per_month: 1}, {id: huge, scope: global, max_liability: 999999999999}]\n',
    )
    await page.click('#whatif-run')
    await page.waitForSelector('#whatif-budgets tbody tr')
    const budgetRows = await page.locator('#whatif-budgets tbody tr').allTextContents()
    expect(budgetRows).toHaveLength(2)
    expect(budgetRows[0]).toMatch(/^monthly.*\d{4}-\d{2}-\d{2}/)
    expect(budgetRows[1]).toContain('never')
    await page.fill('#whatif-program', '')
    // The refused request is logged by the browser as a failed resource; nothing else may be.
    expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([])
    consoleErrors.length = 0
  })

  it('in Chinese: no English labels in the view', async () => {
    await page.selectOption('#lang', 'zh')
    await page.waitForFunction(
      () =>
        document.querySelector('h1')?.textContent === '积分与等级' ||
        document.documentElement.lang === 'zh-CN',
    )
    await page.goto(`${server.url}/#/loyalty`)
    await page.waitForSelector('#loyalty-kpis tbody tr')
    await page.click('#whatif-open')
    await page.waitForSelector('#whatif-current tbody tr')
    await page.click('#whatif-run')
    await page.waitForSelector('#whatif-diff tbody tr')
    const text = (await page.locator('section.whatif').textContent()) ?? ''
    expect(text).toContain('拟议方案对比当前方案')
    expect(englishIn(text, englishPhrases())).toEqual([])
    await page.selectOption('#lang', 'en')
    expect(consoleErrors).toEqual([])
  })
})
