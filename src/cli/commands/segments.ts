/**
 * `memberlens segments save|list|show|export|delete`: saved member segments and their export for SMS,
 * email, WeChat and push tools.
 * @module
 */
import { timeZoneOption } from '../time-zone-option.js'
import { writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import pc from 'picocolors'
import { systemClock } from '../../core/clock.js'
import { InputError } from '../../core/errors.js'
import {
  EXPORT_COLUMNS,
  EXPORT_FORMATS,
  formatExport,
  getSegmentExportRows,
  type ExportFormat,
} from '../../engine/segments/segment-export.js'
import { segmentFilterSchema, type SegmentFilter } from '../../engine/segments/segment-schema.js'
import {
  deleteSegment,
  getSegment,
  listSegments,
  saveSegment,
} from '../../engine/segments/segment-store.js'
import { fmt, keyValues, printJson, table } from '../output.js'
import { zonedAsOfOption, parseWith, resolveZonedAsOf } from '../validations/retention.js'
import { addEngineOptions, withEngine, type EngineFlags } from '../engine-options.js'
import { codeName, langOption, translator, type Lang } from '../lang.js'
import { CHURN_CLASS_NAMES, GENDER_NAMES_ZH } from '../messages.js'
import { STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import { RFM_SEGMENT_NAMES } from '../../engine/rfm/rfm-config.js'
import { dbOption, withDatabase } from '../database.js'
import { unmatchedReason } from '../render/identity-list.js'
import { readConfigFile } from '../config-file.js'
import { countSegmentMembers } from '../../engine/segments/segment-summary.js'
import { readFile } from 'node:fs/promises'
import { syncedTierNames } from '../../analytics/loyalty/sync.js'
import { parseIdentityList, resolveIdentityList } from '../../duckdb/members/member-list.js'
import { compareSegments, type SegmentComparison } from '../../analytics/profile/segment-compare.js'
import { TAG_PERIOD_RE } from '../../engine/tags/tag-config.js'
import { MISSING, count, money, pct } from '../output.js'
import { narrowIdentityColumns } from '../../engine/segments/identity-columns.js'
import type { IdentityType } from '../../core/schema.js'
import { idsOption } from '../member-options.js'

const jsonOption = () => new Option('--json', 'machine-readable JSON on stdout').default(false)

/** The conditions of a segment filter in words. */
const FILTER_NAMES: Readonly<Record<keyof SegmentFilter, { en: string; zh: string }>> = {
  registrationChannel: { en: 'registration channel', zh: '注册渠道' },
  region: { en: 'region', zh: '地区' },
  city: { en: 'city', zh: '城市' },
  gender: { en: 'gender', zh: '性别' },
  registeredFrom: { en: 'registered from', zh: '注册时间起' },
  registeredTo: { en: 'registered before', zh: '注册时间止（不含）' },
  attributes: { en: 'attributes', zh: '属性' },
  consent: { en: 'consent', zh: '可触达渠道' },
  lifecycle: { en: 'lifecycle stage', zh: '生命周期阶段' },
  rfm: { en: 'RFM segment', zh: 'RFM 分群' },
  cohort: { en: 'cohort cell', zh: '同期群单元格' },
  memberIds: { en: 'members', zh: '指定会员' },
  tags: { en: 'tags', zh: '标签' },
  risk: { en: 'churn risk', zh: '流失风险' },
  clv: { en: 'predicted CLV', zh: '预测 CLV' },
  pAlive: { en: 'P(alive)', zh: '活跃概率' },
}

const CONSENT_NAMES: Readonly<Record<string, { en: string; zh: string }>> = {
  sms: { en: 'SMS', zh: '短信' },
  email: { en: 'e-mail', zh: '邮件' },
  wechat: { en: 'WeChat', zh: '微信' },
  push: { en: 'app push', zh: 'App 推送' },
}

/** A segment's filter as one line per condition, in the language (the JSON is in `--json`). */
export function describeFilter(filter: SegmentFilter, lang: Lang): string {
  const t = translator(lang)
  const sep = lang === 'zh' ? '、' : ', '
  const named = (table: Readonly<Record<string, { en: string; zh: string }>>, v: string) =>
    table[v]?.[lang] ?? v
  const lines: Array<[string, string]> = []
  for (const [key, value] of Object.entries(filter) as Array<[keyof SegmentFilter, unknown]>) {
    if (value === undefined) continue
    const label = FILTER_NAMES[key]?.[lang] ?? key
    switch (key) {
      case 'registrationChannel':
      case 'region':
      case 'city':
        lines.push([label, (value as string[]).map((v) => codeName(v, lang)).join(sep)])
        break
      case 'gender':
        lines.push([
          label,
          (value as string[]).map((v) => (lang === 'zh' ? (GENDER_NAMES_ZH[v] ?? v) : v)).join(sep),
        ])
        break
      case 'consent':
        lines.push([
          label,
          Object.entries(value as Record<string, boolean>)
            .map(([c, ok]) => `${named(CONSENT_NAMES, c)} ${t(ok ? 'yes' : 'no')}`)
            .join(sep),
        ])
        break
      case 'lifecycle': {
        const l = value as { stages: string[]; asOf?: string }
        lines.push([
          label,
          l.stages.map((x) => named(STAGE_NAMES, x)).join(sep) +
            (l.asOf ? ` (${t('as of {date}', { date: l.asOf })})` : ''),
        ])
        break
      }
      case 'rfm': {
        const r = value as { segments: string[]; asOf?: string }
        lines.push([
          label,
          r.segments.map((x) => named(RFM_SEGMENT_NAMES, x)).join(sep) +
            (r.asOf ? ` (${t('as of {date}', { date: r.asOf })})` : ''),
        ])
        break
      }
      case 'attributes':
        lines.push([
          label,
          Object.entries(value as Record<string, unknown>)
            .map(([k, v]) => `${k} = ${String(v)}`)
            .join(sep),
        ])
        break
      case 'memberIds':
        lines.push([label, t('{n} members', { n: fmt((value as number[]).length) })])
        break
      case 'tags': {
        const g = value as { include: string[]; period?: string }
        lines.push([
          label,
          g.include.join(sep) +
            (g.period ? ` (${t('tags of {period}', { period: g.period })})` : ''),
        ])
        break
      }
      case 'risk': {
        const r = value as { classes?: string[]; min?: number; max?: number }
        const parts = [
          ...(r.classes ?? []).map((c) =>
            lang === 'zh' ? (CHURN_CLASS_NAMES[c as keyof typeof CHURN_CLASS_NAMES] ?? c) : c,
          ),
          ...(r.min === undefined ? [] : [`≥ ${r.min}`]),
          ...(r.max === undefined ? [] : [`≤ ${r.max}`]),
        ]
        lines.push([label, `${parts.join(sep)} (${t('latest scoring')})`])
        break
      }
      case 'clv':
      case 'pAlive': {
        const r = value as { min?: number; max?: number }
        const show = (v: number) => (key === 'clv' ? money(v, lang) : pct(v))
        const parts = [
          ...(r.min === undefined ? [] : [`≥ ${show(r.min)}`]),
          ...(r.max === undefined ? [] : [`≤ ${show(r.max)}`]),
        ]
        lines.push([label, `${parts.join(sep)} (${t('latest CLV run')})`])
        break
      }
      default:
        lines.push([label, typeof value === 'string' ? value : JSON.stringify(value)])
    }
  }
  return lines.length === 0
    ? `  ${t('(all members)')}`
    : `${t('conditions')}${lang === 'zh' ? '：' : ':'}\n${keyValues(lines)}`
}

/** Registers `memberlens segments …`. */
export function registerSegmentCommands(program: Command): void {
  const segments = program
    .command('segments')
    .description(
      'saved member segments (filters on attributes, lifecycle stage, RFM segment, cohort, tags, churn risk, CLV, P(alive), or an uploaded list), their comparison with the base (TGI) and export',
    )
    .addHelpText(
      'after',
      `
Definitions are kept in the DuckDB database (--db): save, list and delete work there. show and export
count and export the members on the engine chosen with --engine (DuckDB by default, or ClickHouse).

Examples:
  memberlens segments save lapsed-vips --config examples/segments.yaml
  memberlens segments save app-sms --filter '{"registrationChannel":["app"],"consent":{"sms":true}}'
  memberlens segments save vip-app --filter '{"tags":{"include":["value:high","channel:app","channel:mini-program"]}}'
  memberlens segments save at-risk-value --filter '{"risk":{"min":0.7},"clv":{"min":500}}'
  memberlens segments save crm-list --from-file ids.csv
  memberlens segments list
  memberlens segments show lapsed-vips
  memberlens segments compare lapsed-vips [--against another-segment]
  memberlens segments export lapsed-vips --format csv --out lapsed-vips.csv`,
    )

  segments
    .command('save')
    .description('validate and save (or replace) a segment')
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .option(
      '--config <file>',
      'YAML/JSON with the filter (a `filter:` key, or the filter itself) and an optional description',
    )
    .option('--filter <json>', 'the filter as JSON')
    .option(
      '--from-file <file>',
      'an uploaded list: one identity a line (kind:value such as phone:13800138000, customer_id:17123, member_id:42, or a bare value), or a CSV header naming a column per kind; resolved through the identity graph',
    )
    .option(
      '--country-code <digits>',
      'country calling code for national phone numbers in --from-file (default 86)',
    )
    .option('--description <text>', 'what the segment is for')
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (
        name: string,
        flags: {
          db: string
          config?: string
          filter?: string
          fromFile?: string
          countryCode?: string
          description?: string
          lang?: Lang
          json: boolean
        },
      ) => {
        let body: Record<string, unknown>
        if (flags.config !== undefined) {
          const raw = await readConfigFile(flags.config)
          const obj = (raw ?? {}) as Record<string, unknown>
          body = 'filter' in obj ? obj : { filter: obj }
        } else if (flags.filter !== undefined) {
          try {
            body = { filter: JSON.parse(flags.filter) as unknown }
          } catch (e) {
            throw InputError.single({
              field: '--filter',
              reason: `not valid JSON: ${(e as Error).message}`,
            })
          }
        } else if (flags.fromFile !== undefined) {
          body = { filter: {} }
        } else {
          throw InputError.single({
            field: '--config',
            reason:
              'give the filter with --config <file>, --filter <json> or --from-file <ids.csv>',
          })
        }
        const filter = parseWith(segmentFilterSchema, body['filter'] ?? {}, 'filter setting')
        const lines =
          flags.fromFile === undefined
            ? undefined
            : parseIdentityList(await readFile(flags.fromFile, 'utf8'), flags.fromFile)
        if (lines !== undefined && filter.memberIds !== undefined)
          throw InputError.single({
            field: '--from-file',
            reason: 'the filter already lists memberIds: give the members one way',
          })
        await withDatabase(flags.db, 'write', async (db) => {
          const t = translator(flags.lang)
          const list =
            lines === undefined
              ? undefined
              : await resolveIdentityList(db.driver, lines, {
                  defaultCountryCode: flags.countryCode ?? '86',
                })
          if (list !== undefined && list.memberIds.length === 0)
            throw InputError.single({
              file: flags.fromFile,
              reason: `no line matched a member (${list.unmatched} lines unmatched)`,
            })
          const description =
            flags.description ??
            (body['description'] as string | undefined) ??
            (list === undefined
              ? undefined
              : `uploaded list ${flags.fromFile ?? ''}: ${list.matched} lines matched, ${list.unmatched} unmatched`)
          const input: Record<string, unknown> = {
            ...body,
            name,
            filter:
              list === undefined ? body['filter'] : { ...filter, memberIds: [...list.memberIds] },
            ...(description === undefined ? {} : { description }),
          }
          const saved = await saveSegment(db.driver, input as never, systemClock)
          const unmatched = (list?.lines ?? [])
            .filter((l) => l.memberId === null)
            .map((l) => ({ line: l.line, text: l.text, reason: l.reason }))
          if (flags.json)
            return printJson({
              saved,
              ...(list === undefined
                ? {}
                : {
                    list: {
                      file: flags.fromFile,
                      matched: list.matched,
                      unmatched: list.unmatched,
                      members: list.memberIds.length,
                      unmatchedLines: unmatched,
                    },
                  }),
            })
          process.stdout.write(`${t('Saved segment {name}.', { name: pc.bold(saved.name) })}\n`)
          if (list === undefined) return
          process.stdout.write(
            `${t(
              'Uploaded list {file}: {matched} lines matched, {unmatched} unmatched, {members} members.',
              {
                file: flags.fromFile ?? '',
                matched: count(list.matched, flags.lang),
                unmatched: count(list.unmatched, flags.lang),
                members: count(list.memberIds.length, flags.lang),
              },
            )}\n`,
          )
          if (unmatched.length === 0) return
          process.stdout.write(`${t('unmatched lines')}:\n`)
          for (const u of unmatched.slice(0, 50))
            process.stdout.write(
              `  ${flags.fromFile ?? ''}:${u.line}: ${u.text} — ${unmatchedReason(u.reason, flags.lang)}\n`,
            )
          if (unmatched.length > 50)
            process.stdout.write(
              `  ${t('{n} more unmatched lines (see --json)', { n: count(unmatched.length - 50, flags.lang) })}\n`,
            )
        })
      },
    )

  segments
    .command('list')
    .description('list saved segments')
    .addOption(dbOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(async (flags: { db: string; lang?: Lang; json: boolean }) =>
      withDatabase(flags.db, 'write', async (db) => {
        const lang = flags.lang ?? 'en'
        const t = translator(lang)
        const all = await listSegments(db.driver)
        if (flags.json) return printJson({ segments: all })
        if (all.length === 0)
          return void process.stdout.write(
            `${t('No saved segments yet: memberlens segments save --help')}\n`,
          )
        process.stdout.write(
          `${table(
            [t('name'), t('description'), t('conditions'), t('updated')],
            all.map((s) => [
              s.definition.name,
              s.definition.description ?? '',
              Object.keys(s.definition.filter)
                .map((k) => FILTER_NAMES[k as keyof SegmentFilter]?.[lang] ?? k)
                .join(lang === 'zh' ? '、' : ', ') || t('(all members)'),
              s.updatedAt,
            ]),
          )}\n`,
        )
      }),
    )

  // Definitions live in the DuckDB database (--db); the members are counted and exported on the engine.
  addEngineOptions(segments.command('show'))
    .description('print a segment’s definition and its current size')
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .action(
      async (
        name: string,
        flags: EngineFlags & { db: string; asOf?: string; tz: string; lang?: Lang; json: boolean },
      ) => {
        const s = await withDatabase(flags.db, 'write', (db) => getSegment(db.driver, name))
        await withEngine(flags, async (driver) => {
          const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
          const members = await countSegmentMembers(driver, s.definition.filter, at.instant)
          if (flags.json) return printJson({ ...s, asOf: at.local, timeZone: at.zone, members })
          process.stdout.write(
            `${pc.bold(s.definition.name)}${s.definition.description ? ` — ${s.definition.description}` : ''}\n`,
          )
          process.stdout.write(
            `${translator(flags.lang)('members (as of {asOf}): {n}', { asOf: at.label, n: fmt(members) })}\n`,
          )
          process.stdout.write(`${describeFilter(s.definition.filter, flags.lang ?? 'en')}\n`)
        })
      },
    )

  addEngineOptions(segments.command('compare'))
    .description(
      'profile a segment against the whole base (or another segment): each attribute’s shares, TGI and a significance flag',
    )
    .argument('<name>', 'segment name')
    .option('--against <segment>', 'compare with another saved segment instead of the whole base')
    .option(
      '--tag-period <YYYY-MM>',
      'the month of the member tags compared (default: the latest computed)',
    )
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .addOption(langOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
For every value of registration channel, region, city, gender, age band, lifecycle stage, loyalty tier
(when synced) and each tag group: the share of the segment's members holding it, the share in the
comparison group, and TGI = segment share / comparison share x 100. "significant" is a pooled
two-proportion z-test, two-sided at 5%, of the segment against the comparison members outside it.
Attributes no member has (no birthdays, no genders) are left out; members without a value count as
missing (—).`,
    )
    .action(
      async (
        name: string,
        flags: EngineFlags & {
          db: string
          against?: string
          tagPeriod?: string
          asOf?: string
          tz: string
          lang?: Lang
          json: boolean
        },
      ) => {
        if (flags.tagPeriod !== undefined && !TAG_PERIOD_RE.test(flags.tagPeriod))
          throw InputError.single({
            field: '--tag-period',
            value: flags.tagPeriod,
            reason: 'expected a month, e.g. 2026-10',
          })
        const [s, other, tierNames] = await withDatabase(flags.db, 'write', async (db) => [
          await getSegment(db.driver, name),
          flags.against === undefined ? undefined : await getSegment(db.driver, flags.against),
          await syncedTierNames(db.driver),
        ])
        await withEngine(flags, async (driver) => {
          const at = await resolveZonedAsOf(driver, flags.asOf, flags.tz)
          const result = await compareSegments(
            driver,
            s.definition.filter,
            other === undefined
              ? undefined
              : { name: other.definition.name, filter: other.definition.filter },
            at.instant,
            flags.tagPeriod === undefined ? {} : { tagPeriod: flags.tagPeriod },
          )
          if (flags.json)
            return printJson({ segment: name, asOfLocal: at.local, timeZone: at.zone, ...result })
          process.stdout.write(
            `${renderComparison(name, result, at.label, flags.lang ?? 'en', tierNames)}\n`,
          )
        })
      },
    )

  addEngineOptions(segments.command('export'))
    .description(
      'write the members with phone (E.164), email, WeChat unionid, app user id, card number, POS and customer ids and consent flags',
    )
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .addOption(zonedAsOfOption())
    .addOption(timeZoneOption())
    .addOption(
      new Option('--format <format>', 'file format').choices(EXPORT_FORMATS).default('csv'),
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .addOption(idsOption('only these identity columns (default: every one)'))
    .action(
      async (
        name: string,
        flags: EngineFlags & {
          db: string
          asOf?: string
          tz: string
          format: ExportFormat
          out?: string
          ids?: IdentityType[]
        },
      ) => {
        const s = await withDatabase(flags.db, 'write', (db) => getSegment(db.driver, name))
        const rows = await withEngine(flags, async (driver) =>
          getSegmentExportRows(
            driver,
            s.definition.filter,
            (await resolveZonedAsOf(driver, flags.asOf, flags.tz)).instant,
          ),
        )
        const text = formatExport(
          rows,
          flags.format,
          narrowIdentityColumns(EXPORT_COLUMNS, flags.ids),
        )
        if (flags.out === undefined) return void process.stdout.write(text)
        await writeFile(flags.out, text)
        process.stderr.write(`${fmt(rows.length)} members written to ${flags.out}\n`)
      },
    )

  segments
    .command('delete')
    .description('delete a saved segment')
    .argument('<name>', 'segment name')
    .addOption(dbOption())
    .action(async (name: string, flags: { db: string }) =>
      withDatabase(flags.db, 'write', async (db) => {
        if (!(await deleteSegment(db.driver, name)))
          throw InputError.single({ field: 'name', value: name, reason: 'no such segment' })
        process.stdout.write(`Deleted segment ${name}.\n`)
      }),
    )
}

const ATTRIBUTE_NAMES: Readonly<Record<string, { en: string; zh: string }>> = {
  registration_channel: { en: 'registration channel', zh: '注册渠道' },
  region: { en: 'region', zh: '地区' },
  city: { en: 'city', zh: '城市' },
  gender: { en: 'gender', zh: '性别' },
  age_band: { en: 'age band', zh: '年龄段' },
  lifecycle_stage: { en: 'lifecycle stage', zh: '生命周期阶段' },
  tier: { en: 'tier', zh: '会员等级' },
}

/** A comparison as a table, one row per attribute value. */
function renderComparison(
  name: string,
  c: SegmentComparison,
  asOf: string,
  lang: Lang,
  tierNames: Readonly<Record<string, { en: string; zh: string }>>,
): string {
  const t = translator(lang)
  const attribute = (a: string) =>
    a.startsWith('tag:') ? `${t('tag')} ${a.slice(4)}` : (ATTRIBUTE_NAMES[a]?.[lang] ?? a)
  const value = (a: string, v: string | null) => {
    if (v === null) return t('(missing)')
    if (a === 'lifecycle_stage') return STAGE_NAMES[v as keyof typeof STAGE_NAMES]?.[lang] ?? v
    if (a === 'gender') return lang === 'zh' ? (GENDER_NAMES_ZH[v] ?? v) : v
    if (a === 'tier') return tierNames[v]?.[lang] ?? v
    return codeName(v, lang)
  }
  const versus =
    c.against === 'base'
      ? t('the rest of the base')
      : t('members of {name} outside the segment', { name: c.against })
  return [
    pc.bold(
      t('{segment} vs {against} as of {asOf}: {a} vs {b} members', {
        segment: name,
        against: c.against === 'base' ? t('the whole base') : c.against,
        asOf,
        a: count(c.segmentSize, lang),
        b: count(c.baseSize, lang),
      }),
    ),
    table(
      [
        t('attribute'),
        t('value'),
        t('members'),
        t('segment share'),
        t('comparison share'),
        'TGI',
        t('significant'),
      ],
      c.rows.map((r) => [
        attribute(r.attribute),
        value(r.attribute, r.value),
        count(r.segmentMembers, lang),
        pct(r.segmentShare),
        pct(r.baseShare),
        r.tgi === null ? MISSING : fmt(r.tgi),
        r.significant === null ? MISSING : r.significant ? t('yes') : t('no'),
      ]),
    ),
    t('Significance: two-proportion z-test, two-sided at 5%, of the segment against {versus}.', {
      versus,
    }),
  ].join('\n')
}
