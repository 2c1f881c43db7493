/**
 * Sentiment and topics of member feedback text in Chinese and English.
 *
 * Chinese is segmented with jieba (`@node-rs/jieba`, the Rust port of jieba with its bundled dictionary),
 * extended with the lexicon's words; English is lower-cased and split into words, contractions expanded
 * ("can't" → "cannot", "n't" → " not"). Sentiment is lexicon-based: the sum of word weights per clause,
 * with negation (flips the next sentiment word within three tokens; a negator with nothing to flip counts
 * −0.5, since "refund not received" is a complaint), intensifiers and diminishers (×1.5 / ×0.5), contrast
 * ("但是", "but": the following clause ×1.5) and damping of questions and suggestions (×0.3).
 * score ≥ 0.5 → positive, ≤ −0.5 → negative, else neutral. Topics are keyword sets (see voice-lexicon.ts).
 * @module
 */
import { Jieba } from '@node-rs/jieba'
import { dict } from '@node-rs/jieba/dict.js'
import {
  DEFAULT_TOPICS,
  EN_CONTRAST,
  EN_MODIFIERS,
  EN_NEGATORS,
  EN_REQUEST_OPENINGS,
  EN_SENTIMENT,
  NEGATION_WINDOW,
  ZH_CONTRAST,
  ZH_MODIFIERS,
  ZH_NEGATORS,
  ZH_REQUEST_OPENINGS,
  ZH_SENTIMENT,
  type Lexicon,
  type TopicKeywords,
} from './lexicon.js'

export type Sentiment = 'positive' | 'neutral' | 'negative'
export type Language = 'zh' | 'en'

/** Analysis of one text. */
export interface TextAnalysis {
  readonly language: Language
  readonly tokens: readonly string[]
  readonly score: number
  readonly sentiment: Sentiment
  readonly topics: readonly string[]
}

let jieba: Jieba | undefined

/** The shared segmenter, created on first use with the bundled dictionary plus the lexicon's words. */
function segmenter(): Jieba {
  if (jieba) return jieba
  const j = Jieba.withDict(dict)
  const words = new Set([
    ...Object.keys(ZH_SENTIMENT),
    ...ZH_NEGATORS,
    ...Object.keys(ZH_MODIFIERS),
  ])
  for (const t of Object.values(DEFAULT_TOPICS))
    for (const w of t.zh) if (w.length > 1) words.add(w)
  // Multi-character entries only: single characters must stay free to join longer dictionary words.
  const lines = [...words].filter((w) => w.length > 1).map((w) => `${w} 200000`)
  j.loadDict(Buffer.from(lines.join('\n')))
  jieba = j
  return j
}

const CJK = /[\u3400-\u9fff]/

/** `zh` when the text contains CJK ideographs, else `en`. */
export function detectLanguage(text: string): Language {
  return CJK.test(text) ? 'zh' : 'en'
}

/** Tokens of a Chinese text (jieba, HMM for unknown words), lower-cased, punctuation kept as `|`. */
export function segmentChinese(text: string): string[] {
  return segmenter()
    .cut(text.toLowerCase(), true)
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => (/^[，。！？!?,.;；、…~]+$/.test(t) ? '|' : t))
}

/** Tokens of an English text: words lower-cased, contractions expanded, clause punctuation as `|`. */
export function tokenizeEnglish(text: string): string[] {
  const s = text
    .toLowerCase()
    .replace(/[’`]/g, "'")
    .replace(/\b(can't|cannot|could not|couldn't|can not)\b/g, ' cannot ')
    .replace(/\bwon't\b/g, ' will not ')
    .replace(/n't\b/g, ' not ')
    .replace(/'s\b/g, '')
    .replace(/[.,!?;:]+/g, ' | ')
  return s.split(/[^a-z0-9|']+/).filter((t) => t !== '' && t !== "'")
}

/** Tokens of any text in its detected language. */
export function tokenize(text: string, language = detectLanguage(text)): string[] {
  return language === 'zh' ? segmentChinese(text) : tokenizeEnglish(text)
}

interface Rules {
  readonly sentiment: Lexicon
  readonly negators: ReadonlySet<string>
  readonly modifiers: Lexicon
  readonly contrast: ReadonlySet<string>
  readonly requests: readonly string[]
}

const RULES: Record<Language, Rules> = {
  zh: {
    sentiment: ZH_SENTIMENT,
    negators: ZH_NEGATORS,
    modifiers: ZH_MODIFIERS,
    contrast: ZH_CONTRAST,
    requests: ZH_REQUEST_OPENINGS,
  },
  en: {
    sentiment: EN_SENTIMENT,
    negators: EN_NEGATORS,
    modifiers: EN_MODIFIERS,
    contrast: EN_CONTRAST,
    requests: EN_REQUEST_OPENINGS,
  },
}

/** English suffix stripping for lexicon look-ups of inflected forms: crashed → crash, failing → fail. */
function stem(t: string): string {
  for (const suffix of ['ing', 'ed', 'es', 's']) {
    if (t.length > suffix.length + 2 && t.endsWith(suffix)) return t.slice(0, -suffix.length)
  }
  return t
}

/** Lexicon score of a token list (see the module comment for the rules). */
export function sentimentScore(tokens: readonly string[], language: Language, text = ''): number {
  const r = RULES[language]
  let score = 0
  let negateLeft = 0
  let negatorUsed = true
  let modifier = 1
  let clauseWeight = 1
  const closeNegation = () => {
    if (!negatorUsed) score -= 0.5 * clauseWeight
    negatorUsed = true
    negateLeft = 0
  }
  for (const t of tokens) {
    if (t === '|') {
      closeNegation()
      modifier = 1
      continue
    }
    if (r.contrast.has(t)) {
      closeNegation()
      clauseWeight = 1.5
      continue
    }
    const w = r.sentiment[t] ?? (language === 'en' ? r.sentiment[stem(t)] : undefined)
    if (w !== undefined) {
      const sign = negateLeft > 0 ? -1 : 1
      if (negateLeft > 0) negatorUsed = true
      negateLeft = 0
      score += sign * w * modifier * clauseWeight
      modifier = 1
      continue
    }
    if (r.negators.has(t)) {
      closeNegation()
      negateLeft = NEGATION_WINDOW
      negatorUsed = false
      continue
    }
    const m = r.modifiers[t]
    if (m !== undefined) {
      modifier = m
      continue
    }
    if (negateLeft > 0) {
      negateLeft--
      if (negateLeft === 0) closeNegation()
    }
  }
  closeNegation()
  const lower = text.trim().toLowerCase()
  const request = /[?？吗]\s*$/.test(lower) || r.requests.some((p) => lower.startsWith(p))
  return request ? score * 0.3 : score
}

/** Label of a score: ≥ 0.5 positive, ≤ −0.5 negative. */
export function sentimentLabel(score: number): Sentiment {
  return score >= 0.5 ? 'positive' : score <= -0.5 ? 'negative' : 'neutral'
}

/** Topic keyword sets, by topic name. */
export type TopicConfig = Readonly<Record<string, TopicKeywords>>

/** Topics whose keywords occur: Chinese keywords as substrings of the text, Latin ones as words. */
export function topicsOf(
  text: string,
  tokens: readonly string[],
  topics: TopicConfig = DEFAULT_TOPICS,
): string[] {
  const lower = text.toLowerCase()
  const words = new Set<string>()
  for (const t of tokens) {
    words.add(t)
    if (t.length > 3 && t.endsWith('s')) words.add(t.slice(0, -1))
  }
  const out: string[] = []
  for (const [name, k] of Object.entries(topics)) {
    // Latin keywords in the Chinese list ("app") match whole words only: "happy" is not about the app.
    const zh = k.zh.some((w) => (CJK.test(w) ? lower.includes(w) : words.has(w.toLowerCase())))
    const en = k.en.some((w) => (w.includes(' ') ? lower.includes(w) : words.has(w)))
    if (zh || en) out.push(name)
  }
  return out
}

/** Sentiment and topics of one text. */
export function analyseText(text: string, topics: TopicConfig = DEFAULT_TOPICS): TextAnalysis {
  const language = detectLanguage(text)
  const tokens = tokenize(text, language)
  const score = sentimentScore(tokens, language, text)
  return {
    language,
    tokens,
    score,
    sentiment: sentimentLabel(score),
    topics: topicsOf(text, tokens, topics),
  }
}
