/**
 * The errors a person meets first are one line with a hint, in the chosen language (`--lang`, or the configured
 * one for the error of a command before it runs): no database at the path, a database another process holds,
 * a month or date that is not one.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/store/database.js'
import { runCli } from '../helpers/cli.js'

const REPO = resolve(import.meta.dirname, '../..')
const CJK = /[\u4e00-\u9fff]/

let dir: string
let db: string
const children: ChildProcess[] = []

/** Runs the CLI with NO_COLOR and the given MEMBERLENS_ variables, restoring the environment after. */
async function cli(args: readonly string[], env: Record<string, string> = {}) {
  const before = { ...process.env }
  for (const k of Object.keys(process.env)) if (k.startsWith('MEMBERLENS_')) delete process.env[k]
  Object.assign(process.env, { NO_COLOR: '1' }, env)
  try {
    return await runCli(args)
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in before)) delete process.env[k]
    Object.assign(process.env, before)
  }
}

/** The error output is exactly one line. */
function oneLine(err: string): string {
  const lines = err.split('\n').filter((l) => l !== '')
  expect(lines, err).toHaveLength(1)
  return lines[0] as string
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memberlens-errors-'))
  db = join(dir, 'm.duckdb')
  await (await openDatabase(db)).close()
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

describe('a missing database', () => {
  const missing = () => join(dir, 'none.duckdb')

  it('is one line naming the path and the commands that make one, in English', async () => {
    const r = await cli(['rfm', '--db', missing()])
    expect(r.code).toBe(3)
    expect(oneLine(r.err)).toBe(
      `error: no database at ${missing()}: build one with \`memberlens demo --db ${missing()}\` or load data with \`memberlens ingest <table> <files> --db ${missing()}\``,
    )
  })

  it('is one line in Chinese under --lang zh and under MEMBERLENS_LANG=zh', async () => {
    for (const r of [
      await cli(['rfm', '--db', missing(), '--lang', 'zh']),
      await cli(['members', 'show', '1', '--db', missing()], { MEMBERLENS_LANG: 'zh' }),
    ]) {
      expect(r.code).toBe(3)
      const line = oneLine(r.err)
      expect(line).toMatch(/^错误：/)
      expect(line).toContain(`${missing()} 处没有数据库`)
      expect(line).toContain(`memberlens demo --db ${missing()}`)
      expect(line).not.toMatch(/no database|build one/)
    }
  })

  it('names the variable it came from', async () => {
    const r = await cli(['overview', '--lang', 'zh'], { MEMBERLENS_DB: missing() })
    expect(oneLine(r.err)).toContain('（来自 MEMBERLENS_DB）')
  })
})

describe('a month, date or period that is not one', () => {
  const cases = [
    {
      args: ['overview', '--month', '2026-13'],
      en: 'error: --month "2026-13" is not a month: write YYYY-MM with a month 01–12, e.g. --month 2026-10',
      zh: '错误：--month "2026-13" 不是有效的月份：请写成 YYYY-MM，月份为 01–12，例如 --month 2026-10',
    },
    {
      args: ['tree', '--period', '2026-13'],
      en: 'error: --period "2026-13" is not a period: write YYYY-MM-DD, YYYY-MM or YYYY, e.g. --period 2026-10',
      zh: '错误：--period "2026-13" 不是有效的期间：请写成 YYYY-MM-DD、YYYY-MM 或 YYYY，例如 --period 2026-10',
    },
    {
      // 30 February is not a day: it once reached the database and failed there as an internal error.
      args: ['cohorts', '--as-of', '2026-02-30'],
      en: 'error: --as-of "2026-02-30" is not a date: write YYYY-MM-DD, a day the month has, e.g. --as-of 2026-10-31',
      zh: '错误：--as-of "2026-02-30" 不是有效的日期：请写成 YYYY-MM-DD，且该月有这一天，例如 --as-of 2026-10-31',
    },
    {
      args: ['loyalty', 'metrics', '--from', '2026-13-01', '--to', '2026-12-01'],
      en: 'error: --from "2026-13-01" is not a date: write YYYY-MM-DD, a day the month has, e.g. --from 2026-10-31',
      zh: '错误：--from "2026-13-01" 不是有效的日期：请写成 YYYY-MM-DD，且该月有这一天，例如 --from 2026-10-31',
    },
    {
      args: ['voice', 'summary', '--from', '2026-13-01', '--to', '2026-12-01'],
      en: 'error: --from is not a date: write YYYY-MM-DD, a day the month has, e.g. --from 2026-10-31',
      zh: '错误：--from 不是有效的日期：请写成 YYYY-MM-DD，且该月有这一天，例如 --from 2026-10-31',
    },
  ]
  it.each(cases)('$args.0 $args.1: one line with an example, in either language', async (c) => {
    const en = await cli([...c.args, '--db', db])
    expect(en.code).toBe(2)
    expect(oneLine(en.err)).toBe(c.en)
    const zh = await cli([...c.args, '--db', db, '--lang', 'zh'])
    expect(zh.code).toBe(2)
    expect(oneLine(zh.err)).toBe(c.zh)
  })

  it('leaves --json errors in English with their stable code', async () => {
    const r = await cli(['overview', '--month', '2026-13', '--db', db, '--lang', 'zh', '--json'])
    const body = JSON.parse(r.err) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('INPUT_INVALID')
    expect(body.error.message).not.toMatch(CJK)
  })
})

/** Another process that opens `path` read-write and keeps it until killed; resolves once it holds it. */
function holdInAnotherProcess(path: string): Promise<ChildProcess> {
  const script = `import { DuckDBInstance } from '@duckdb/node-api'
const i = await DuckDBInstance.create(process.argv[1]); await i.connect()
process.stdout.write('held\\n'); setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) ok(child)
    })
    child.once('exit', (code) => fail(new Error(`holder exited with ${code}`)))
  })
}

describe('a database another process holds', () => {
  it('is one line naming the holder and what to do, in the chosen language', async () => {
    const holder = await holdInAnotherProcess(db)
    try {
      const en = await cli(['rfm', '--db', db], { MEMBERLENS_LOCK_WAIT: '0' })
      expect(en.code).toBe(1)
      expect(oneLine(en.err)).toMatch(
        new RegExp(
          `^error: .*m\\.duckdb is in use by process ${holder.pid} .*: one process at a time can open a DuckDB database\\. Wait for that command to finish`,
        ),
      )
      const zh = await cli(['rfm', '--db', db, '--lang', 'zh'], { MEMBERLENS_LOCK_WAIT: '0' })
      expect(zh.code).toBe(1)
      const line = oneLine(zh.err)
      expect(line).toMatch(new RegExp(`^错误：.*m\\.duckdb 正被进程 ${holder.pid}（.*）占用：`))
      expect(line).toContain('MEMBERLENS_LOCK_WAIT')
      expect(line).not.toMatch(/in use by|internal error|Could not set lock/)
    } finally {
      holder.kill()
      await new Promise((ok) => holder.once('exit', ok))
    }
  })

  it('prints the note while it waits in the chosen language', async () => {
    const holder = await holdInAnotherProcess(db)
    try {
      const zh = await cli(['rfm', '--db', db, '--lang', 'zh'], { MEMBERLENS_LOCK_WAIT: '1' })
      expect(zh.code).toBe(1)
      const lines = zh.err.split('\n').filter((l) => l !== '')
      expect(lines[0]).toMatch(
        new RegExp(`^正在等待 .*m\\.duckdb：被进程 ${holder.pid}（.*）占用（最多 1 秒）$`),
      )
      expect(lines[1]).toMatch(/^错误：/)
    } finally {
      holder.kill()
      await new Promise((ok) => holder.once('exit', ok))
    }
  })
})

describe("commander's usage errors", () => {
  it('are in Chinese under --lang zh and MEMBERLENS_LANG=zh, with the suggestion', async () => {
    for (const r of [
      await cli(['rfm', '--dbb', db, '--lang', 'zh']),
      await cli(['rfm', '--dbb', db], { MEMBERLENS_LANG: 'zh' }),
    ]) {
      expect(r.code).toBe(2)
      expect(r.err).toBe("错误：未知选项 '--dbb'\n（是否要输入 --db？）\n（加 --help 查看用法）\n")
    }
    const missing = await cli(['metrics', 'get', 'orders', '--from', '2026-01', '--lang', 'zh'])
    expect(missing.err).toContain("错误：缺少必需的选项 '--to <date>'")
    const en = await cli(['rfm', '--dbb', db])
    expect(en.err).toBe(
      "error: unknown option '--dbb'\n(Did you mean --db?)\n(run with --help for usage)\n",
    )
  })
})
