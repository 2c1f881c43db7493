/**
 * Stores the text analysis of feedback (language, sentiment, topics) in the engine, so that the metric
 * catalog can count negative texts per period and dimension (DOMAIN §2 "negative-review share (derived
 * sentiment)"). Text analysis runs in TypeScript (segmentation and the lexicon); only feedback whose text is
 * new or changed since it was labelled is read, and the labels of one run land in one transaction.
 *
 * Table `feedback_sentiment (feedback_id, text_hash, language, sentiment, score, topics, labelled_at)`;
 * `text_hash` is the engine's md5 of the text, so a re-loaded feedback whose text changed is labelled again.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import type { DuckDbDriver } from '../../duckdb/driver.js'
import { sql } from '../../engine/sql/fragment.js'
import { analyseText, type TopicConfig } from './text.js'
import { DEFAULT_TOPICS } from './lexicon.js'

export interface LabelOptions {
  /** Label every text again (e.g. after the lexicon or the topics changed). */
  readonly all?: boolean
  readonly topics?: TopicConfig
  readonly clock: Clock
}

export interface LabelReport {
  /** Texts analysed and written in this run. */
  readonly labelled: number
  /** Texts in the table after the run, by sentiment. */
  readonly bySentiment: Readonly<Record<string, number>>
}

const PAGE = 20_000

export async function ensureSentimentTable(driver: DuckDbDriver): Promise<void> {
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS feedback_sentiment (
    feedback_id VARCHAR PRIMARY KEY, text_hash VARCHAR NOT NULL, language VARCHAR NOT NULL,
    sentiment VARCHAR NOT NULL, score DOUBLE NOT NULL, topics VARCHAR NOT NULL, labelled_at VARCHAR NOT NULL)`)
}

/** Labels the feedback texts that have no label or whose text changed (all of them with `all`). */
export async function labelFeedback(
  driver: DuckDbDriver,
  options: LabelOptions,
): Promise<LabelReport> {
  await ensureSentimentTable(driver)
  const topics = options.topics ?? DEFAULT_TOPICS
  const labelledAt = options.clock.now().toISOString()
  let labelled = 0
  await driver.transaction(async () => {
    if (options.all) await driver.execute(sql`DELETE FROM feedback_sentiment`)
    // Labels of texts that changed (or are gone) since they were written.
    await driver.execute(sql`DELETE FROM feedback_sentiment WHERE feedback_id NOT IN (
      SELECT l.feedback_id FROM feedback_sentiment l JOIN feedback f ON f.feedback_id = l.feedback_id
      WHERE l.text_hash = ${driver.dialect.md5Hex(sql`f.text`)})`)
    // Texts without a label, read a page at a time (the ones written drop out of the next page).
    const todo = sql`SELECT f.feedback_id, f.text, ${driver.dialect.md5Hex(sql`f.text`)} AS text_hash FROM feedback f
      WHERE f.text IS NOT NULL AND trim(f.text) <> ''
        AND NOT EXISTS (SELECT 1 FROM feedback_sentiment l WHERE l.feedback_id = f.feedback_id)
      ORDER BY f.feedback_id LIMIT ${PAGE}`
    const cache = new Map<string, ReturnType<typeof analyseText>>()
    for (;;) {
      const rows = await driver.all<{ feedbackId: string; text: string; textHash: string }>(todo)
      if (rows.length === 0) break
      const analysed = rows.map((r) => {
        let a = cache.get(r.text)
        if (!a) {
          a = analyseText(r.text, topics)
          cache.set(r.text, a)
        }
        return a
      })
      await driver.append('feedback_sentiment', [
        { type: 'varchar', values: rows.map((r) => r.feedbackId) },
        { type: 'varchar', values: rows.map((r) => r.textHash) },
        { type: 'varchar', values: analysed.map((a) => a.language) },
        { type: 'varchar', values: analysed.map((a) => a.sentiment) },
        { type: 'double', values: analysed.map((a) => a.score) },
        { type: 'varchar', values: analysed.map((a) => a.topics.join(',')) },
        { type: 'varchar', values: rows.map(() => labelledAt) },
      ])
      labelled += rows.length
      if (rows.length < PAGE) break
    }
  })
  const counts = await driver.all<{ sentiment: string; n: bigint }>(
    sql`SELECT sentiment, count(*) AS n FROM feedback_sentiment GROUP BY sentiment ORDER BY sentiment`,
  )
  return {
    labelled,
    bySentiment: Object.fromEntries(counts.map((c) => [c.sentiment, Number(c.n)])),
  }
}
