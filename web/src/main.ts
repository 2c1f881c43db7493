/**
 * The memberlens dashboard: pages over the HTTP API, charts with ECharts (SVG renderer), zh-CN and en labels.
 * It reaches the server only through HTTP, with the API key from the URL it was opened with (`#key=…`),
 * kept for the browser session.
 */
import { BarChart, HeatmapChart, LineChart, SankeyChart } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import './events'
import { t, setLang, lang, type Lang } from './i18n'
import { categoriesPage } from './pages/categories'
import { lifecyclePage } from './pages/lifecycle'
import { loyaltyPage } from './pages/loyalty'
import { riskPage } from './pages/risk'
import { segmentsPage } from './pages/segments'
import { tagsPage } from './pages/tags'
import { valuePage } from './pages/value'
import { voicePage } from './pages/voice'
import { drivers } from './pages/drivers'
import { explore } from './pages/explore'
import { member } from './pages/member'
import { overview } from './pages/overview'
import { retention } from './pages/retention'
import { app, charts, clear, client, el, emptyNotice, loadSettings, ok, showError } from './ui'

echarts.use([
  LineChart,
  BarChart,
  HeatmapChart,
  SankeyChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  MarkLineComponent,
  VisualMapComponent,
  SVGRenderer,
])

const PAGES: Record<string, () => Promise<void>> = {
  overview,
  explore,
  retention,
  lifecycle: lifecyclePage,
  categories: categoriesPage,
  segments: segmentsPage,
  tags: tagsPage,
  risk: riskPage,
  loyalty: loyaltyPage,
  value: valuePage,
  voice: voicePage,
  drivers,
  member: () => {
    const id = /^#\/member\/(.+)$/.exec(location.hash)?.[1]
    return member(id === undefined ? undefined : decodeURIComponent(id))
  },
}

/** Set once the database holds orders or events: data, once loaded, stays. */
let hasData = false

/**
 * Whether the database holds any orders or events: the overview answers null without. Asked again on each
 * page until data arrives, so that a page opened after `memberlens ingest` shows it.
 */
async function holdsData(): Promise<boolean> {
  if (!hasData) hasData = (await ok(client.GET('/api/v1/overview'))).overview !== null
  return hasData
}

/**
 * A page on a database without orders or events: its title and what to do, instead of empty charts, figures
 * of zero or the server's refusal of each part. Member 360 keeps its search (which then finds no one).
 */
async function emptyState(page: string): Promise<void> {
  const notice = emptyNotice(t('noActivity'))
  notice.id = 'no-data'
  if (page === 'member') {
    await PAGES['member']?.()
    app.querySelector('h1')?.after(notice)
    return
  }
  clear()
  app.append(el('h1', {}, t(`nav.${page in PAGES ? page : 'overview'}`)), notice)
}

async function route(): Promise<void> {
  const page = /^#\/(\w+)/.exec(location.hash)?.[1] ?? 'overview'
  document
    .querySelectorAll<HTMLAnchorElement>('header nav a')
    .forEach((a) => a.classList.toggle('active', a.dataset['page'] === page))
  document
    .querySelectorAll<HTMLElement>('[data-i18n]')
    .forEach((e) => (e.textContent = t(e.dataset['i18n'] ?? '')))
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en'
  try {
    if (!(await holdsData())) return await emptyState(page)
    await (PAGES[page] ?? overview)()
  } catch (e) {
    showError(e)
  }
}

const langSelect = document.querySelector<HTMLSelectElement>('#lang') as HTMLSelectElement
langSelect.value = lang()
langSelect.addEventListener('change', () => {
  setLang(langSelect.value as Lang)
  void loadSettings().then(route)
})
window.addEventListener('hashchange', () => void route())
window.addEventListener('resize', () => charts.forEach((c) => c.resize()))
// The server's language applies until the viewer picks one.
void loadSettings().then(() => {
  langSelect.value = lang()
  return route()
})
