/**
 * The UCI "Online Retail" file (invoice lines of a UK online retailer, 2010-12 … 2011-12), mapped onto members,
 * orders, order_items and returns. The rules are written down in docs/mappings/online-retail.md.
 * @module
 */
import { dropStagingTables, stageFile } from '../source.js'
import { InputError } from '../../../core/errors.js'
import type { DuckDbDriver } from '../../driver.js'
import { join, sql, type Fragment } from '../../../engine/sql/fragment.js'
import type { IngestReport } from '../ingest.js'
import { rollback } from '../rollback.js'
import type { Preset, PresetOptions, PresetReport } from './preset.js'
import { ingestQuery } from './stage-from.js'

const COLUMNS = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
]

/**
 * The file has no category: each line's category is derived from its StockCode and Description by the first
 * of these rules that matches (docs/mappings/online-retail.md lists them). Patterns are RE2 regular
 * expressions matched against the upper-cased, trimmed field; a line that matches none is `other_gifts`, a
 * line without a description keeps no category (it counts as `unknown` in the category analysis).
 */
export const ONLINE_RETAIL_CATEGORY_RULES: readonly {
  readonly category: string
  readonly field: 'StockCode' | 'Description'
  readonly pattern: string
}[] = [
  {
    category: 'non_product',
    field: 'StockCode',
    pattern: '^(POST|DOT|M|C2|D|S|B|CRUK|PADS|AMAZONFEE|BANK CHARGES|GIFT_.*)$',
  },
  { category: 'christmas', field: 'Description', pattern: '\\b(CHRISTMAS|XMAS|ADVENT)\\b' },
  {
    category: 'candles_lighting',
    field: 'Description',
    pattern: '\\b(CANDLES?|T-LIGHTS?|TEALIGHTS?|LANTERNS?|LIGHTS?|LAMPS?)\\b',
  },
  {
    category: 'party',
    field: 'Description',
    pattern: '\\b(BUNTING|PARTY|BALLOONS?|CRACKERS?|NAPKINS?|CAKE CASES|GARLAND)\\b',
  },
  {
    category: 'bags',
    field: 'Description',
    pattern: '\\b(BAGS?|SHOPPER|PURSE|HANDBAG|WALLET)\\b',
  },
  {
    category: 'kitchen_dining',
    field: 'Description',
    pattern:
      '\\b(MUGS?|CUPS?|TEACUPS?|SAUCERS?|PLATES?|BOWLS?|JUGS?|TEAPOT|CUTLERY|DOILY|DOILIES|TRAYS?|JARS?|TINS?|KITCHEN|LUNCH BOX|BOTTLES?|APRON|SPOONS?|GLASS|BAKING|CAKESTAND|TEA TOWELS?|COASTERS?)\\b',
  },
  {
    category: 'stationery_wrap',
    field: 'Description',
    pattern:
      '\\b(CARDS?|WRAP|PAPER|NOTEBOOK|PENCILS?|PENS?|STICKERS?|TAPE|ENVELOPES?|CALENDAR|JOURNAL|ERASERS?|RIBBONS?|GIFT TAGS?)\\b',
  },
  {
    category: 'toys_kids',
    field: 'Description',
    pattern:
      "\\b(TOYS?|GAMES?|PUZZLES?|DOLLS?|SPACEBOY|CHILDRENS|CHILDREN'S|KIT|PLAYHOUSE|SKIPPING ROPE|SNAP CARDS|DOMINOES|TEDDY)\\b",
  },
  {
    category: 'garden',
    field: 'Description',
    pattern: '\\b(GARDEN|PLANTERS?|FLOWER POTS?|WATERING|BIRD ?HOUSE|BIRD FEEDER|PLANT)\\b',
  },
  {
    category: 'storage',
    field: 'Description',
    pattern: '\\b(BOX|BOXES|CASES?|BASKETS?|STORAGE|HAMPER|DRAWERS?)\\b',
  },
  {
    category: 'accessories',
    field: 'Description',
    pattern:
      '\\b(NECKLACE|BRACELET|EARRINGS|RINGS?|HAIR|UMBRELLA|SCARF|GLOVES|HAT|JEWELLERY|BROOCH|CHARMS?)\\b',
  },
  {
    category: 'home_decor',
    field: 'Description',
    pattern:
      '\\b(SIGNS?|FRAMES?|CLOCKS?|ORNAMENTS?|DECORATIONS?|HEARTS?|CUSHIONS?|DOORMAT|MIRROR|HOOKS?|HANGERS?|WALL|DOORSTOP|KNOBS?|PLAQUES?|STAND|RACK|VASE|CHALKBOARD|WREATH|HOLDER|CLOTHES PEGS|THROW|QUILT)\\b',
  },
]

/** The category of a staged line by {@link ONLINE_RETAIL_CATEGORY_RULES}. */
function categoryExpression(): Fragment {
  const field = (f: 'StockCode' | 'Description') =>
    f === 'StockCode' ? sql`upper(trim(StockCode))` : sql`upper(trim(Description))`
  const whens = ONLINE_RETAIL_CATEGORY_RULES.map(
    (r) => sql`WHEN regexp_matches(${field(r.field)}, ${r.pattern}) THEN ${r.category}`,
  )
  return sql`CASE WHEN nullif(trim(Description), '') IS NULL AND NOT regexp_matches(upper(trim(StockCode)), ${ONLINE_RETAIL_CATEGORY_RULES[0]?.pattern ?? ''}) THEN NULL
    ${join(whens, ' ')} ELSE 'other_gifts' END`
}

export const onlineRetailPreset: Preset = {
  name: 'online-retail',
  description: 'UCI Online Retail invoice lines → members, orders, order_items, returns',
  doc: 'docs/mappings/online-retail.md',
  async load(driver: DuckDbDriver, file: string, options: PresetOptions): Promise<PresetReport> {
    try {
      return await load(driver, file, options)
    } finally {
      await dropStagingTables(driver)
    }
  },
}

async function load(
  driver: DuckDbDriver,
  file: string,
  options: PresetOptions,
): Promise<PresetReport> {
  const staged = await stageFile(driver, file, { format: 'csv' }, options.maxIssues ?? 20)
  await driver.execute(sql`ALTER VIEW _ml_stage RENAME TO _ml_src`)
  const cols = staged.columns
  const missing = COLUMNS.filter((c) => !cols.includes(c))
  if (missing.length > 0) {
    throw InputError.single({
      file,
      line: 1,
      reason: `not an Online Retail file: missing ${missing.join(', ')}`,
    })
  }
  // Classify every line once: the rules below are the documented mapping.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_lines AS
      SELECT _line, trim(InvoiceNo) AS invoice, trim(StockCode) AS sku, TRY_CAST(Quantity AS INTEGER) AS qty,
        TRY_CAST(UnitPrice AS DECIMAL(18,4)) AS price, nullif(trim(CustomerID), '') AS customer,
        trim(InvoiceDate) AS ts, trim(Country) AS country, starts_with(trim(InvoiceNo), 'C') AS cancel,
        ${categoryExpression()} AS category,
        CASE
          WHEN nullif(trim(CustomerID), '') IS NULL THEN 'no_customer'
          WHEN TRY_CAST(Quantity AS INTEGER) IS NULL OR TRY_CAST(UnitPrice AS DECIMAL(18,4)) IS NULL THEN 'unparsable'
          WHEN TRY_CAST(UnitPrice AS DECIMAL(18,4)) < 0 THEN 'negative_price'
          WHEN NOT starts_with(trim(InvoiceNo), 'C') AND TRY_CAST(Quantity AS INTEGER) <= 0 THEN 'non_positive_quantity'
          WHEN starts_with(trim(InvoiceNo), 'C') AND TRY_CAST(Quantity AS INTEGER) >= 0 THEN 'non_negative_cancellation'
        END AS skip
      FROM _ml_src`)
  const skippedRows = await driver.all<{ skip: string; n: bigint }>(
    sql`SELECT skip, count(*) AS n FROM _ml_lines WHERE skip IS NOT NULL GROUP BY skip ORDER BY skip`,
  )
  const skipped: Record<string, number> = {}
  for (const r of skippedRows) skipped[r.skip] = Number(r.n)
  const rowsRead = Number(
    (await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM _ml_lines`))?.n ?? 0,
  )
  const common = {
    clock: options.clock,
    timezone: options.timezone ?? 'Europe/London',
    currency: 'GBP',
    ...(options.maxIssues === undefined ? {} : { maxIssues: options.maxIssues }),
    ...(options.onPhase === undefined ? {} : { onPhase: options.onPhase }),
  }
  const run = async (): Promise<IngestReport[]> => {
    const reports: IngestReport[] = []
    // Members: one per customer, first seen at their first line, country as region.
    reports.push(
      await ingestQuery(
        driver,
        'members',
        sql`
          SELECT min(_line) AS _line, customer AS customer_id, min(ts) AS registered_at,
            'online' AS registration_channel, arg_max(country, _line) AS region
          FROM _ml_lines WHERE skip IS NULL GROUP BY customer`,
        file,
        common,
      ),
    )
    // Orders: one per purchase invoice; amounts are the sum of its lines.
    reports.push(
      await ingestQuery(
        driver,
        'orders',
        sql`
          SELECT min(_line) AS _line, invoice AS order_id, min(customer) AS customer_id, min(ts) AS ordered_at,
            'online' AS channel, sum(qty * price)::VARCHAR AS gross_amount, '0' AS discount_amount,
            sum(qty * price)::VARCHAR AS net_amount, 'paid' AS status
          FROM _ml_lines WHERE skip IS NULL AND NOT cancel GROUP BY invoice`,
        file,
        common,
      ),
    )
    reports.push(
      await ingestQuery(
        driver,
        'order_items',
        sql`
          SELECT _line, invoice AS order_id, row_number() OVER (PARTITION BY invoice ORDER BY _line)::VARCHAR AS line_no,
            sku, category, qty::VARCHAR AS quantity, price::VARCHAR AS unit_price
          FROM _ml_lines WHERE skip IS NULL AND NOT cancel`,
        file,
        common,
      ),
    )
    // Returns: one per cancellation invoice, linked to the customer's latest earlier invoice that holds
    // the cancelled product of its first line (when there is none, it stays unlinked and keeps the customer).
    reports.push(
      await ingestQuery(
        driver,
        'returns',
        sql`
          WITH c AS (
            SELECT min(_line) AS _line, invoice, min(customer) AS customer, min(ts)::TIMESTAMP AS ts,
              arg_min(sku, _line) AS sku, sum(-qty * price) AS amount
            FROM _ml_lines WHERE skip IS NULL AND cancel GROUP BY invoice
          ), p AS (
            SELECT DISTINCT invoice, customer, sku, ts::TIMESTAMP AS ts FROM _ml_lines WHERE skip IS NULL AND NOT cancel
          )
          SELECT c._line, c.invoice AS return_id, p.invoice AS order_id, c.customer AS customer_id,
            c.ts::VARCHAR AS returned_at, c.amount::VARCHAR AS amount, 'cancellation' AS reason
          FROM c ASOF LEFT JOIN p ON c.customer = p.customer AND c.sku = p.sku AND c.ts >= p.ts`,
        file,
        common,
      ),
    )
    return reports
  }
  const tables = options.dryRun ? await rollback(driver, run) : await driver.transaction(run)
  return {
    preset: 'online-retail',
    file,
    dryRun: options.dryRun ?? false,
    rowsRead,
    skipped,
    tables,
  }
}
