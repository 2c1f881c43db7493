/**
 * `memberlens explain [term]`: the glossary in the terminal — one term's definition, formula and the terms it
 * is easily confused with, or the list of terms. The same entries are served at `/api/v1/glossary` and shown
 * by the dashboard's ⓘ marks.
 * @module
 */
import type { Command } from 'commander'
import pc from 'picocolors'
import type { Term } from '../../core/glossary.js'
import { NotFoundError } from '../../core/errors.js'
import { findTerm, glossary, nearestTerms } from '../../engine/metrics/glossary.js'
import { langOption } from '../lang.js'
import { printJson, table } from '../output.js'

type Lang = 'en' | 'zh'

const LABELS = {
  en: { formula: 'Formula', related: 'Not to be confused with / see also', shownIn: 'Shown in' },
  zh: { formula: '公式', related: '易混淆 / 另见', shownIn: '出现位置' },
} as const

/** One term as text. */
export function renderTerm(term: Term, lang: Lang, terms: readonly Term[]): string {
  const l = LABELS[lang]
  const name = (id: string) => {
    const t = terms.find((x) => x.id === id)
    return t === undefined ? id : `${t.name[lang]} (${id})`
  }
  const lines = [pc.bold(`${term.name[lang]}  ${pc.dim(term.id)}`), '', term.definition[lang]]
  // A metric's Chinese definition states its formula in words; the catalog's formula is written in English.
  if (term.formula !== undefined && !(lang === 'zh' && term.kind === 'metric'))
    lines.push('', `${l.formula}: ${term.formula}`)
  if (term.related !== undefined && term.related.length > 0)
    lines.push('', `${l.related}:`, ...term.related.map((id) => `  · ${name(id)}`))
  if (term.shownIn !== undefined && term.shownIn.length > 0)
    lines.push('', `${l.shownIn}: ${term.shownIn.join(' · ')}`)
  return lines.join('\n')
}

export function registerExplainCommands(program: Command): void {
  program
    .command('explain')
    .description('the glossary: what a term or metric means, its formula and the terms it is not')
    .argument(
      '[term]',
      'term or metric id, e.g. at_risk, clv_at_risk, churn_rate (omit to list all)',
    )
    .addOption(langOption('the definitions'))
    .option('--json', 'machine-readable JSON', false)
    .addHelpText(
      'after',
      '\nExamples:\n  memberlens explain at_risk --lang zh\n  memberlens explain net_revenue\n  memberlens explain --json',
    )
    .action((id: string | undefined, flags: { lang: Lang; json: boolean }) => {
      const terms = glossary()
      if (id === undefined) {
        if (flags.json) return printJson({ terms })
        process.stdout.write(
          `${table(
            ['id', flags.lang === 'zh' ? '名称' : 'name', flags.lang === 'zh' ? '类型' : 'kind'],
            terms.map((t) => [
              t.id,
              t.name[flags.lang],
              flags.lang === 'zh' ? (t.kind === 'metric' ? '指标' : '概念') : t.kind,
            ]),
          )}\n`,
        )
        return
      }
      const term = findTerm(id, terms)
      if (term === undefined)
        throw new NotFoundError(
          `no term ${id} in the glossary; did you mean ${nearestTerms(id, terms).join(', ')}? (memberlens explain lists every term)`,
        )
      if (flags.json) printJson(term)
      else process.stdout.write(`${renderTerm(term, flags.lang, terms)}\n`)
    })
}
