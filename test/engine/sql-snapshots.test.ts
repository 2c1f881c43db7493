/**
 * The SQL text of representative queries, compiled for every dialect, kept as files in
 * `__snapshots__/sql/<query>.<dialect>.sql`. A change to a query builder or a dialect shows there as a
 * reviewable diff; `npx vitest run -u test/engine/sql-snapshots.test.ts` writes the new text after review.
 */
import { describe, expect, it } from 'vitest'
import { buildRetentionActivityQuery } from '../../src/engine/cohorts/cohort-retention.js'
import { cohortSpecSchema } from '../../src/engine/cohorts/cohort-spec.js'
import type { CompiledQuery } from '../../src/engine/compiled-query.js'
import { clickhouseDialect, clickhouseLegacyDialect } from '../../src/engine/dialects/clickhouse.js'
import type { SqlDialect } from '../../src/engine/dialects/dialect.js'
import { duckdbDialect } from '../../src/engine/dialects/duckdb.js'
import { CATALOG } from '../../src/engine/metrics/catalog.js'
import { buildMetricsQuery } from '../../src/engine/metrics/compiler.js'
import { DEFAULT_SETTINGS, type CompileContext } from '../../src/engine/metrics/context.js'
import {
  memberFilter,
  parseCondition,
  parseDimension,
} from '../../src/engine/metrics/dimensions.js'
import { rfmConfigSchema } from '../../src/engine/rfm/rfm-config.js'
import { buildRfmQuery } from '../../src/engine/rfm/rfm-scores.js'
import { compile } from '../../src/engine/sql/compile.js'
import { sql, type Fragment } from '../../src/engine/sql/fragment.js'

const DIALECTS: readonly SqlDialect[] = [duckdbDialect, clickhouseDialect, clickhouseLegacyDialect]

function metric(id: string) {
  const m = CATALOG.find((x) => x.id === id)
  if (m === undefined) throw new Error(`no metric ${id} in the catalog`)
  return m
}

/** The months January to March 2024, as the snapshot queries ask for them. */
const FIRST_QUARTER_2024 = {
  grain: 'month',
  lo: sql`CAST(${'2024-01-01 00:00:00'} AS TIMESTAMP)`,
  last: sql`CAST(${'2024-03-01 00:00:00'} AS TIMESTAMP)`,
  hi: sql`CAST(${'2024-04-01 00:00:00'} AS TIMESTAMP)`,
} as const

/** Net revenue and AOV per month by registration channel, for members in two cities. */
function metricQuery(dialect: SqlDialect): Fragment {
  const filter = memberFilter(dialect, [parseCondition('city in Shanghai|Hangzhou')])
  const ctx: CompileContext = {
    dialect,
    ...FIRST_QUARTER_2024,
    dims: [parseDimension(dialect, 'registration_channel')],
    ...(filter === undefined ? {} : { memberFilter: filter }),
    timezone: 'Asia/Shanghai',
    settings: DEFAULT_SETTINGS,
  }
  return buildMetricsQuery(ctx, [metric('net_revenue'), metric('aov')])
}

/** Campaign incremental orders, cost and ROI per month by campaign, with the ledger's bonus points. */
function campaignQuery(dialect: SqlDialect): Fragment {
  const ctx: CompileContext = {
    dialect,
    ...FIRST_QUARTER_2024,
    dims: [parseDimension(dialect, 'campaign')],
    timezone: 'Asia/Shanghai',
    settings: DEFAULT_SETTINGS,
    loyaltyLedger: true,
  }
  return buildMetricsQuery(ctx, [
    metric('campaign_incremental_orders'),
    metric('campaign_cost'),
    metric('campaign_roi'),
  ])
}

/** N-period monthly retention of first-purchase cohorts by registration channel. */
function cohortQuery(dialect: SqlDialect): Fragment {
  const spec = cohortSpecSchema.parse({
    anchor: 'first-purchase',
    grain: 'month',
    activity: 'purchase',
    periods: 6,
    from: '2024-01-01',
    to: '2024-07-01',
    asOf: '2024-12-01',
    dimension: 'registration_channel',
  })
  return buildRetentionActivityQuery(dialect, spec, 'n-period')
}

/** RFM scores by quintiles over a 365-day window. */
function rfmQuery(): Fragment {
  const config = rfmConfigSchema.parse({ lookbackDays: 365 })
  return buildRfmQuery('2024-12-01', config)
}

const QUERIES: readonly { name: string; build: (d: SqlDialect) => Fragment }[] = [
  { name: 'metrics-net-revenue-aov', build: metricQuery },
  { name: 'metrics-campaign-roi', build: campaignQuery },
  { name: 'cohort-retention', build: cohortQuery },
  { name: 'rfm-scores', build: () => rfmQuery() },
]

function render(q: CompiledQuery): string {
  const params = q.parameters.map((p, i) => {
    const text = typeof p === 'bigint' ? `${p}n` : JSON.stringify(p)
    return `-- ${i + 1}: ${text}`
  })
  return [...params, `${q.sql.trim()}`, ''].join('\n')
}

describe('SQL snapshots', () => {
  for (const { name, build } of QUERIES) {
    for (const dialect of DIALECTS) {
      it(`${name} on ${dialect.name}`, async () => {
        const q = compile(dialect, build(dialect))
        await expect(render(q)).toMatchFileSnapshot(`__snapshots__/sql/${name}.${dialect.name}.sql`)
      })
    }
  }

  it('binds every value as a parameter on the dialects that have parameters', () => {
    for (const dialect of [duckdbDialect, clickhouseDialect]) {
      const q = compile(dialect, metricQuery(dialect))
      expect(q.sql).not.toContain('Shanghai')
      expect(q.sql).not.toContain('Asia/Shanghai')
      expect(q.parameters).toContain('Shanghai')
      expect(q.parameters).toContain('Hangzhou')
    }
  })
})
