/**
 * The JSON shapes of a metric definition and of a metric result, as the API answers them and `--json` prints
 * them: written once here so that the two cannot drift apart.
 * @module
 */
import { allowedDimensions, type MetricDef } from './catalog.js'
import type { MetricResult } from './run.js'

/** A catalog metric as JSON: its definition and the dimensions it may be split by. */
export function metricDefinitionView(m: MetricDef) {
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    formula: m.formula,
    family: m.family,
    unit: m.unit,
    direction: m.direction,
    defaultGrain: m.defaultGrain,
    dimensions: [...allowedDimensions(m)],
    custom: m.custom ?? false,
  }
}

/**
 * A metric result as JSON: rows as computed; each column names its metric by id, and its unit is `change`
 * for a period-over-period or year-over-year column (a ratio of two values) and the metric's own otherwise.
 */
export function metricResultView(r: MetricResult) {
  return {
    ...r,
    columns: r.columns.map((c) => ({
      key: c.key,
      metric: c.metric.id,
      trend: c.trend ?? null,
      unit: c.trend && c.trend.kind !== 'avg' ? 'change' : c.metric.unit,
      name: c.metric.name,
    })),
  }
}
