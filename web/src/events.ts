/**
 * The retail calendar on the time axes: 春节, 618 and 双11 (from `/api/v1/calendar`, computed for each year)
 * marked on a time-series chart as vertical lines at the period that holds the event's day, named in the
 * dashboard's language. A chart's axis labels are its periods: `YYYY-MM` for months, `YYYY-MM-DD` for days.
 */
import type { ECharts } from 'echarts/core'
import { lang } from './i18n'
import { chartHooks, client, ok, type Answer } from './ui'

type CalendarEvent = Answer<'/api/v1/calendar'>['events'][number]

/** The events that move demand between years, the ones `:yoy_event` aligns on. */
const MARKED = ['spring_festival', 'mid_year_618', 'double_11']

const years = new Map<number, Promise<CalendarEvent[]>>()

function eventsOf(year: number): Promise<CalendarEvent[]> {
  let p = years.get(year)
  if (p === undefined) {
    p = ok(client.GET('/api/v1/calendar', { params: { query: { year } } })).then((c) =>
      c.events.filter((e) => MARKED.includes(e.id)),
    )
    // A failed look-up is not kept: the next chart asks again.
    p.catch(() => years.delete(year))
    years.set(year, p)
  }
  return p
}

/** The axis label (of `labels`) of the period that holds `day`, if any. */
function labelOf(day: string, labels: readonly string[]): string | undefined {
  if (labels.includes(day)) return day
  const month = day.slice(0, 7)
  return labels.includes(month) ? month : undefined
}

/** The mark lines for the events that fall in the axis's periods: one per period, names joined. */
export async function eventMarks(
  labels: readonly string[],
): Promise<{ xAxis: string; name: string }[]> {
  const ys = [
    ...new Set(labels.map((l) => Number(l.slice(0, 4))).filter((y) => Number.isInteger(y))),
  ]
  if (ys.length === 0 || ys.length > 20) return []
  const events = (await Promise.all(ys.map(eventsOf))).flat()
  const byLabel = new Map<string, string[]>()
  for (const e of events) {
    const at = labelOf(e.date ?? e.start, labels)
    if (at !== undefined) byLabel.set(at, [...(byLabel.get(at) ?? []), e.name[lang()]])
  }
  return [...byLabel].map(([xAxis, names]) => ({ xAxis, name: names.join(' · ') }))
}

/**
 * Marks the events on `chart`, whose category axis holds `labels`, once the calendar has answered; a chart
 * redrawn or disposed meanwhile is left alone. The calendar failing leaves the chart as it is.
 */
export function markEvents(chart: ECharts, labels: readonly string[]): void {
  eventMarks(labels)
    .then((data) => {
      if (data.length === 0 || chart.isDisposed()) return
      const axis = (chart.getOption() as { xAxis?: { data?: unknown[] }[] }).xAxis?.[0]?.data
      if (axis === undefined || axis.length !== labels.length) return
      chart.setOption({
        series: [
          {
            markLine: {
              silent: true,
              symbol: 'none',
              lineStyle: { type: 'dashed', color: '#b45309', width: 1 },
              label: { formatter: '{b}', position: 'insideEndTop', color: '#b45309', fontSize: 10 },
              data: data.map((d) => ({ xAxis: d.xAxis, name: d.name })),
            },
          },
        ],
      })
    })
    .catch(() => {})
}

const PERIOD = /^\d{4}-\d{2}(-\d{2})?$/

/** The labels of an option's first x axis when it is a time axis (every label a month or a day), else none. */
export function timeLabels(option: unknown): string[] | undefined {
  const x = (option as { xAxis?: unknown }).xAxis
  const axis = (Array.isArray(x) ? x[0] : x) as { type?: string; data?: unknown[] } | undefined
  if (axis?.type !== 'category' || !Array.isArray(axis.data) || axis.data.length === 0)
    return undefined
  const labels = axis.data.map(String)
  return labels.every((l) => PERIOD.test(l)) ? labels : undefined
}

// Every chart drawn with a time axis gets the events.
chartHooks.push((c, option) => {
  const labels = timeLabels(option)
  if (labels !== undefined) markEvents(c, labels)
})
