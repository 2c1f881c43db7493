/**
 * The published package, as a user gets it: `npm pack` of the built repository, installed into an empty
 * folder, then the command line, the dashboard and the library used from there — nothing read from the
 * repository at run time. `npm test` builds before it runs the tests, so the tarball holds the current code.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const run = promisify(execFile)
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let dir: string
let app: string
let bin: string
let server: ChildProcess | undefined

beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist/cli/index.js')), 'run `npm run build` first').toBe(true)
  dir = await mkdtemp(join(tmpdir(), 'memberlens-pack-'))
  // The build is current (npm test builds first), so the pack skips the prepare script.
  const { stdout } = await run(
    NPM,
    ['pack', '--ignore-scripts', '--json', '--pack-destination', dir],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  )
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[]
  if (packed === undefined) throw new Error('npm pack wrote no tarball')
  const paths = packed.files.map((f) => f.path)
  expect(paths).toContain('dist/index.js')
  expect(paths).toContain('dist/index.d.ts')
  expect(paths.some((p) => p.startsWith('web/dist/assets/'))).toBe(true)
  expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false)

  app = join(dir, 'app')
  await run(NPM, ['init', '-y'], { cwd: await mkdirp(app) })
  await run(
    NPM,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed.filename)],
    { cwd: app, maxBuffer: 64 * 1024 * 1024 },
  )
  bin = join(app, 'node_modules/.bin/memberlens')
}, 600_000)

afterAll(async () => {
  if (server !== undefined) await stop(server)
  await rm(dir, { recursive: true, force: true })
})

/** Stops a child process and waits for it to exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  await new Promise<void>((ok) => {
    child.once('exit', () => ok())
    child.kill('SIGTERM')
  })
}

async function mkdirp(path: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises')
  await mkdir(path, { recursive: true })
  return path
}

async function memberlens(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(bin, args, {
    cwd: app,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  })
}

describe('the installed package', () => {
  it('runs the command line from the installed files', async () => {
    const { stdout } = await memberlens('--version')
    const { version } = (await import(join(ROOT, 'package.json'), { with: { type: 'json' } }))
      .default as { version: string }
    expect(stdout.trim()).toBe(version)
    const help = await memberlens('--help')
    expect(help.stdout).toMatch(/demo/)
    expect(help.stdout).toMatch(/metrics/)
  })

  it('runs the demo without serving', async () => {
    const { stdout } = await memberlens(
      'demo',
      '--no-serve',
      '--members',
      '2000',
      '--months',
      '12',
      '--db',
      'db/demo.duckdb',
    )
    expect(stdout).toMatch(/demo\.duckdb/)
    expect(existsSync(join(app, 'db/demo.duckdb'))).toBe(true)
    // The simulated files and the example ledger go beside the database, not into the current folder.
    expect(existsSync(join(app, 'db/.memberlens/demo-data/truth.json'))).toBe(true)
    expect(existsSync(join(app, '.memberlens'))).toBe(false)
  }, 300_000)

  it('serves the dashboard and its assets', async () => {
    server = spawn(bin, ['serve', '--db', 'db/demo.duckdb', '--port', '0', '--alerts-every', '0'], {
      cwd: app,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const base = await new Promise<string>((ok, fail) => {
      let out = ''
      let err = ''
      server?.stdout?.on('data', (b: Buffer) => {
        out += b.toString()
        const m = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/docs/.exec(out)
        if (m?.[1] !== undefined) ok(m[1])
      })
      server?.stderr?.on('data', (b: Buffer) => (err += b.toString()))
      server?.on('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)))
    })
    const page = await fetch(`${base}/`)
    expect(page.status).toBe(200)
    const html = await page.text()
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets) {
      const r = await fetch(`${base}${asset}`)
      expect(r.status, asset).toBe(200)
    }
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200)
    await stop(server)
    server = undefined
  }, 120_000)

  it('is a library plain Node imports, with its types', async () => {
    const script = join(app, 'use.mjs')
    await writeFile(
      script,
      [
        "import { openDatabase, getOverview, fitBgNbd, INGEST_TABLES } from 'memberlens'",
        "const db = await openDatabase('db/demo.duckdb', { readOnly: true })",
        'const overview = await getOverview(db.driver)',
        'await db.close()',
        'console.log(JSON.stringify({ tables: INGEST_TABLES.length, fit: typeof fitBgNbd, members: overview?.allTime.members }))',
      ].join('\n'),
    )
    const { stdout } = await run(process.execPath, [script], { cwd: app })
    const out = JSON.parse(stdout) as { tables: number; fit: string; members: number }
    expect(out.tables).toBeGreaterThan(5)
    expect(out.fit).toBe('function')
    expect(out.members).toBeGreaterThan(0)

    // A TypeScript consumer type-checks against the declarations shipped in the package.
    await writeFile(
      join(app, 'use.mts'),
      [
        "import { openDatabase, type Database } from 'memberlens'",
        "const db: Promise<Database> = openDatabase('db/demo.duckdb')",
        'void db',
        '// @ts-expect-error: the library has no such export',
        "import { notAnExport } from 'memberlens'",
        'void notAnExport',
      ].join('\n'),
    )
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['use.mts'],
      }),
    )
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app })
    expect((await readdir(join(app, 'node_modules/memberlens/dist'))).length).toBeGreaterThan(0)
  }, 120_000)
})
