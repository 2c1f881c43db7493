import pc from 'picocolors'
import {
  getMemberProfile,
  listMerges,
  listSharedIdentities,
} from '../../duckdb/members/member-profile.js'
import type { Database } from '../../store/database.js'
import { codeName, translator, type Lang } from '../lang.js'
import { FIELD_LABELS } from '../messages.js'
import { readFile } from 'node:fs/promises'
import { InputError } from '../../core/errors.js'
import {
  getLinkedChannels,
  measureIdentityQuality,
  type IdentityQuality,
  type LabelledRecord,
} from '../../duckdb/members/identity-quality.js'
import {
  count,
  decimal,
  figure,
  keyValues,
  MISSING,
  money,
  pct,
  printJson,
  table,
} from '../output.js'
import { heldBackReason, identityTypeName } from '../render/members.js'

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const GENDER_ZH: Readonly<Record<string, string>> = {
  female: '女',
  male: '男',
  other: '其他',
  unknown: '未知',
}

/** A member field's value as a person reads it: yes/no, gender and JSON attributes in words. */
function fieldValue(field: string, v: unknown, lang: Lang): string {
  const t = translator(lang)
  if (typeof v === 'boolean') return t(v ? 'yes' : 'no')
  if (field === 'gender' && lang === 'zh') return GENDER_ZH[String(v)] ?? String(v)
  if (field === 'registration_channel') return codeName(String(v), lang)
  if (field === 'attributes') {
    let parsed: unknown = v
    if (typeof v === 'string') {
      try {
        parsed = JSON.parse(v)
      } catch {
        return v
      }
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const entries = Object.entries(parsed as Record<string, unknown>)
      return entries.length === 0
        ? MISSING
        : entries
            .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
            .join(', ')
    }
  }
  return String(v)
}

export async function runMembersShow(
  db: Database,
  query: string,
  flags: { json: boolean; countryCode?: string; lang?: Lang },
): Promise<void> {
  const profile = await getMemberProfile(db.driver, query, {
    defaultCountryCode: flags.countryCode ?? '86',
  })
  if (flags.json) {
    printJson(profile)
    return
  }
  const lang = flags.lang ?? 'en'
  const t = translator(lang)
  const m = profile.member
  const shown = Object.entries(m)
    .map(([k, v]) => [snake(k), v] as const)
    .filter(([k, v]) => k !== 'member_id' && v !== null && v !== undefined)
    .map(([k, v]) => [FIELD_LABELS[k]?.[lang] ?? k, fieldValue(k, v, lang)] as const)
  const p = profile.purchases
  const out = [
    pc.bold(t('Member {id}', { id: String(m['memberId']) })),
    keyValues(shown),
    '',
    pc.bold(t('Identities')),
    table(
      [t('type'), t('value'), t('first seen (UTC)'), t('channel')],
      profile.identities.map((i) => [
        identityTypeName(i['identityType'], lang),
        String(i['identityValue']),
        String(i['firstSeenAt'] ?? MISSING),
        i['sourceChannel'] == null ? MISSING : codeName(String(i['sourceChannel']), lang),
      ]),
    ),
    '',
    pc.bold(t('Purchases')),
    keyValues([
      [t('orders'), count(p.orders, lang)],
      [t('net amount'), money(p.netAmount, lang)],
      [t('returns'), money(p.returnsAmount, lang)],
      [t('first order (UTC)'), p.firstOrderAt ?? MISSING],
      [t('last order (UTC)'), p.lastOrderAt ?? MISSING],
      [t('purchase days'), count(p.purchaseDays, lang)],
      [t('usual days between purchases (median)'), figure(p.medianGapDays, 'days', lang)],
      [t('long gap (P90 of own gaps)'), figure(p.p90GapDays, 'days', lang)],
    ]),
  ]
  if (profile.mergedFrom.length > 0) {
    out.push('', pc.bold(t('Merged from')))
    out.push(
      table(
        [t('member'), t('linked by'), t('file'), t('line')],
        profile.mergedFrom.map((r) => [
          String(r['fromMemberId']),
          `${identityTypeName(r['identityType'], lang)}:${String(r['identityValue'])}`,
          String(r['sourceFile']),
          String(r['sourceLine']),
        ]),
      ),
    )
  }
  process.stdout.write(`${out.join('\n')}\n`)
}

export async function runMembersMerges(
  db: Database,
  flags: { json: boolean; limit: number; lang?: Lang },
): Promise<void> {
  const merges = await listMerges(db.driver, flags.limit)
  const notMerged = await listSharedIdentities(db.driver, flags.limit)
  if (flags.json) {
    printJson({ merges, notMerged })
    return
  }
  const lang = flags.lang ?? 'en'
  const t = translator(lang)
  const out: string[] = []
  if (merges.length === 0) out.push(t('No members have been merged.'))
  else
    out.push(
      table(
        [t('merge'), t('load'), t('from'), t('into'), t('linked by'), t('file'), t('line')],
        merges.map((r) => [
          String(r['mergeId']),
          String(r['loadId']),
          String(r['fromMemberId']),
          String(r['intoMemberId']),
          `${identityTypeName(r['identityType'], lang)}:${String(r['identityValue'])}`,
          String(r['sourceFile']),
          String(r['sourceLine']),
        ]),
      ),
    )
  if (notMerged.length > 0) {
    out.push('', pc.bold(t('Identifiers kept on members but not used to merge them')))
    out.push(
      table(
        [t('identifier'), t('members'), t('reason'), t('first load'), t('file'), t('line')],
        notMerged.map((r) => [
          `${identityTypeName(r['identityType'], lang)}:${String(r['identityValue'])}`,
          count(Number(r['members']), lang),
          heldBackReason(String(r['reason']), lang),
          String(r['firstLoadId']),
          String(r['sourceFile'] ?? MISSING),
          String(r['sourceLine'] ?? MISSING),
        ]),
      ),
    )
  }
  process.stdout.write(`${out.join('\n')}\n`)
}

/** `memberlens members quality`: linked channels, and precision and recall against a simulator's truth. */
export async function runMembersQuality(
  db: Database,
  flags: { json: boolean; truth?: string; countryCode?: string; lang?: Lang },
): Promise<void> {
  const linked = await getLinkedChannels(db.driver)
  let quality: IdentityQuality | null = null
  if (flags.truth !== undefined) {
    const text = await readFile(flags.truth, 'utf8').catch((e: Error) => {
      throw InputError.single({ file: flags.truth, reason: `cannot read: ${e.message}` })
    })
    let truth: { identityCases?: { records?: LabelledRecord[] } }
    try {
      truth = JSON.parse(text) as typeof truth
    } catch (e) {
      throw InputError.single({ file: flags.truth, reason: `not JSON: ${(e as Error).message}` })
    }
    const records = truth.identityCases?.records
    if (!Array.isArray(records))
      throw InputError.single({
        file: flags.truth,
        field: 'identityCases.records',
        reason: 'missing: write the truth with `memberlens simulate --identity-cases`',
      })
    quality = await measureIdentityQuality(db.driver, records, {
      defaultCountryCode: flags.countryCode ?? '86',
    })
  }
  if (flags.json) return printJson({ linkedChannels: linked, quality })
  const lang = flags.lang ?? 'en'
  const t = translator(lang)
  const share = (n: number) => pct(linked.members > 0 ? n / linked.members : null)
  const out = [
    pc.bold(t('Members known in 1, 2, 3+ channels')),
    table(
      [t('channels'), t('members'), t('share')],
      [
        ['1', count(linked.one, lang), share(linked.one)],
        ['2', count(linked.two, lang), share(linked.two)],
        ['3+', count(linked.threeOrMore, lang), share(linked.threeOrMore)],
      ],
    ),
    '',
    table(
      [t('channel'), t('members')],
      linked.channels.map((c) => [codeName(c.channel, lang), count(c.members, lang)]),
    ),
  ]
  if (quality !== null) {
    out.push(
      '',
      pc.bold(t('Identity resolution against the truth')),
      keyValues([
        [t('records'), count(quality.records, lang)],
        [t('records not found'), count(quality.unresolved, lang)],
        [t('record pairs of one person'), count(quality.truePairs, lang)],
        [t('record pairs merged'), count(quality.predictedPairs, lang)],
        [t('precision'), decimal(quality.precision, 4)],
        [t('recall'), decimal(quality.recall, 4)],
      ]),
    )
    if (quality.cases.length > 0)
      out.push(
        '',
        table(
          [t('hard case'), t('records'), t('resolved as the truth says')],
          quality.cases.map((c) => [
            codeName(c.case, lang),
            count(c.records, lang),
            count(c.correct, lang),
          ]),
        ),
      )
  }
  process.stdout.write(`${out.join('\n')}\n`)
}
