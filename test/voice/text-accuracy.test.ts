/**
 * Sentiment and topic accuracy on the labelled samples (test/fixtures/voice):
 * - labelled.jsonl: 215 items (109 zh, 106 en) written for the tests before the lexicon; the lexicon was
 *   then written with them in view, so this is the development (in-sample) accuracy;
 * - holdout.jsonl: 60 items (30 zh, 30 en) written after the lexicon was frozen and not used to tune it:
 *   the honest estimate for unseen text.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { analyseText, segmentChinese } from '../../src/analytics/voice/text.js'

interface Item {
  id: number
  lang: 'zh' | 'en'
  text: string
  sentiment: 'positive' | 'neutral' | 'negative'
  topics: string[]
}

function load(name: string): Item[] {
  return readFileSync(new URL(`../fixtures/voice/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Item)
}

function evaluate(items: Item[]) {
  let ok = 0
  const byLang = { zh: { n: 0, ok: 0 }, en: { n: 0, ok: 0 } }
  let tp = 0
  let fp = 0
  let fn = 0
  for (const it of items) {
    const a = analyseText(it.text)
    const hit = a.sentiment === it.sentiment
    if (hit) ok++
    byLang[it.lang].n++
    if (hit) byLang[it.lang].ok++
    const want = new Set(it.topics)
    for (const t of a.topics)
      if (want.has(t)) tp++
      else fp++
    for (const t of want) if (!a.topics.includes(t)) fn++
  }
  const precision = tp / (tp + fp)
  const recall = tp / (tp + fn)
  return {
    n: items.length,
    accuracy: ok / items.length,
    zh: byLang.zh.ok / byLang.zh.n,
    en: byLang.en.ok / byLang.en.n,
    precision,
    recall,
    f1: (2 * precision * recall) / (precision + recall),
  }
}

describe('Chinese segmentation', () => {
  it('segments with jieba and keeps lexicon words whole', () => {
    expect(segmentChinese('客服态度很差，没人理')).toEqual(['客服', '态度', '很差', '|', '没人理'])
  })
})

describe('sentiment and topic accuracy', () => {
  it('labelled sample (≥ 200 items, zh and en)', () => {
    const items = load('labelled.jsonl')
    expect(items.length).toBeGreaterThanOrEqual(200)
    expect(items.filter((i) => i.lang === 'zh').length).toBeGreaterThanOrEqual(100)
    const r = evaluate(items)
    console.log('labelled', JSON.stringify(r))
    // Measured: accuracy 0.926 (zh 0.96, en 0.89), topic precision 0.94, recall 0.94.
    expect(r.accuracy).toBeGreaterThanOrEqual(0.9)
    expect(r.zh).toBeGreaterThanOrEqual(0.85)
    expect(r.en).toBeGreaterThanOrEqual(0.85)
    expect(r.f1).toBeGreaterThanOrEqual(0.9)
  })

  it('held-out sample (written after the lexicon was frozen)', () => {
    const r = evaluate(load('holdout.jsonl'))
    console.log('holdout', JSON.stringify(r))
    // Measured: accuracy 0.63 (lexicon coverage is the limit), topic precision 0.96, recall 0.81.
    expect(r.accuracy).toBeGreaterThanOrEqual(0.6)
    expect(r.f1).toBeGreaterThanOrEqual(0.85)
  })

  it('negation, contrast and questions', () => {
    expect(analyseText('一点都没坏').sentiment).toBe('positive')
    expect(analyseText('Not bad at all').sentiment).toBe('positive')
    expect(analyseText('Refund not received').sentiment).toBe('negative')
    expect(analyseText('价格便宜，但是质量很差').sentiment).toBe('negative')
    expect(analyseText('如何修改收货地址？').sentiment).toBe('neutral')
    expect(analyseText('Happy with my purchase').topics).toEqual([])
  })
})
