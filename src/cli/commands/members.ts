import pc from 'picocolors'
import {
  getMemberProfile,
  listMerges,
  listSharedIdentities,
} from '../../duckdb/members/member-profile.js'
import type { Database } from '../../store/database.js'
import { fmt, keyValues, printJson, table } from '../output.js'

export async function runMembersShow(
  db: Database,
  query: string,
  flags: { json: boolean; countryCode?: string },
): Promise<void> {
  const profile = await getMemberProfile(db.driver, query, {
    defaultCountryCode: flags.countryCode ?? '86',
  })
  if (flags.json) {
    printJson(profile)
    return
  }
  const m = profile.member
  const shown = Object.entries(m)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => [k, String(v)] as const)
  const p = profile.purchases
  const out = [
    pc.bold(`Member ${String(m['memberId'])}`),
    keyValues(shown),
    '',
    pc.bold('Identities'),
    table(
      ['type', 'value', 'first seen', 'channel'],
      profile.identities.map((i) => [
        String(i['identityType']),
        String(i['identityValue']),
        String(i['firstSeenAt'] ?? '–'),
        String(i['sourceChannel'] ?? '–'),
      ]),
    ),
    '',
    pc.bold('Purchases'),
    keyValues([
      ['orders', fmt(p.orders)],
      ['net amount', fmt(p.netAmount, 2)],
      ['returns', fmt(p.returnsAmount, 2)],
      ['first order', p.firstOrderAt ?? '–'],
      ['last order', p.lastOrderAt ?? '–'],
    ]),
  ]
  if (profile.mergedFrom.length > 0) {
    out.push('', pc.bold('Merged from'))
    out.push(
      table(
        ['member', 'linked by', 'file', 'line'],
        profile.mergedFrom.map((r) => [
          String(r['fromMemberId']),
          `${String(r['identityType'])}:${String(r['identityValue'])}`,
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
  flags: { json: boolean; limit: number },
): Promise<void> {
  const merges = await listMerges(db.driver, flags.limit)
  const notMerged = await listSharedIdentities(db.driver, flags.limit)
  if (flags.json) {
    printJson({ merges, notMerged })
    return
  }
  const out: string[] = []
  if (merges.length === 0) out.push('No members have been merged.')
  else
    out.push(
      table(
        ['merge', 'load', 'from', 'into', 'linked by', 'file', 'line'],
        merges.map((r) => [
          String(r['mergeId']),
          String(r['loadId']),
          String(r['fromMemberId']),
          String(r['intoMemberId']),
          `${String(r['identityType'])}:${String(r['identityValue'])}`,
          String(r['sourceFile']),
          String(r['sourceLine']),
        ]),
      ),
    )
  if (notMerged.length > 0) {
    out.push('', pc.bold('Identifiers kept on members but not used to merge them'))
    out.push(
      table(
        ['identifier', 'members', 'reason', 'first load', 'file', 'line'],
        notMerged.map((r) => [
          `${String(r['identityType'])}:${String(r['identityValue'])}`,
          String(r['members']),
          String(r['reason']),
          String(r['firstLoadId']),
          String(r['sourceFile'] ?? '–'),
          String(r['sourceLine'] ?? '–'),
        ]),
      ),
    )
  }
  process.stdout.write(`${out.join('\n')}\n`)
}
