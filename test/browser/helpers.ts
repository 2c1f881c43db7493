/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What the browser tests share: Debian's Chromium (made available by scripts/ensure-chromium.sh) with the
 * dashboard built, the English labels a Chinese page must not show, and a page's text once it has settled.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { LABELS } from '../../web/src/i18n.js'

export const ROOT = resolve(import.meta.dirname, '../..')

/** The newest modification time (ms) of a file under `path`, or of `path` itself. */
function newest(path: string): number {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((m, e) => Math.max(m, statSync(join(e.parentPath, e.name)).mtimeMs), s.mtimeMs)
}

/** Blocks the thread for `ms` milliseconds (a wait for another test file's build). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Builds the dashboard (web/dist) unless it is newer than its sources. Test files run in parallel: a lock
 * directory lets one build while the others wait, so that no server serves a dist/ another build is emptying.
 */
function buildWeb(): void {
  const lock = resolve(ROOT, 'test-results/.web-build.lock')
  mkdirSync(dirname(lock), { recursive: true })
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // A lock left by a killed run is taken over after five minutes.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()
      if (waited > 300_000 || Date.now() - since > 300_000)
        rmSync(lock, { recursive: true, force: true })
      sleep(250)
    }
  }
  try {
    const web = resolve(ROOT, 'web')
    const sources = Math.max(
      newest(join(web, 'src')),
      newest(join(web, 'index.html')),
      newest(join(web, 'vite.config.ts')),
    )
    if (newest(join(web, 'dist/index.html')) <= sources)
      execFileSync('npm', ['run', 'build', '-w', 'web'], { cwd: ROOT, stdio: 'ignore' })
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Makes Chromium available and builds the dashboard (web/dist), which `startServer` serves. */
export function prepareBrowserTest(): void {
  execFileSync('bash', [resolve(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' })
  buildWeb()
}

/** Headless Chromium without network side-traffic. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * A dashboard-sized page (1366 × 900) whose console errors and uncaught page errors are collected into
 * `errors`, so that a test can assert the page logged none.
 */
export async function newWatchedPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(e.message))
  return page
}

/** A dictionary phrase: its key, its English text and a pattern that finds it as a whole phrase. */
export interface Phrase {
  key: string
  value: string
  re: RegExp
}

/**
 * The English labels of the dashboard's dictionary that a Chinese page must not show: each `en` value (or the
 * fixed parts of a template) with a letter in it, unless its Chinese label says the same (NPS, API, CSV…).
 */
export function englishPhrases(): Phrase[] {
  const out: Phrase[] = []
  for (const [key, en] of Object.entries(LABELS.en)) {
    const zh = LABELS.zh[key] ?? ''
    for (const part of en.split(/\{[a-z]+\}/)) {
      const value = part.trim()
      if (!/[A-Za-z]{2}/.test(value) || zh.includes(value)) continue
      const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      // A word right after `memberlens ` is a command's name (`memberlens target`), the same in any language.
      out.push({
        key,
        value,
        re: new RegExp(`(?<![A-Za-z_])(?<!memberlens )${escaped}(?![A-Za-z_])`),
      })
    }
  }
  return out
}

/** The phrases of {@link englishPhrases} that `text` shows, as `"phrase" (key)`. */
export function englishIn(text: string, phrases: readonly Phrase[]): string[] {
  return phrases.filter((p) => p.re.test(text)).map((p) => `"${p.value}" (${p.key})`)
}

/** The page's text (with chart labels and select options) once every part has loaded and charts are drawn. */
export async function settledText(page: Page): Promise<string> {
  await page.waitForSelector('#app > *')
  await page.waitForFunction(
    () => !document.querySelector('#app .loading, #app [aria-busy], #member-result .loading'),
  )
  await page.waitForTimeout(300)
  // Identifiers from the data (orders, campaigns: `code.id`) are left out; they read the same in any language.
  return page.evaluate(() => {
    const app = document.querySelector('#app')?.cloneNode(true) as HTMLElement | undefined
    app?.querySelectorAll('code.id').forEach((e) => e.remove())
    return `${document.querySelector('header')?.textContent ?? ''}\n${app?.textContent ?? ''}`
  })
}
