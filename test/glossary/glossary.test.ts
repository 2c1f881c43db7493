/**
 * The glossary is one source for the CLI (`memberlens explain`), the API (`/api/v1/glossary`) and the dashboard:
 * every entry is complete in both languages, every catalog metric is in it, the three "at risk" concepts have
 * three names, and the CLI and the API give the same definitions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/api/app.js'
import { KeyStore } from '../../src/api/keys.js'
import { fixedClock } from '../../src/core/clock.js'
import type { Term } from '../../src/core/glossary.js'
import { LIFECYCLE_STAGES, STAGE_NAMES } from '../../src/engine/lifecycle/lifecycle-config.js'
import { CATALOG } from '../../src/engine/metrics/catalog.js'
import {
  findTerm,
  glossary,
  METRIC_DEFINITIONS_ZH,
  nearestTerms,
} from '../../src/engine/metrics/glossary.js'
import { RFM_SEGMENT_NAMES } from '../../src/engine/rfm/rfm-config.js'
import { runCli } from '../helpers/cli.js'
import { scratch } from '../helpers/db.js'

describe('glossary', () => {
  const terms = glossary()

  it('has each id once, both languages everywhere, and related ids that exist', () => {
    const ids = terms.map((t) => t.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const t of terms) {
      expect(t.name.en.length, t.id).toBeGreaterThan(0)
      expect(t.name.zh.length, t.id).toBeGreaterThan(0)
      expect(t.definition.en.length, t.id).toBeGreaterThan(10)
      for (const r of t.related ?? []) expect(ids, `${t.id} → ${r}`).toContain(r)
    }
    for (const t of terms.filter((x) => x.kind === 'concept'))
      expect(t.definition.zh, t.id).toMatch(/[\u4e00-\u9fff]/)
  })

  it('defines every term in Chinese: CJK text of its own, never the English definition', () => {
    const cjk = /[\u4e00-\u9fff]/
    for (const t of terms) {
      expect(t.definition.zh, t.id).toMatch(cjk)
      expect(t.definition.zh, t.id).not.toContain(t.definition.en)
    }
    // Each catalog metric has a written Chinese definition, and the table names no metric the catalog lacks.
    const ids = CATALOG.map((m) => m.id)
    for (const id of ids) {
      expect(METRIC_DEFINITIONS_ZH[id], id).toMatch(cjk)
      expect(findTerm(id)?.definition.zh, id).toBe(METRIC_DEFINITIONS_ZH[id])
    }
    expect(Object.keys(METRIC_DEFINITIONS_ZH).filter((id) => !ids.includes(id))).toEqual([])
  })

  it('holds every catalog metric with its own definition and formula', () => {
    for (const m of CATALOG) {
      const t = findTerm(m.id)
      expect(t, m.id).toMatchObject({ kind: 'metric', formula: m.formula, name: m.name })
    }
  })

  it('gives the three at-risk concepts three different names in both languages', () => {
    const names = ['high_churn_risk', 'lifecycle_at_risk', 'rfm_needs_winback'].map(
      (id) => findTerm(id) as Term,
    )
    for (const lang of ['en', 'zh'] as const)
      expect(new Set(names.map((n) => n.name[lang])).size).toBe(3)
    expect(findTerm('at_risk')?.related).toEqual([
      'high_churn_risk',
      'lifecycle_at_risk',
      'rfm_needs_winback',
    ])
    // The RFM segment does not carry the lifecycle stage's name.
    expect(RFM_SEGMENT_NAMES.at_risk.en).not.toBe(STAGE_NAMES.at_risk.en)
    expect(RFM_SEGMENT_NAMES.at_risk.zh).not.toBe(STAGE_NAMES.at_risk.zh)
    expect(LIFECYCLE_STAGES).toContain('at_risk')
  })

  it('finds terms by id regardless of case and hyphens, and suggests the nearest', () => {
    expect(findTerm('Churn-Rate')?.id).toBe('churn_rate')
    expect(findTerm('nope')).toBeUndefined()
    expect(nearestTerms('at-rsk')[0]).toBe('at_risk')
    expect(nearestTerms('clv_risk')).toContain('clv_at_risk')
  })
})

describe('explain and /api/v1/glossary agree', () => {
  let s: Awaited<ReturnType<typeof scratch>>
  let app: ReturnType<typeof createApp>
  let key: string
  beforeAll(async () => {
    s = await scratch()
    const keys = new KeyStore(`${s.dir}/keys.json`, fixedClock('2026-11-01T00:00:00Z'))
    key = (await keys.create('viewer', 'viewer')).secret
    app = createApp({
      driver: s.db.driver,
      keys,
      clock: fixedClock('2026-11-01T00:00:00Z'),
      rate: { perSecond: 1000, burst: 1000 },
      log: () => {},
    })
  })
  afterAll(async () => {
    await s.cleanup()
  })
  const get = (path: string) => app.request(path, { headers: { authorization: `Bearer ${key}` } })

  it('serves the same terms the CLI prints', async () => {
    const all = (await (await get('/api/v1/glossary')).json()) as { terms: Term[] }
    expect(all.terms.map((t) => t.id)).toEqual(glossary().map((t) => t.id))
    const one = (await (await get('/api/v1/glossary/at_risk')).json()) as Term
    const json = JSON.parse((await runCli(['explain', 'at_risk', '--json'])).out) as Term
    expect(one).toEqual(json)
    const zh = (await runCli(['explain', 'at_risk', '--lang', 'zh'])).out
    expect(zh).toContain(one.definition.zh)
    expect(zh).toContain('需挽回')
    const metric = (await runCli(['explain', 'churn_rate', '--lang', 'zh'])).out
    expect(metric).toContain(METRIC_DEFINITIONS_ZH['churn_rate'])
    expect(metric).not.toContain(findTerm('churn_rate')?.definition.en)
  })

  it('answers an unknown term with 404 and the nearest terms', async () => {
    const r = await get('/api/v1/glossary/churn_rat')
    expect(r.status).toBe(404)
    const body = (await r.json()) as { error: { message: string } }
    expect(body.error.message).toMatch(/churn_rate/)
  })
})
