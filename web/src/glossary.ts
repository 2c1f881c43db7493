/**
 * The ⓘ beside a figure: its definition from the glossary (GET /api/v1/glossary, the entries `memberlens
 * explain` prints), in the page's language, on hover and focus. The glossary is asked for once per page load.
 */
import type { components } from './generated/api'
import { lang, t } from './i18n'
import { client, el, ok } from './ui'

type Term = components['schemas']['GlossaryTerm']

let terms: Promise<ReadonlyMap<string, Term>> | undefined

function glossary(): Promise<ReadonlyMap<string, Term>> {
  terms ??= ok(client.GET('/api/v1/glossary')).then(
    (g) => new Map(g.terms.map((x) => [x.id, x] as const)),
    // Without the glossary the figures still show; the mark says so instead of a definition.
    () => new Map<string, Term>(),
  )
  return terms
}

/** The definition of a term in the page's language, with its formula. */
export function definition(term: Term): string {
  const l = lang()
  return `${term.name[l]}: ${term.definition[l]}${term.formula ? ` (${term.formula})` : ''}`
}

/**
 * An ⓘ mark for glossary term `id` (a concept or a catalog metric id); its tooltip (`title`, and the
 * accessible description) is the term's definition once the glossary has loaded.
 */
export function info(id: string): HTMLElement {
  const mark = el(
    'span',
    { class: 'info', tabindex: '0', role: 'img', 'data-term': id, 'aria-label': t('definition') },
    'ⓘ',
  )
  void glossary().then((g) => {
    const term = g.get(id)
    const text = term === undefined ? t('noDefinition') : definition(term)
    mark.title = text
    mark.setAttribute('aria-label', `${t('definition')}: ${text}`)
  })
  return mark
}
