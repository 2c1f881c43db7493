/**
 * `memberlens clickhouse schema|load`: the ClickHouse tables, and copying a memberlens DuckDB database into
 * ClickHouse (see src/engine/clickhouse/load.ts for why ingest stays on DuckDB).
 * @module
 */
import type { Command } from 'commander'
import { Option } from 'commander'
import { TABLES, TABLE_NAMES } from '../../core/schema.js'
import {
  copyLoyaltyTables,
  copyToClickHouse,
  ensureClickHouseSchema,
} from '../../duckdb/clickhouse-copy.js'
import { buildClickHouseTable, buildClusterTables } from '../../engine/clickhouse/schema.js'
import { clickhouseDialect, clickhouseLegacyDialect } from '../../engine/dialects/clickhouse.js'
import { ClickHouseDriver } from '../../engine/drivers/clickhouse-driver.js'
import { DuckDbDriver } from '../../duckdb/driver.js'
import { copyRollupTables } from '../../duckdb/rollups/member-days.js'
import { resolveEngineConfig } from '../../store/open-engine.js'
import { compile } from '../../engine/sql/compile.js'
import { langOption, translator, type Lang } from '../lang.js'
import { count, printJson, table } from '../output.js'
import { createProgress } from '../progress.js'
import { dbOption } from '../database.js'
import { tableRowCount } from '../../engine/drivers/driver.js'

const flavorOption = () =>
  new Option(
    '--clickhouse-flavor <flavor>',
    'server generation: modern, or legacy for 18.x',
  ).choices(['modern', 'legacy'])

export function registerClickHouseCommands(program: Command): void {
  const ch = program
    .command('clickhouse')
    .description('ClickHouse: table DDL and loading a memberlens database into ClickHouse')

  ch.command('schema')
    .description(
      'print the CREATE TABLE statements (with --cluster: local tables plus Distributed tables)',
    )
    .addOption(flavorOption())
    .option('--cluster <name>', 'cluster name from remote_servers (sharded deployment)')
    .option('--database <name>', 'database of the local tables on every node', 'default')
    .action((flags: { clickhouseFlavor?: string; cluster?: string; database: string }) => {
      const dialect =
        flags.clickhouseFlavor === 'legacy' ? clickhouseLegacyDialect : clickhouseDialect
      for (const name of TABLE_NAMES) {
        const statements =
          flags.cluster === undefined
            ? [buildClickHouseTable(dialect, TABLES[name])]
            : buildClusterTables(dialect, TABLES[name], {
                cluster: flags.cluster,
                database: flags.database,
              })
        for (const s of statements) process.stdout.write(`${compile(dialect, s).sql};\n\n`)
      }
    })

  ch.command('load')
    .description(
      'create the tables if needed and copy every table of a memberlens database (one file per table)',
    )
    .addOption(dbOption('memberlens DuckDB database'))
    .option('--url <url>', 'ClickHouse HTTP endpoint (or MEMBERLENS_CLICKHOUSE_URL)')
    .addOption(flavorOption())
    .addOption(
      new Option(
        '--method <method>',
        'file: DuckDB writes each table to a file (Parquet; CSV for 18.x) sent in one insert; stream: JSON blocks',
      )
        .choices(['file', 'stream'])
        .default('file'),
    )
    .option(
      '--block-rows <n>',
      'rows per insert with --method stream',
      (v) => Number.parseInt(v, 10),
      100_000,
    )
    .addOption(langOption('the summary'))
    .option('--json', 'machine-readable JSON', false)
    .action(
      async (flags: {
        lang: Lang
        db: string
        url?: string
        clickhouseFlavor?: string
        method: 'file' | 'stream'
        blockRows: number
        json: boolean
      }) => {
        const config = resolveEngineConfig({
          engine: 'clickhouse',
          db: flags.db,
          url: flags.url,
          flavor: flags.clickhouseFlavor,
        })
        const source = await DuckDbDriver.open({ path: config.db, readOnly: true })
        const target = await ClickHouseDriver.open({
          url: config.url,
          username: config.username,
          password: config.password,
          database: config.database,
          flavor: config.flavor,
        })
        const progress = createProgress(!flags.json)
        try {
          await ensureClickHouseSchema(target)
          const totals = new Map<string, number>()
          for (const name of TABLE_NAMES) {
            totals.set(name, await tableRowCount(source, name))
          }
          let current = ''
          const copied = await copyToClickHouse(source, target, {
            method: flags.method,
            blockRows: flags.blockRows,
            onProgress: (table, rows) => {
              if (table !== current) {
                current = table
                progress.phase(`copying ${table}`, totals.get(table) ?? 0)
              }
              progress.update(rows)
            },
          })
          Object.assign(
            copied,
            await copyLoyaltyTables(source, target, {
              method: flags.method,
              blockRows: flags.blockRows,
            }),
          )
          // The member × day rollup, so that metric queries on ClickHouse read it too (docs/metrics.md).
          Object.assign(
            copied,
            await copyRollupTables(source, target, {
              method: flags.method,
              blockRows: flags.blockRows,
            }),
          )
          progress.stop()
          const t = translator(flags.lang)
          if (flags.json) printJson({ url: config.url, copied })
          else
            process.stdout.write(
              `${table(
                [t('table'), t('rows')],
                Object.entries(copied).map(([name, n]) => [name, count(n, flags.lang)]),
              )}\n`,
            )
        } finally {
          progress.stop()
          await target.close()
          await source.close()
        }
      },
    )
}
