/**
 * `memberlens tags compute|import|list|member`: member tags (会员标签) in groups, computed per month by the
 * rules of a tag file, manual tags imported from a file, and each member's tag history.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import { utcTimestampText, wallTimeIn } from '../../core/time-zone.js'
import { findMemberId } from '../../duckdb/members/member-profile.js'
import { parseIdentityList, resolveIdentityList } from '../../duckdb/members/member-list.js'
import {
  TAG_PERIOD_RE,
  parseTagConfig,
  periodEnd,
  splitTagKey,
  type TagConfig,
} from '../../engine/tags/tag-config.js'
import {
  computeTags,
  getMemberTags,
  getTagCounts,
  importManualTags,
  listTagPeriods,
  type TagPeriod,
  type TagWrite,
} from '../../engine/tags/tag-store.js'
import { dbOption, withDatabase } from '../database.js'
import { unmatchedReason } from '../render/identity-list.js'
import { langOption, translator, type Lang } from '../lang.js'
import { count, MISSING, pct, printJson, table } from '../output.js'
import { timeZoneOption } from '../time-zone-option.js'

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)
const periodOption = (required: boolean) => {
  const o = new Option('--period <YYYY-MM>', 'the month the tags hold for').argParser(
    (v: string) => {
      if (!TAG_PERIOD_RE.test(v))
        throw InputError.single({
          field: '--period',
          value: v,
          reason: 'expected a month, e.g. 2026-10',
        })
      return v
    },
  )
  return required ? o.makeOptionMandatory() : o
}
const configOption = () =>
  new Option(
    '--config <file>',
    'the tag groups (YAML; see examples/tags.yaml)',
  ).makeOptionMandatory()

async function readTagFile(file: string): Promise<{ config: TagConfig; file: string }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw InputError.single({ file, reason: `cannot read the tag file (${(e as Error).message})` })
  }
  return { config: parseTagConfig(text, file), file }
}

/** The period's end (the first day of the next month) in `zone`, as the engine's UTC instant. */
function tagPeriod(period: string, zone: string): TagPeriod {
  return { period, asOf: utcTimestampText(wallTimeIn(periodEnd(period), zone)), timeZone: zone }
}

/** A tag's name in the language: `name_en` in English when given, else `name`. */
function names(config: TagConfig, lang: Lang) {
  const pick = (x: { name: string; name_en?: string | undefined }) =>
    lang === 'en' ? (x.name_en ?? x.name) : x.name
  return {
    group: (g: string) => {
      const found = config.groups.find((x) => x.id === g)
      return found === undefined ? g : pick(found)
    },
    tag: (g: string, t: string) => {
      const found = config.groups.find((x) => x.id === g)?.tags.find((x) => x.id === t)
      return found === undefined ? t : pick(found)
    },
  }
}

function renderCounts(w: TagWrite, config: TagConfig, lang: Lang): string {
  const t = translator(lang)
  const n = names(config, lang)
  const held = new Map(w.counts.map((c) => [`${c.group}:${c.tag}`, c.members]))
  const rows: string[][] = []
  for (const g of config.groups)
    for (const tag of g.tags) {
      const members = held.get(`${g.id}:${tag.id}`) ?? 0
      rows.push([
        `${n.group(g.id)}${g.exclusive ? ` (${t('exclusive')})` : ''}`,
        `${g.id}:${tag.id}`,
        n.tag(g.id, tag.id),
        tag.when === undefined ? t('manual') : t('rule'),
        count(members, lang),
        w.baseMembers > 0 ? pct(members / w.baseMembers) : MISSING,
      ])
    }
  return [
    pc.bold(
      t('Member tags for {period} ({n} members registered by its end)', {
        period: w.period,
        n: count(w.baseMembers, lang),
      }),
    ),
    table([t('group'), t('tag'), t('name'), t('source'), t('members'), t('share')], rows),
  ].join('\n')
}

/** Registers `memberlens tags …`. */
export function registerTagCommands(program: Command): void {
  const tags = program
    .command('tags')
    .description(
      'member tags in groups: compute by rules per month, import manual tags, show history',
    )
    .addHelpText(
      'after',
      `
A tag file (YAML) lists groups of tags; a tag with \`when\` is computed by its rule (thresholds and
quantiles over per-member measures, and member attributes), one without is given by hand. In an
exclusive group a member holds at most one tag: a second one stops the command, naming the member and
both tags. Tags are stored per month with where they came from (rule, or manual with file and line).
See docs/profile.md.

Examples:
  memberlens tags compute --config examples/tags.yaml --period 2026-10
  memberlens tags import vip.csv --config examples/tags.yaml --period 2026-10
  memberlens tags list --period 2026-10
  memberlens tags member phone:13800138000`,
    )

  tags
    .command('compute')
    .description('evaluate the rules of a tag file at the end of a month and store the tags')
    .addOption(configOption())
    .addOption(periodOption(true))
    .addOption(dbOption())
    .addOption(timeZoneOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (flags: {
        config: string
        period: string
        db: string
        tz: string
        lang?: Lang
        json: boolean
      }) => {
        const file = await readTagFile(flags.config)
        await withDatabase(flags.db, 'write', async (db) => {
          const result = await computeTags(
            db.driver,
            file,
            tagPeriod(flags.period, flags.tz),
            systemClock,
          )
          if (flags.json) return printJson(result)
          process.stdout.write(`${renderCounts(result, file.config, flags.lang ?? 'en')}\n`)
        })
      },
    )

  tags
    .command('import')
    .description('store manual tags from a CSV file: a tag column (group:tag) and the member')
    .argument(
      '<file>',
      'CSV with a header: tag (group:tag) and member (member id or kind:value), or one column per identity kind',
    )
    .addOption(configOption())
    .addOption(periodOption(true))
    .addOption(dbOption())
    .addOption(timeZoneOption())
    .option(
      '--country-code <digits>',
      'country calling code for national phone numbers (default 86)',
    )
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (
        csv: string,
        flags: {
          config: string
          period: string
          db: string
          tz: string
          countryCode?: string
          lang?: Lang
          json: boolean
        },
      ) => {
        const file = await readTagFile(flags.config)
        const text = await readFile(csv, 'utf8')
        const lines = parseIdentityList(text, csv, ['tag'])
        for (const l of lines)
          if (splitTagKey(l.extra['tag'] ?? '') === undefined)
            throw InputError.single({
              file: csv,
              line: l.line,
              field: 'tag',
              value: l.extra['tag'] ?? '',
              reason: 'a tag is written group:tag, as in the tag file',
            })
        await withDatabase(flags.db, 'write', async (db) => {
          const resolved = await resolveIdentityList(db.driver, lines, {
            defaultCountryCode: flags.countryCode ?? '86',
          })
          const rows = resolved.lines.flatMap((l) => {
            const key = splitTagKey(l.extra['tag'] ?? '')
            return l.memberId === null || key === undefined
              ? []
              : [{ memberId: l.memberId, group: key.group, tag: key.tag, file: csv, line: l.line }]
          })
          const result = await importManualTags(
            db.driver,
            file,
            tagPeriod(flags.period, flags.tz),
            rows,
            systemClock,
          )
          const unmatched = resolved.lines
            .filter((l) => l.memberId === null)
            .map((l) => ({ line: l.line, text: l.text, reason: l.reason }))
          if (flags.json)
            return printJson({
              ...result,
              matched: resolved.matched,
              unmatched: resolved.unmatched,
              unmatchedLines: unmatched,
            })
          const t = translator(flags.lang)
          process.stdout.write(
            `${t('Imported {n} manual tags; {m} lines matched no member.', { n: count(rows.length, flags.lang), m: count(resolved.unmatched, flags.lang) })}\n`,
          )
          for (const u of unmatched)
            process.stdout.write(
              `  ${csv}:${u.line}: ${u.text} — ${unmatchedReason(u.reason, flags.lang)}\n`,
            )
          process.stdout.write(`${renderCounts(result, file.config, flags.lang ?? 'en')}\n`)
        })
      },
    )

  tags
    .command('list')
    .description('how many members hold each tag in a month (default: the latest computed)')
    .addOption(periodOption(false))
    .addOption(dbOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (flags: { period?: string; db: string; lang?: Lang; json: boolean }) =>
      withDatabase(flags.db, 'read', async (db) => {
        const result = await getTagCounts(db.driver, flags.period)
        if (flags.json) {
          const periods = (await listTagPeriods(db.driver)).map((p) => p.period)
          return printJson({ ...result, periods })
        }
        process.stdout.write(`${renderCounts(result, result.config, flags.lang ?? 'en')}\n`)
      }),
    )

  tags
    .command('member')
    .description('every tag a member has held, month by month')
    .argument('<query>', 'member id, identity value, or type:value such as phone:13800138000')
    .addOption(dbOption())
    .option(
      '--country-code <digits>',
      'country calling code for national phone numbers (default 86)',
    )
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (
        query: string,
        flags: { db: string; countryCode?: string; lang?: Lang; json: boolean },
      ) =>
        withDatabase(flags.db, 'read', async (db) => {
          const id = await findMemberId(db.driver, query, {
            defaultCountryCode: flags.countryCode ?? '86',
          })
          if (id === undefined || id === null)
            throw InputError.single({ field: 'query', value: query, reason: 'no member matches' })
          const held = await getMemberTags(db.driver, id)
          if (flags.json) return printJson({ memberId: Number(id), tags: held })
          const lang = flags.lang ?? 'en'
          const t = translator(lang)
          const periods = await listTagPeriods(db.driver)
          const configOf = new Map(periods.map((p) => [p.period, p.config]))
          process.stdout.write(`${pc.bold(t('Tags of member {id}', { id: String(id) }))}\n`)
          if (held.length === 0) return void process.stdout.write(`${t('(none)')}\n`)
          process.stdout.write(
            `${table(
              [t('period'), t('group'), t('tag'), t('source')],
              held.map((h) => {
                const config = configOf.get(h.period)
                const n = config === undefined ? undefined : names(config, lang)
                return [
                  h.period,
                  n?.group(h.group) ?? h.group,
                  n?.tag(h.group, h.tag) ?? h.tag,
                  h.source === 'rule' ? t('rule') : `${t('manual')} ${h.sourceDetail ?? ''}`.trim(),
                ]
              }),
            )}\n`,
          )
        }),
    )
}
