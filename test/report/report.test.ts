import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildHtmlReport, lineChartSvg } from '../../src/analytics/reporting/report.js'
import { scratch } from '../helpers/db.js'

type Scratch = Awaited<ReturnType<typeof scratch>>
let s: Scratch
beforeAll(async () => {
  s = await scratch()
  await s.ingest(
    'orders',
    await s.file(
      'o.csv',
      'order_id,phone,ordered_at,channel,net_amount\nA,13800000001,2024-01-05,app,100\nB,13800000001,2024-02-05,app,50\nC,13800000002,2024-02-10,web,30\n',
    ),
  )
})
afterAll(async () => {
  await s.cleanup()
})

describe('HTML report', () => {
  it('holds the tree, the key figures and inline SVG charts, with nothing loaded from elsewhere', async () => {
    const html = await buildHtmlReport(s.db.driver, {
      period: '2024-02',
      lang: 'zh',
      generatedAt: '2026-11-01 00:00 UTC',
    })
    expect(html).toContain('<html lang="zh-CN">')
    expect(html).toContain('提升会员忠诚度与收入 — 2024-02')
    expect(html).toContain('消费金额')
    // Net revenue in February: 50 + 30.
    expect(html).toMatch(/消费金额<\/td>\s*<td class="num">80\.00<\/td>/)
    expect(html.match(/<svg /g)).toHaveLength(3)
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    expect(urls).toEqual([])
    expect(html).not.toMatch(/<script/)
  })

  it('renders a chart as SVG on the server', () => {
    const svg = lineChartSvg('x', ['a', 'b', 'c'], [1, null, 3])
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('<path')
  })
})
