/**
 * What every page shares: the API client, element and chart helpers, number formatting, and the loading,
 * empty and error states.
 */
import * as echarts from 'echarts/core'
import createClient, { type ClientPathsWithMethod, type MethodResponse } from 'openapi-fetch'
import { apiErrorOf, type ApiError, type ApiIssue } from './api-error'
import { lang, setDefaultLang, t } from './i18n'
import {
  currencySymbol,
  formatAxis,
  formatNumber,
  type NumberStyle,
  type NumberUnit,
} from './format'
import type { components, paths } from './generated/api'

/** A name in English and Chinese, as the API gives it. */
export type Name = components['schemas']['Text']

// The key arrives in the URL fragment (never sent to the server in the request line) and stays for the session.
const fromHash = /key=([A-Za-z0-9_-]+)/.exec(location.hash)?.[1]
if (fromHash) {
  sessionStorage.setItem('memberlens.key', fromHash)
  history.replaceState(null, '', `${location.pathname}#/overview`)
}

export { ApiError } from './api-error'

/** The error of a non-2xx answer: the server's message and the problems it lists (api-error.ts). */
async function failure(r: Response): Promise<ApiError> {
  const body: unknown = await r.json().catch(() => ({}))
  return apiErrorOf(r.status, r.statusText, body, t('accepted'))
}

/** A GET with the session's key; non-2xx answers become an {@link ApiError} with the server's reason. */
export async function authorisedFetch(path: string): Promise<Response> {
  const key = sessionStorage.getItem('memberlens.key') ?? ''
  const r = await fetch(path, { headers: { authorization: `Bearer ${key}` } })
  if (r.ok) return r
  throw await failure(r)
}

/**
 * The API client. Each call's path, parameters and answer type come from the API's OpenAPI document
 * (`generated/api.ts`, made from the routes' schemas by `npm run api-types`), so a page that reads a field the
 * API no longer answers does not type-check. Every request carries the session's key.
 */
export const client = createClient<paths>()
client.use({
  onRequest({ request }) {
    request.headers.set('authorization', `Bearer ${sessionStorage.getItem('memberlens.key') ?? ''}`)
    return request
  },
})

/** `T`, which must be assignable to `U` (a type error otherwise). */
type Assignable<T extends U, U> = T

/**
 * A problem the server lists in a refused request's answer, as the API's `Issue` schema says. api-error.ts
 * (no imports, so it can be tested on its own) reads it as {@link ApiIssue}; the two must agree, or the
 * web build fails here.
 */
export type Issue = Assignable<components['schemas']['Issue'], ApiIssue>

/** What a GET of `path` answers (its 2xx JSON), as {@link client} returns it. */
export type Answer<P extends ClientPathsWithMethod<typeof client, 'get'>> = MethodResponse<
  typeof client,
  'get',
  P
>

/**
 * The data of a client call's 2xx answer; any other answer becomes an {@link ApiError} with the server's
 * message and the problems it lists (api-error.ts).
 */
export async function ok<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  const { data, error, response } = await call
  if (!response.ok)
    throw apiErrorOf(response.status, response.statusText, error ?? {}, t('accepted'))
  return data as D
}

/**
 * Downloads what a GET answers (e.g. a CSV export) as a file, named by the answer's Content-Disposition or
 * `fallbackName` (the key goes in a header, so a plain link cannot carry it).
 */
export async function download(path: string, fallbackName: string): Promise<void> {
  const r = await authorisedFetch(path)
  const name =
    /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName
  const url = URL.createObjectURL(await r.blob())
  const a = el('a', { href: url, download: name })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export const app = document.querySelector<HTMLElement>('#app') as HTMLElement
export const charts: echarts.ECharts[] = []

export function clear(): void {
  while (charts.length) charts.pop()?.dispose()
  app.replaceChildren()
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  e.append(...children)
  return e
}

let currency = 'CNY'

/** Sets the currency of money figures (the server's setting, from GET /api/v1/settings). */
export function setCurrency(code: string): void {
  if (/^[A-Z]{3}$/.test(code)) currency = code
}

/**
 * Asks the server how figures are shown (the currency) and which language to open in when the viewer has not
 * chosen one; keeps CNY and English when it cannot say.
 */
export async function loadSettings(): Promise<void> {
  try {
    const s = await ok(client.GET('/api/v1/settings'))
    setCurrency(s.currency)
    setDefaultLang(s.lang)
  } catch {
    // Without a key every page says why; the default currency stays.
  }
}

const style = (): NumberStyle => ({ lang: lang(), currency })

/**
 * A figure in the page's language and the server's currency (format.ts has the rules); `currencyCode` names
 * another currency for money that is kept in one (e.g. the loyalty program's liability).
 */
export function format(
  v: number | null | undefined,
  unit: NumberUnit,
  currencyCode?: string | null,
): string {
  return formatNumber(v, unit, currencyCode ? { lang: lang(), currency: currencyCode } : style())
}

/** The currency symbol of money figures (¥ for CNY). */
export const money = (): string => currencySymbol(currency, lang())

/** A short label for a chart's axis, cell or scale: 万/亿 or K/M, whole % for rates (format.ts). */
export const shortLabel =
  (unit: NumberUnit) =>
  (v: unknown): string =>
    typeof v === 'number' ? formatAxis(v, unit, style()) : ''

/**
 * A chart value axis for figures of `unit`: short labels (万/亿, K/M), % for rates; `name` is the axis title
 * (money axes get the currency symbol in it).
 */
export function valueAxis(
  unit: NumberUnit,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const name = typeof extra['name'] === 'string' ? extra['name'] : undefined
  return {
    type: 'value',
    ...extra,
    ...(name !== undefined && unit === 'currency' ? { name: `${name} (${money()})` } : {}),
    ...(name !== undefined && unit === 'ratio' && !name.includes('%')
      ? { name: `${name} (%)` }
      : {}),
    axisLabel: { formatter: shortLabel(unit) },
  }
}

/** A chart tooltip's value formatter for figures of `unit`. */
export const tooltipValue =
  (unit: NumberUnit) =>
  (v: unknown): string =>
    format(typeof v === 'number' ? v : null, unit)

/** Called with every chart drawn and its first option (events.ts marks the calendar on time axes). */
export const chartHooks: ((c: echarts.ECharts, option: echarts.EChartsCoreOption) => void)[] = []

export function chart(container: HTMLElement, option: echarts.EChartsCoreOption): echarts.ECharts {
  const c = echarts.init(container, undefined, { renderer: 'svg' })
  // No animation: charts show their data at once (and screenshots are deterministic).
  c.setOption({ animation: false, ...option })
  charts.push(c)
  for (const hook of chartHooks) hook(c, option)
  return c
}

export function showError(e: unknown): void {
  clear()
  const message = e instanceof Error ? e.message : String(e)
  const hint = /API key/.test(message) ? t('needKey') : ''
  app.append(
    el(
      'div',
      { class: 'notice error', role: 'alert' },
      `${t('error')}: ${message}`,
      hint ? el('p', {}, hint) : '',
    ),
  )
}

export function loading(): void {
  clear()
  app.append(el('p', { class: 'loading' }, t('loading')))
}

/** A labelled form control. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return el('label', {}, label, control)
}

/** A select whose options are `[value, label]` pairs. */
export function select(
  id: string,
  label: string,
  options: readonly (readonly [string, string])[],
  value?: string,
): HTMLSelectElement {
  const s = el(
    'select',
    { id, 'aria-label': label },
    ...options.map(([v, l]) => el('option', { value: v }, l)),
  )
  if (value !== undefined) s.value = value
  return s
}

/** A chart container with an accessible name. */
export function chartBox(id: string, label: string, extra = ''): HTMLDivElement {
  return el('div', { class: `chart ${extra}`.trim(), id, role: 'img', 'aria-label': label })
}

/** A table with a header row; cells that are numbers (or marked) are right-aligned. */
export function table(
  id: string,
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly (string | number | Node)[])[],
  numeric: readonly number[] = [],
): HTMLTableElement {
  return el(
    'table',
    { id },
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el(
      'tbody',
      {},
      ...rows.map((r) =>
        el(
          'tr',
          {},
          ...r.map((v, i) =>
            el(
              'td',
              numeric.includes(i) ? { class: 'num' } : {},
              v instanceof Node ? v : String(v),
            ),
          ),
        ),
      ),
    ),
  )
}

/**
 * The polite empty state. A command or file in backticks (`memberlens ingest`) is shown as code; it reads the
 * same in every language.
 */
export function emptyNotice(message = t('empty')): HTMLElement {
  const parts = message
    .split(/`([^`]+)`/)
    .map((part, i) => (i % 2 === 1 ? el('code', { class: 'command' }, part) : part))
  return el('p', { class: 'notice empty' }, ...parts)
}

/**
 * Fills one part of a page: a loading line while `fn` runs, then its nodes, or the error in place (the rest
 * of the page stays usable). Charts of the part are disposed before it is redrawn.
 */
export async function fill(box: HTMLElement, fn: () => Promise<(Node | string)[]>): Promise<void> {
  for (const c of [...charts])
    if (box.contains(c.getDom())) {
      c.dispose()
      charts.splice(charts.indexOf(c), 1)
    }
  box.setAttribute('aria-busy', 'true')
  box.replaceChildren(el('p', { class: 'loading' }, t('loading')))
  try {
    const nodes = await fn()
    box.replaceChildren(...nodes)
  } catch (e) {
    box.replaceChildren(
      el(
        'p',
        { class: 'notice error', role: 'alert' },
        `${t('error')}: ${e instanceof Error ? e.message : String(e)}`,
      ),
    )
  } finally {
    box.removeAttribute('aria-busy')
  }
}

/** Draws a chart once its container is in the document (ECharts needs its size). */
export function drawLater(container: HTMLElement, option: echarts.EChartsCoreOption): void {
  requestAnimationFrame(() => chart(container, option))
}

/** YYYY-MM-DD `months` months before (or after, if negative) a date. */
export function addMonths(date: string, months: number): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`)
  d.setUTCMonth(d.getUTCMonth() + months)
  return d.toISOString().slice(0, 10)
}

/**
 * A code in words: the label `prefix.code` in the current language (a reason, a channel, a status…), or the
 * code itself when the dictionary has no label for it (a value from the data, such as a campaign's own id).
 */
export function coded(prefix: string, code: string): string {
  const k = `${prefix}.${code}`
  const v = t(k)
  return v === k ? code : v
}

/** A name in the current language. */
export const named = (n: Name | undefined, fallback: string): string => n?.[lang()] ?? fallback
