/**
 * The whole glossary: the concepts of `core/glossary.ts` and every catalog metric, one entry per id, with a
 * nearest-id suggestion for a term that does not exist.
 * @module
 */
import { editDistance } from '../../core/did-you-mean.js'
import { CONCEPTS, type Term } from '../../core/glossary.js'
import { CATALOG, type MetricDef } from './catalog.js'

/** A catalog metric as a glossary term (its description is the definition in both languages' entry). */
function metricTerm(m: MetricDef): Term {
  return {
    id: m.id,
    kind: 'metric',
    name: m.name,
    definition: { en: m.description, zh: m.description },
    formula: m.formula,
  }
}

/** Every term: the concepts first, then the catalog metrics, each id once. */
export function glossary(extra: readonly MetricDef[] = []): readonly Term[] {
  const terms: Term[] = CONCEPTS.map((c) => ({ ...c, kind: 'concept' as const }))
  const seen = new Set(terms.map((t) => t.id))
  for (const m of [...CATALOG, ...extra]) if (!seen.has(m.id)) terms.push(metricTerm(m))
  return terms
}

/** The term with this id (hyphens and case ignored), or undefined. */
export function findTerm(id: string, terms: readonly Term[] = glossary()): Term | undefined {
  const key = id
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, '_')
  return terms.find((t) => t.id === key)
}

/** Up to three ids closest to `id`, for "did you mean". */
export function nearestTerms(id: string, terms: readonly Term[] = glossary()): string[] {
  const key = id
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, '_')
  return terms
    .map((t) => ({ id: t.id, d: editDistance(key, t.id) - (t.id.includes(key) ? key.length : 0) }))
    .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
    .slice(0, 3)
    .map((x) => x.id)
}
