/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against `memberlens serve` on
 * 127.0.0.1, over simulated data. Every page loads without console errors, charts render with data, a filter
 * changes the numbers, the language switch works and member search finds a member. Screenshots of each page
 * go to test-results/dashboard/.
 */
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyStore } from '../../src/api/keys.js'
import { startServer, type RunningServer } from '../../src/cli/server.js'
import { runDemoLoyalty } from '../../src/cli/commands/demo.js'
import { runDemoModels } from '../../src/cli/demo-models.js'
import { saveSegment } from '../../src/engine/segments/segment-store.js'
import { simulate } from '../../src/simulate/simulate.js'
import { ingestFile } from '../../src/duckdb/ingest/ingest.js'
import { openDatabase } from '../../src/store/database.js'
import { TEST_CLOCK, scratch } from '../helpers/db.js'
import { runCli } from '../helpers/cli.js'
import {
  ROOT,
  englishIn,
  englishPhrases,
  launchBrowser,
  newWatchedPage,
  prepareBrowserTest,
  settledText,
} from './helpers.js'
import { INGEST_TABLES } from '../../src/core/schema.js'

const SHOTS = resolve(ROOT, 'test-results/dashboard')

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
let server: RunningServer
let browser: Browser
let page: Page
let operatorKey: string
let listDb: string
const consoleErrors: string[] = []

beforeAll(async () => {
  prepareBrowserTest()
  s = await scratch()
  const sim = await simulate(`${s.dir}/data`, { members: 1500, months: 24, seed: 5 })
  const dbPath = `${s.dir}/dash.duckdb`
  const db = await openDatabase(dbPath)
  for (const t of INGEST_TABLES)
    await ingestFile(db.driver, sim.files[t] as string, { table: t, clock: TEST_CLOCK })
  await saveSegment(
    db.driver,
    { name: 'zhejiang', description: 'members in 浙江', filter: { region: ['浙江'] } },
    TEST_CLOCK,
  )
  // CLV and churn-risk runs, as the demo makes them, for the Value and Risk pages.
  await runDemoModels(db.driver, TEST_CLOCK)
  // The loyalty program replayed and synced, as the demo does, for the Loyalty page.
  const loyalty = await runDemoLoyalty(db, `${s.dir}/ledger`, TEST_CLOCK)
  if ('skipped' in loyalty) throw new Error(loyalty.skipped)
  await db.close()
  // Member tags of a month, as `tags compute` writes them, for the segment builder's tag boxes.
  const tagged = await runCli([
    'tags',
    'compute',
    '--config',
    resolve(ROOT, 'examples/tags.yaml'),
    '--period',
    '2026-10',
    '--db',
    dbPath,
  ])
  if (tagged.code !== 0) throw new Error(tagged.err)
  listDb = dbPath
  operatorKey = (await new KeyStore(`${s.dir}/keys.json`, TEST_CLOCK).create('builder', 'operator'))
    .secret
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

async function svgPaths(selector: string): Promise<number> {
  return page.locator(`${selector} svg path`).count()
}

describe('dashboard', () => {
  it('overview: key figures with 环比/同比 for a month of the data, the metric tree with its change rates folded into the cards, and a trend chart', async () => {
    await page.goto(server.dashboardUrl)
    await page.waitForSelector('article.card.core')
    expect(await page.locator('article.card.core').count()).toBe(3)
    expect(await page.locator('article.card.related').count()).toBe(3)
    // The tree's change-rate nodes are part of their core card (with their own status), not cards of their own.
    expect(await page.locator('article.card.trend').count()).toBe(0)
    expect(await page.locator('article.card.core [data-change="pop"] .status').count()).toBe(3)
    expect(await page.locator('article.card.core [data-change="yoy"] .status').count()).toBe(3)
    await page.waitForFunction(() => document.querySelectorAll('#trend-chart svg path').length > 3)
    expect(await svgPaths('#trend-chart')).toBeGreaterThan(3)
    // The retail calendar's 春节, 618 and 双11 are marked on the time axis, named in the language.
    const marks = (selector: string) =>
      page.evaluate(
        (s) => [...document.querySelectorAll(`${s} svg text`)].map((t) => t.textContent ?? ''),
        selector,
      )
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#trend-chart svg text')].some(
        (t) => t.textContent === 'Chinese New Year',
      ),
    )
    expect(await marks('#trend-chart')).toEqual(
      expect.arrayContaining(['Chinese New Year', '618 mid-year sale']),
    )
    // The data's last complete month by default, picked among the data's months.
    expect(await page.locator('h1').textContent()).toContain('2026-10')
    expect(await page.inputValue('#overview-period')).toBe('2026-10')
    // The key figures, formatted for a manager: money with ¥ and K/M, counts whole, rates in %; changes
    // relative for counts and money, in percentage points for rates, in points for NPS.
    const key = page.locator('#key-figures article.card.key')
    expect(
      await key.evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset['metric'])),
    ).toEqual([
      'members_total',
      'active_members',
      'buyers',
      'orders',
      'net_revenue',
      'repurchase_rate',
      'nps',
    ])
    const figure = async (metric: string, part: string) =>
      (await page.locator(`#key-figures [data-metric="${metric}"] ${part}`).textContent()) ?? ''
    expect(await figure('net_revenue', '.value')).toMatch(/^¥\d[\d,.]*[KM]?$/)
    expect(await figure('members_total', '.value')).toMatch(/^\d[\d,]*$|^\d[\d.]*K$/)
    expect(await figure('orders', '.value')).toMatch(/^\d[\d,]*$/)
    expect(await figure('repurchase_rate', '.value')).toMatch(/^\d+\.\d%$/)
    expect(await figure('net_revenue', '[data-change="pop"]')).toMatch(/^vs prev\. [+-]?\d+\.\d%$/)
    expect(await figure('net_revenue', '[data-change="yoy"]')).toMatch(
      /^vs last year [+-]?\d+\.\d%$/,
    )
    expect(await figure('repurchase_rate', '[data-change="pop"]')).toMatch(/ [+-]?\d+\.\d pp$/)
    expect(await figure('nps', '[data-change="yoy"]')).toMatch(/ [+-]?\d+\.\d$/)
    // Each figure has its ⓘ with the glossary's definition.
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#app .card .info')].every((e) => e.getAttribute('title')),
    )
    expect(await page.locator('#key-figures .info').count()).toBe(7)
    expect(
      await page
        .locator('#key-figures [data-metric="repurchase_rate"] .info')
        .getAttribute('title'),
    ).toContain('two or more purchases')
    // What moved net revenue: its exact split into buyers, frequency and AOV, and the largest source found by
    // the drill through region and registration channel.
    expect(await page.locator('#why-changed p').textContent()).toMatch(
      /^Net revenue [+−]?\d+\.\d% vs previous month: (Buyers|Purchase frequency|Average order value) [+−]?\d+\.\d pts, .*; largest: \S+ · \S/,
    )
    // Another month: the title, the figures and the tree follow it.
    const october = (await page.locator('#key-figures').textContent()) ?? ''
    await page.selectOption('#overview-period', '2025-10')
    await page.waitForFunction(() => document.querySelector('h1')?.textContent?.includes('2025-10'))
    await page.waitForSelector('#key-figures')
    expect(await page.locator('#key-figures').textContent()).not.toBe(october)
    // The data's first month has no month before it and no year before it: "–", never a 0% change.
    const oldest = await page.locator('#overview-period option').last().getAttribute('value')
    await page.selectOption('#overview-period', oldest ?? '')
    await page.waitForFunction(
      (m) => document.querySelector('h1')?.textContent?.includes(m),
      oldest ?? '',
    )
    await page.waitForSelector('#key-figures')
    expect(await figure('orders', '[data-change="pop"]')).toBe('vs prev. –')
    expect(await figure('orders', '[data-change="yoy"]')).toBe('vs last year –')
    // …and no month before it to explain a change by.
    expect(await page.locator('#why-changed').count()).toBe(0)
    await page.selectOption('#overview-period', '2026-10')
    await page.waitForFunction(() => document.querySelector('h1')?.textContent?.includes('2026-10'))
    await page.waitForFunction(() => document.querySelectorAll('#trend-chart svg path').length > 3)
    // Split the trend by registration channel: one line per channel.
    await page.selectOption('#trend-dim', 'registration_channel')
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#trend-chart .echarts-legend, #trend-chart svg text').length > 4,
    )
    await page.screenshot({ path: `${SHOTS}/overview.png`, fullPage: true })

    // A server configured for Chinese opens the dashboard in Chinese until the viewer picks a language; on
    // an empty database the overview says how to load data.
    const zhServer = await startServer({
      db: ':memory:',
      create: true,
      host: '127.0.0.1',
      port: 0,
      keys: `${s.dir}/keys.json`,
      alerts: `${s.dir}/zh-alerts.json`,
      lang: 'zh',
      alertsEvery: 0,
    })
    const fresh = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    fresh.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    try {
      await fresh.goto(zhServer.dashboardUrl)
      await fresh.waitForSelector('#app .notice.empty')
      expect(await fresh.locator('header nav a').first().textContent()).toBe('总览')
      expect(await fresh.inputValue('#lang')).toBe('zh')
      expect(await fresh.locator('#app .notice.empty').textContent()).toContain('memberlens demo')
      // Retention and the explorer say the same under their own titles (a hash change re-renders the page:
      // wait for the new title, not for the notice the previous page left).
      for (const [name, title] of [
        ['retention', '留存'],
        ['explore', '指标'],
      ]) {
        await fresh.goto(`${zhServer.url}/#/${name}`)
        await fresh.waitForFunction(
          (h) => document.querySelector('#app h1')?.textContent === h,
          title,
        )
        expect(await fresh.locator('#app .notice.empty').textContent()).toContain('memberlens demo')
      }
      await fresh.goto(`${zhServer.url}/#/overview`)
      await fresh.waitForSelector('#app .notice.empty')
      // The viewer's choice wins over the server's.
      await fresh.selectOption('#lang', 'en')
      await fresh.reload()
      await fresh.waitForSelector('#app .notice.empty')
      expect(await fresh.locator('header nav a').first().textContent()).toBe('Overview')
    } finally {
      await fresh.close()
      await zhServer.close()
    }
  })

  it('metrics explorer: a filter changes the numbers', async () => {
    await page.goto(`${server.url}/#/explore`)
    await page.waitForSelector('#explore-table table')
    const all = await page.locator('#explore-table td.num').allTextContents()
    // The filter offers the regions the data holds, named in the page's language, with their members:
    // 浙江 is "Zhejiang" in English, and nothing the data does not hold can be asked for.
    expect(await page.locator('#explore-where').evaluate((e) => e.tagName)).toBe('SELECT')
    expect(await page.inputValue('#explore-where-dim')).toBe('region')
    expect(await page.locator('#explore-where option[value="浙江"]').textContent()).toMatch(
      /^Zhejiang · \d[\d,]*$/,
    )
    const regions = await page
      .locator('#explore-where option')
      .evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value).filter((v) => v !== ''))
    expect(regions.length).toBeGreaterThan(3)
    await page.selectOption('#explore-where', '浙江')
    await page.click('#explore-run')
    await page.waitForFunction((before) => {
      const now = [...document.querySelectorAll('#explore-table td.num')]
        .map((e) => e.textContent)
        .join('|')
      return now !== '' && now !== before
    }, all.join('|'))
    const filtered = await page.locator('#explore-table td.num').allTextContents()
    expect(filtered).not.toEqual(all)
    expect(await svgPaths('#explore-chart')).toBeGreaterThan(1)
    await page.screenshot({ path: `${SHOTS}/explore.png`, fullPage: true })
    // Another member field: its own values, in words (registration channels as the dashboard names them).
    await page.selectOption('#explore-where-dim', 'registration_channel')
    await page.waitForFunction(() => !document.querySelector('#explore-where option[value="浙江"]'))
    const channels = await page.locator('#explore-where option').allTextContents()
    expect(channels.length).toBeGreaterThan(2)
    for (const c of channels) expect(c).not.toMatch(/_/)
    // An alert's link with a filter opens with it chosen.
    await page.goto(`${server.url}/#/explore?metric=orders&period=2026-06&where=region=浙江`)
    await page.waitForSelector('#explore-table table')
    expect(await page.inputValue('#explore-where')).toBe('浙江')
  })

  it('metrics explorer opens an alert link: the metric over the year up to the period', async () => {
    await page.goto(`${server.url}/#/explore?metric=aov&period=2026-06`)
    await page.waitForSelector('#explore-table table')
    expect(await page.locator('#explore-metric').inputValue()).toBe('aov')
    expect(await page.locator('#explore-from').inputValue()).toBe('2025-07')
    expect(await page.locator('#explore-to').inputValue()).toBe('2026-06')
    expect(await page.locator('#explore-table tbody tr').count()).toBe(12)
    // A snapshot dimension: members by their lifecycle stage at the end of the range.
    await page.selectOption('#explore-by', 'lifecycle_stage')
    await page.click('#explore-run')
    await page.waitForFunction(
      () => document.querySelectorAll('#explore-table tbody tr').length > 12,
    )
  })

  it('metrics explorer past the data: the months after it read "–", as the API answers null, never 0', async () => {
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/metrics/query')),
      page.goto(`${server.url}/#/explore?metric=net_revenue&period=2026-12`),
    ])
    const body = (await answer.json()) as {
      rows: { label: string; values: Record<string, number | null> }[]
    }
    // The data ends with 2026-10: the two months after it have no figure.
    expect(body.rows.filter((r) => r.values['net_revenue'] === null).map((r) => r.label)).toEqual([
      '2026-11',
      '2026-12',
    ])
    await page.waitForSelector('#explore-table tbody tr')
    const cells = await page
      .locator('#explore-table tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      )
    expect(cells.filter((r) => r.at(-1) === '–').map((r) => r[0])).toEqual(['2026-11', '2026-12'])
  })

  it('retention: cohort heatmap in %, LTV curves of any cohort, anchor/grain/activity controls, survival curve, lifecycle stages and RFM segments', async () => {
    await page.goto(`${server.url}/#/retention`)
    await page.waitForSelector('#rfm-table tbody tr')
    await page.waitForFunction(() => document.querySelectorAll('#ltv-chart svg path').length > 8)
    expect(await svgPaths('#cohort-chart')).toBeGreaterThan(20)
    expect(await svgPaths('#ltv-chart')).toBeGreaterThan(8)
    // Heatmap cells in %.
    const cells = await page.locator('#cohort-chart svg text').allTextContents()
    expect(cells.filter((x) => /^\d+(\.\d)?%$/.test(x)).length).toBeGreaterThan(20)
    // Every cohort can be chosen for the LTV chart; at first the youngest eight.
    const cohorts = await page.locator('#ltv-cohorts option').count()
    expect(cohorts).toBeGreaterThan(12)
    const chosen = () =>
      page
        .locator('#ltv-cohorts')
        .evaluate((s) => [...(s as HTMLSelectElement).selectedOptions].map((o) => o.value))
    expect((await chosen()).length).toBe(8)
    const eight = await svgPaths('#ltv-chart')
    await page.click('#ltv-all')
    expect((await chosen()).length).toBe(cohorts)
    await page.waitForFunction(
      (n) => document.querySelectorAll('#ltv-chart svg path').length > n,
      eight,
    )
    // The oldest cohort alone.
    const oldest = (await page.locator('#ltv-cohorts option').first().getAttribute('value')) ?? ''
    await page.selectOption('#ltv-cohorts', [oldest])
    expect(await chosen()).toEqual([oldest])
    await page.waitForFunction(
      (n) => document.querySelectorAll('#ltv-chart svg path').length < n,
      eight,
    )
    // Quarters: cohorts named by quarter. Activity by purchase, then cohorts by first purchase: other rates.
    await page.selectOption('#retention-grain', 'quarter')
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#cohort-chart svg text')].some((e) =>
        / Q[1-4] \(/.test(e.textContent ?? ''),
      ),
    )
    const rates = async () => (await page.locator('#cohort-chart').textContent()) ?? ''
    let before = await rates()
    await page.selectOption('#retention-activity', 'purchase')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#cohort-chart')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    before = await rates()
    await page.selectOption('#retention-anchor', 'first-purchase')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#cohort-chart')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    expect(await svgPaths('#ltv-chart')).toBeGreaterThan(3)
    expect(await svgPaths('#survival-chart')).toBeGreaterThan(2)
    expect(await page.locator('#survival-summary').textContent()).toMatch(/median lifetime/)
    expect(await svgPaths('#stage-chart')).toBeGreaterThan(3)
    expect(await page.locator('#rfm-table tbody tr').count()).toBeGreaterThan(3)
    await page.screenshot({ path: `${SHOTS}/retention.png`, fullPage: true })
  })

  it('lifecycle: stage sizes over time, a Sankey of flows and the action per stage', async () => {
    await page.goto(`${server.url}/#/lifecycle`)
    await page.waitForSelector('#lifecycle-flow-table tbody tr')
    await page.waitForFunction(
      () => document.querySelectorAll('#lifecycle-sizes-chart svg path').length > 20,
    )
    await page.waitForFunction(
      () => document.querySelectorAll('#lifecycle-sankey svg path').length > 8,
    )
    expect(await page.locator('#lifecycle-actions tbody tr').count()).toBe(8)
    // A different first date changes the flows.
    const before = (await page.locator('#lifecycle-flow-table').textContent()) ?? ''
    await page.fill('#flow-from', '2025-10-01')
    await page.click('#flow-run')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#lifecycle-flow-table')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    // Quarters instead of months: fewer bars.
    const monthly = await svgPaths('#lifecycle-sizes-chart')
    await page.selectOption('#lifecycle-grain', 'quarter')
    await page.waitForFunction((n) => {
      const k = document.querySelectorAll('#lifecycle-sizes-chart svg path').length
      return k > 0 && k < n
    }, monthly)
    await page.screenshot({ path: `${SHOTS}/lifecycle.png`, fullPage: true })
  })

  it('segments: the RFM grid, named segments and saved segments; the date changes the numbers', async () => {
    await page.goto(`${server.url}/#/segments`)
    await page.waitForSelector('#rfm-segment-table tbody tr')
    await page.waitForSelector('#saved-segment-table tbody tr')
    await page.waitForFunction(
      () => document.querySelectorAll('#rfm-grid-chart svg path').length > 10,
    )
    expect(await page.locator('#rfm-segment-table tbody tr').count()).toBe(11)
    expect(await page.locator('#saved-segment-table').textContent()).toContain('zhejiang')
    const before = (await page.locator('#rfm-segment-table').textContent()) ?? ''
    await page.fill('#segments-asof', '2026-01-01')
    await page.click('#segments-run')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#rfm-segment-table')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    await page.waitForSelector('#saved-segment-table tbody tr')
    // The builder: a preview of a definition; the session's analyst key may not save or export.
    await page.click('#builder-preview')
    await page.waitForSelector('#builder-result .notice')
    await page.check('#builder-stages-at_risk')
    // Regions as the data holds them, named in the page's language.
    expect(await page.locator('#builder-regions label', { hasText: 'Zhejiang' }).count()).toBe(1)
    await page.check('#builder-regions input[value="浙江"]')
    await page.click('#builder-preview')
    await page.waitForSelector('#builder-preview-table tbody tr')
    const members = Number(
      ((await page.locator('#builder-preview-table tbody td').first().textContent()) ?? '').replace(
        /[^0-9]/g,
        '',
      ),
    )
    expect(members).toBeGreaterThan(0)
    expect(await page.locator('#builder-save').isDisabled()).toBe(true)
    expect(await page.locator('#saved-segment-table button.export').first().isDisabled()).toBe(true)
    await page.screenshot({ path: `${SHOTS}/segments.png`, fullPage: true })
  })

  it('segments as an operator: a built segment is saved, listed and exported', async () => {
    const op = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    op.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    try {
      await op.goto(`${server.url}/#key=${operatorKey}`)
      await op.waitForSelector('article.card')
      await op.goto(`${server.url}/#/segments`)
      await op.waitForSelector('#builder-save:not([disabled])')
      await op.check('#builder-regions input[value="浙江"]')
      await op.fill('#builder-name', 'zj-builder')
      await op.click('#builder-save')
      await op.waitForFunction(() =>
        (document.querySelector('#saved-segment-table')?.textContent ?? '').includes('zj-builder'),
      )
      const row = op.locator('#saved-segment-table tbody tr', { hasText: 'zj-builder' })
      const [file] = await Promise.all([
        op.waitForEvent('download'),
        row.locator('button.export').click(),
      ])
      expect(file.suggestedFilename()).toContain('zj-builder')
      const chunks: Buffer[] = []
      for await (const c of (await file.createReadStream()) as AsyncIterable<Buffer>) chunks.push(c)
      const csv = Buffer.concat(chunks).toString('utf8').trim().split(/\r?\n/)
      expect(csv[0]).toContain('member_id')
      expect(csv.length).toBeGreaterThan(1)
    } finally {
      await op.close()
    }
  })

  it('segments as an operator: the builder offers tags, churn risk, CLV and P(alive), and saves an uploaded list', async () => {
    const op = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    op.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    try {
      await op.goto(`${server.url}/#key=${operatorKey}`)
      await op.waitForSelector('article.card')
      await op.goto(`${server.url}/#/segments`)
      await op.waitForSelector('#builder-save:not([disabled])')
      // One box per tag group, the churn classes, and the score bounds.
      expect(await op.locator('#builder-tags-value input[type=checkbox]').count()).toBeGreaterThan(
        1,
      )
      expect(await op.locator('#builder-risk input[type=checkbox]').count()).toBeGreaterThan(3)
      for (const id of ['risk-min', 'clv-min', 'clv-max', 'palive-min', 'palive-max'])
        expect(await op.locator(`#builder-${id}`).count(), id).toBe(1)
      // An uploaded list: two members by identity and a line that matches no one.
      const d = await openDatabase(listDb, { readOnly: true })
      const ids = await d.driver
        .all<{ t: string; v: string; m: bigint }>({
          sql: `SELECT identity_type AS t, identity_value AS v, member_id AS m FROM identities
            WHERE identity_type IN ('card_no', 'app_user_id') QUALIFY row_number() OVER (PARTITION BY identity_type ORDER BY member_id) = 1
            ORDER BY identity_type`,
          parameters: [],
        })
        .finally(() => d.close())
      expect(ids.length).toBe(2)
      const text = [...ids.map((i) => `${i.t}:${i.v}`), 'phone:13000000000'].join('\n')
      await op.setInputFiles('#builder-list', {
        name: 'crm.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from(text),
      })
      await op.waitForFunction(() =>
        (document.querySelector('#builder-list-result')?.textContent ?? '').includes('matched'),
      )
      const members = [...new Set(ids.map((i) => Number(i.m)))]
      expect(await op.locator('#builder-list-result').textContent()).toBe(
        `2 lines matched, 1 unmatched: ${members.length} members`,
      )
      await op.click('#builder-preview')
      await op.waitForSelector('#builder-preview-table tbody tr')
      expect(
        Number(
          (
            (await op.locator('#builder-preview-table tbody td').first().textContent()) ?? ''
          ).replace(/[^0-9]/g, ''),
        ),
      ).toBe(members.length)
      await op.fill('#builder-name', 'crm-upload')
      await op.click('#builder-save')
      await op.waitForFunction(() =>
        (document.querySelector('#saved-segment-table')?.textContent ?? '').includes('crm-upload'),
      )
      const saved = await op.evaluate(async (key) => {
        const r = await fetch('/api/v1/segments/crm-upload', {
          headers: { authorization: `Bearer ${key}` },
        })
        return (await r.json()) as { filter: { memberIds?: number[] } }
      }, operatorKey)
      expect(saved.filter.memberIds).toEqual(members.sort((a, b) => a - b))
    } finally {
      await op.close()
    }
  })

  it('voice and experiments: NPS/CSAT and service trends, an experiment report; a split changes the table', async () => {
    await page.goto(`${server.url}/#/voice`)
    await page.waitForSelector('#voice-total-table tbody tr')
    await page.waitForFunction(
      () => document.querySelectorAll('#voice-nps-chart svg path').length > 3,
    )
    await page.waitForFunction(
      () => document.querySelectorAll('#voice-service-chart svg path').length > 3,
    )
    await page.waitForSelector('#experiment-effects tbody tr')
    await page.waitForFunction(
      () => document.querySelectorAll('#experiment-chart svg path').length > 1,
    )
    expect(await page.locator('#voice-total-table tbody tr').count()).toBe(1)
    await page.selectOption('#voice-by', 'region')
    await page.waitForFunction(
      () => document.querySelectorAll('#voice-total-table tbody tr').length > 1,
    )
    const before = (await page.locator('#experiment-effects').textContent()) ?? ''
    await page.selectOption('#experiment-metric', 'orders')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#experiment-effects')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    await page.screenshot({ path: `${SHOTS}/voice.png`, fullPage: true })
  })

  it('value: CLV distribution, P(alive) grid and holdout validation; the holdout end changes the numbers', async () => {
    await page.goto(`${server.url}/#/value`)
    await page.waitForSelector('#value-summary tbody tr')
    await page.waitForSelector('#value-validation-table tbody tr')
    // The portfolio total's bootstrap intervals: CLV and purchases with a lower–upper range.
    await page.waitForSelector('#value-intervals-table tbody tr')
    expect(await page.locator('#value-intervals-table tbody tr').count()).toBe(3)
    expect(await page.locator('#value-intervals-table tbody tr').first().textContent()).toMatch(
      /¥[\d,.]+[KM]?\s*–\s*¥[\d,.]+[KM]?/,
    )
    await page.waitForFunction(
      () => document.querySelectorAll('#value-histogram svg path').length > 5,
    )
    await page.waitForFunction(
      () => document.querySelectorAll('#value-palive svg path').length > 10,
    )
    await page.waitForFunction(
      () => document.querySelectorAll('#value-validation-chart svg path').length > 5,
    )
    await page.waitForFunction(
      () => document.querySelectorAll('#value-tracking-chart svg path').length > 1,
    )
    const before = (await page.locator('#value-validation-table').textContent()) ?? ''
    const end = await page.inputValue('#value-holdout')
    const earlier = new Date(Date.parse(`${end}T00:00:00Z`) - 60 * 86_400_000)
      .toISOString()
      .slice(0, 10)
    await page.fill('#value-holdout', earlier)
    await page.click('#value-run')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#value-validation-table')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    await page.screenshot({ path: `${SHOTS}/value.png`, fullPage: true })
  })

  it('risk and win-back: CLV at risk, churn-reason mix, early-warning list; filters change the numbers; CSV export', async () => {
    await page.goto(`${server.url}/#/risk`)
    await page.waitForSelector('#risk-class-table tbody tr')
    await page.waitForSelector('#risk-list tbody tr')
    for (const id of ['#risk-class-chart', '#risk-reasons-chart', '#risk-score-chart'])
      await page.waitForFunction(
        (sel) => document.querySelectorAll(`${sel} svg path`).length > 3,
        id,
      )
    const kpis = (await page.locator('#risk-kpis').textContent()) ?? ''
    await page.selectOption('#risk-threshold', '0.7')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#risk-kpis')?.textContent ?? ''
      return now !== '' && now !== b
    }, kpis)
    await page.waitForSelector('#risk-list tbody tr')
    const cls =
      (await page.locator('#risk-class-table button.export').first().getAttribute('data-class')) ??
      ''
    await page.selectOption('#risk-class', cls)
    await page.waitForFunction(
      (label) => {
        const cells = [...document.querySelectorAll('#risk-list tbody tr td:nth-child(3)')]
        return cells.length > 0 && cells.every((c) => c.textContent === label)
      },
      (await page.locator('#risk-class-table tbody tr td').first().textContent()) ?? '',
    )
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#risk-class-table button.export').first().click(),
    ])
    expect(file.suggestedFilename()).toMatch(/\.csv$/)
    await page.screenshot({ path: `${SHOTS}/risk.png`, fullPage: true })
  })

  it('loyalty: points per month, liability, tiers and movements; the range changes the numbers', async () => {
    await page.goto(`${server.url}/#/loyalty`)
    await page.waitForSelector('#loyalty-kpis tbody tr')
    await page.waitForSelector('#loyalty-movements tbody tr')
    for (const id of ['#loyalty-points-chart', '#loyalty-tier-chart', '#loyalty-moves-chart'])
      await page.waitForFunction(
        (sel) => document.querySelectorAll(`${sel} svg path`).length > 3,
        id,
      )
    const before = (await page.locator('#loyalty-kpis').textContent()) ?? ''
    const to = await page.inputValue('#loyalty-to')
    await page.fill('#loyalty-from', to)
    await page.click('#loyalty-run')
    await page.waitForFunction((b) => {
      const now = document.querySelector('#loyalty-kpis')?.textContent ?? ''
      return now !== '' && now !== b
    }, before)
    await page.screenshot({ path: `${SHOTS}/loyalty.png`, fullPage: true })
  })

  it('drivers: a bar chart of correlations', async () => {
    await page.goto(`${server.url}/#/drivers`)
    await page.waitForFunction(
      () => document.querySelectorAll('#drivers-chart svg path').length > 5,
    )
    await page.screenshot({ path: `${SHOTS}/drivers.png`, fullPage: true })
  })

  it('member 360: a header card, labelled fields and the timeline by day with filters (personal data masked)', async () => {
    await page.goto(`${server.url}/#/member`)
    await page.fill('#member-query', '1')
    await page.click('#member-search')
    await page.waitForSelector('#member-card')
    expect(await page.locator('#member-card h2').textContent()).toBe('Member 1')
    // The analyst session sees the phone masked.
    expect(await page.locator('#member-who').textContent()).toContain('****')
    // Tier (the demo's synced ledger), lifecycle stage and churn risk with its reasons in words.
    const card = (await page.locator('#member-card').textContent()) ?? ''
    // The tier by its name in the program file.
    expect(await page.locator('#member-card [data-badge="tier"]').textContent()).toMatch(
      /^(Member|Silver|Gold|Platinum)$/,
    )
    expect(await page.locator('#member-card [data-badge="stage"]').textContent()).toMatch(
      /^Lifecycle stage: /,
    )
    for (const k of ['risk', 'clv', 'pAlive', 'points', 'expiring'])
      expect(await page.locator(`#member-card [data-kpi="${k}"] .value`).textContent()).not.toBe('')
    expect(card).toMatch(/¥/)
    const reasons = await page.locator('#member-card ul.reasons li').allTextContents()
    for (const r of reasons) expect(r).not.toMatch(/_/)
    // Labelled fields: no camelCase keys, no JSON, consent in words.
    const profile = (await page.locator('#member-profile').textContent()) ?? ''
    expect(profile).toContain('Registered')
    expect(profile).toMatch(/may contact|do not contact/)
    expect(profile).not.toMatch(/true|false|[{}]/)
    // The timeline, grouped by day and newest first; a kind button shows only that kind.
    const days = await page
      .locator('#member-timeline section.day')
      .evaluateAll((s) => s.map((x) => (x as HTMLElement).dataset['day'] ?? ''))
    expect(days.length).toBeGreaterThan(0)
    expect([...days].sort().reverse()).toEqual(days)
    const all = await page.locator('#member-timeline li').count()
    await page.click('.timeline-filters button[data-kind="order"]')
    const kinds = await page
      .locator('#member-timeline li')
      .evaluateAll((l) => l.map((x) => (x as HTMLElement).dataset['kind']))
    expect(kinds.length).toBeGreaterThan(0)
    expect(kinds.length).toBeLessThan(all)
    expect(new Set(kinds)).toEqual(new Set(['order']))
    await page.click('.timeline-filters button[data-kind="all"]')
    expect(await page.locator('#member-timeline li').count()).toBe(all)
    await page.screenshot({ path: `${SHOTS}/member.png`, fullPage: true })
    // An unknown member: a not-found message, not an error dump.
    const logged = consoleErrors.length
    await page.fill('#member-query', 'phone:13000000000')
    await page.click('#member-search')
    await page.waitForSelector('#member-result .notice')
    expect(await page.locator('#member-result .notice').textContent()).toContain(
      'No member matches',
    )
    // The browser logs the look-up's own 404, and nothing else.
    expect(consoleErrors.splice(logged)).toEqual([expect.stringContaining('404')])
  })

  it('member 360 as an operator: the phone in clear, and a search by it finds the member', async () => {
    const op = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    op.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    try {
      await op.goto(`${server.url}/#key=${operatorKey}`)
      await op.waitForSelector('article.card')
      await op.goto(`${server.url}/#/member/1`)
      await op.waitForSelector('#member-card')
      const phone = await op
        .locator('#member-identities tr', { hasText: 'Phone' })
        .locator('td')
        .textContent()
      const shown = /^(\+\d{11,13})/.exec(phone ?? '')?.[1]
      expect(shown).toBeDefined()
      expect(await op.locator('#member-who').textContent()).toContain(shown)
      // Found by the number as shown (with its country code), and as a person types it (11 digits).
      await op.goto(`${server.url}/#/member`)
      for (const q of [shown ?? '', (shown ?? '').slice(-11)]) {
        await op.fill('#member-query', q)
        const [answer] = await Promise.all([
          op.waitForResponse((r) => r.url().includes('/api/v1/members/')),
          op.click('#member-search'),
        ])
        expect(answer.status()).toBe(200)
        await op.waitForSelector('#member-card')
        expect(await op.locator('#member-card h2').textContent()).toBe('Member 1')
      }
    } finally {
      await op.close()
    }
  })

  it('switches to Chinese', async () => {
    await page.goto(`${server.url}/#/overview`)
    await page.selectOption('#lang', 'zh')
    await page.waitForFunction(() => document.querySelector('header nav a')?.textContent === '总览')
    await page.waitForSelector('article.card.core')
    expect(await page.locator('article.card.core .name').first().textContent()).toContain(
      '购买频次',
    )
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#trend-chart svg text')].some((t) => t.textContent === '春节'),
    )
    await page.screenshot({ path: `${SHOTS}/overview-zh.png`, fullPage: true })
    // A new page in Chinese: translated headings and stage names.
    await page.goto(`${server.url}/#/lifecycle`)
    await page.waitForSelector('#lifecycle-actions tbody tr')
    expect(await page.locator('h1').textContent()).toBe('生命周期')
    expect(await page.locator('#lifecycle-actions').textContent()).toContain('新客引导旅程')
    await page.screenshot({ path: `${SHOTS}/lifecycle-zh.png`, fullPage: true })
    await page.selectOption('#lang', 'en')
  })

  it('in Chinese, no page shows an English label of the dashboard’s own dictionary; Member 360 shows no raw keys', async () => {
    const phrases = englishPhrases()
    const pages = ['overview', 'explore', 'retention', 'lifecycle', 'segments', 'risk', 'loyalty']
    pages.push('value', 'voice', 'drivers', 'member/1')
    await page.goto(`${server.url}/#/overview`)
    await page.selectOption('#lang', 'zh')
    const found: string[] = []
    try {
      for (const name of pages) {
        await page.goto(`${server.url}/#/${name}`)
        const text = await settledText(page)
        found.push(...englishIn(text, phrases).map((p) => `${name}: ${p}`))
        // No part of the page failed to load.
        const failed = await page.locator('#app .notice.error').allTextContents()
        found.push(...failed.map((f) => `${name}: error notice "${f}"`))
        await page.screenshot({ path: `${SHOTS}/${name.replace('/', '-')}-zh.png`, fullPage: true })
        if (name === 'member/1') {
          const member = (await page.locator('#member-result').textContent()) ?? ''
          expect(member).toContain('会员 1')
          expect(await page.locator('#member-card [data-badge="tier"]').textContent()).toMatch(
            /^(普通会员|银卡会员|金卡会员|白金会员)$/,
          )
          // No camelCase keys, no JSON braces, no true/false.
          expect(member).not.toMatch(/\b[a-z]+[A-Z][a-zA-Z]*\b|[{}]|\b(true|false)\b/)
          await page.screenshot({ path: `${SHOTS}/member-top-zh.png` })
        }
      }
    } finally {
      await page.selectOption('#lang', 'en')
    }
    expect(found).toEqual([])
    // The same pages in English, for the screenshots.
    for (const name of pages) {
      await page.goto(`${server.url}/#/${name}`)
      await settledText(page)
      await page.screenshot({ path: `${SHOTS}/${name.replace('/', '-')}-en.png`, fullPage: true })
      if (name === 'member/1') await page.screenshot({ path: `${SHOTS}/member-top-en.png` })
    }
  })

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([])
  })
})
