/**
 * Omnichannel identity resolution (全渠道统一会员).
 *
 * Every source record carries one or more identities (phone, email, WeChat unionid, card number, app user id,
 * POS customer id, customer id) and possibly an existing member_id. Records that share an identity are the
 * same member. The graph whose nodes are new identities and already-known members, with an edge between the
 * nodes of each record, is split into connected components (union–find). In each component:
 * - if it holds known members, the oldest (smallest member_id) survives and the others are merged into it;
 * - otherwise it is a new member, numbered after the current largest id in order of its first line.
 * The result is deterministic for a given database and file. The SQL does the set work; only the edges of
 * records with two or more distinct nodes reach TypeScript, as integer pairs.
 *
 * With {@link ResolutionInput.exclusiveTypes} (identity types a person has at most one of, such as a WeChat
 * unionid), a link that would put two values of such a type in one component is refused: the edges are taken
 * in the order of their records, and an edge joining two components that both carry a value of one exclusive
 * type is skipped. The record of a skipped edge is split between members: it resolves to the member of its
 * member reference or exclusive identity (the smallest member id among them), and its other identities that
 * lead elsewhere are listed in `_ml_split` as ambiguous.
 *
 * With {@link ResolutionInput.vetoTable} (links that evidence refuses, see `identity-evidence.ts`), a record's
 * link to a vetoed member is left out of the graph, and the record is split the same way; the vetoed link ranks
 * last when its member is chosen.
 * @module
 */
import { IDENTITY_TYPES, type IdentityType } from '../../core/schema.js'
import type { DuckDbDriver } from '../driver.js'
import { ident, join, sql } from '../../engine/sql/fragment.js'
import { UnionFind } from './union-find.js'

export interface ResolutionInput {
  /** Table `(_line BIGINT, identity_type VARCHAR, identity_value VARCHAR)`: normalised, valid identities. */
  readonly idsTable: string
  /** Table `(_line BIGINT, member_id BIGINT)`: records naming an existing member directly. */
  readonly memberRefsTable: string
  /**
   * True when no record can carry more than one identity and none names a member: then no record links
   * anything and each new identity is a new member, so the graph step is skipped.
   */
  readonly singleIdentity?: boolean
  /**
   * Identity types a person has at most one value of: no component may hold two values of one of them
   * (default none: every link is followed).
   */
  readonly exclusiveTypes?: readonly IdentityType[]
  /**
   * Table `(_line BIGINT, member_id BIGINT, reason VARCHAR)`: links from records to existing members that are
   * refused (the record reaches the member through a phone only, and evidence says it is someone else).
   */
  readonly vetoTable?: string
}

export interface ResolutionResult {
  /** Table `_ml_resolved(_line BIGINT, member_id BIGINT, is_new BOOLEAN)`. */
  readonly resolvedTable: string
  /** Table `_ml_newid(identity_type, identity_value, first_line, node)` of identities not seen before. */
  readonly newIdentitiesTable: string
  /** Table `_ml_merges(from_member_id, into_member_id, line)`. */
  readonly mergesTable: string
  /**
   * Table `_ml_split(_line, identity_type, identity_value, member_id, owner_id, reason)`: identities of
   * records whose links were refused (see the module comment) that lead to another member (`owner_id`) than
   * the one the record resolved to (`member_id`); `reason` says why (the exclusive type both members hold, or
   * the evidence of the veto).
   */
  readonly splitTable: string
  /** Records whose links were refused: they would join two values of an exclusive type, or were vetoed. */
  readonly refused: number
  readonly newMembers: number
  readonly merges: number
  readonly newIdentities: number
}

/** Resolves every record of the input tables to a member id; writes nothing to the canonical tables. */
export async function resolveIdentities(
  driver: DuckDbDriver,
  input: ResolutionInput,
): Promise<ResolutionResult> {
  const ids = input.idsTable
  const refs = input.memberRefsTable
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_nodes AS
    SELECT n.*, e.member_id AS existing_member
    FROM (SELECT identity_type, identity_value, min(_line) AS first_line,
            arg_min(_ts, _line) AS first_ts, arg_min(_ch, _line) AS first_ch,
            min(_ts) AS min_ts, arg_min(_ch, _ts) AS min_ch
          FROM ${ident(ids)} GROUP BY identity_type, identity_value) n
    LEFT JOIN identities e USING (identity_type, identity_value)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_newid AS
    SELECT identity_type, identity_value, first_line, first_ts, first_ch, min_ts, min_ch,
      (row_number() OVER (ORDER BY first_line, identity_type, identity_value) - 1)::INTEGER AS node
    FROM _ml_nodes WHERE existing_member IS NULL`)
  const k = await count(driver, '_ml_newid')
  if (input.singleIdentity) return resolveSingle(driver, ids, k)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_oldm AS
    SELECT member_id, (${k} + row_number() OVER (ORDER BY member_id) - 1)::INTEGER AS node
    FROM (SELECT existing_member AS member_id FROM _ml_nodes WHERE existing_member IS NOT NULL
          UNION SELECT member_id FROM ${ident(refs)})`)
  const m = await count(driver, '_ml_oldm')
  const veto = input.vetoTable
  const vetoed =
    veto === undefined
      ? sql``
      : sql` AND NOT EXISTS (SELECT 1 FROM ${ident(veto)} v WHERE v._line = i._line AND v.member_id = n.existing_member)`
  // Only records that carry two or more links can join nodes; the graph is built from them alone.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_recnodes AS
    SELECT DISTINCT i._line, coalesce(nw.node, om.node) AS node
    FROM ${ident(ids)} i
    JOIN _ml_nodes n USING (identity_type, identity_value)
    LEFT JOIN _ml_newid nw USING (identity_type, identity_value)
    LEFT JOIN _ml_oldm om ON om.member_id = n.existing_member
    WHERE i._nids > 1${vetoed}
    UNION
    SELECT r._line, om.node FROM ${ident(refs)} r JOIN _ml_oldm om USING (member_id) WHERE r._nids > 1`)

  // Edges: a star from the smallest node of each multi-node record to its other nodes.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_edges AS
    SELECT a.node AS a, b.node AS b, a._line
    FROM (SELECT _line, min(node) AS node FROM _ml_recnodes GROUP BY _line HAVING count(*) > 1) a
    JOIN _ml_recnodes b ON a._line = b._line AND b.node <> a.node`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_comp (node INTEGER, root INTEGER)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_refused (_line BIGINT, reason VARCHAR)`)
  const edgeCount = await count(driver, '_ml_edges')
  const exclusive = input.exclusiveTypes ?? []
  if (edgeCount > 0) await unionEdges(driver, k + m, exclusive)
  if (veto !== undefined) {
    await driver.execute(sql`INSERT INTO _ml_refused
      SELECT _line, first(reason ORDER BY member_id) FROM ${ident(veto)}
      WHERE _line NOT IN (SELECT _line FROM _ml_refused) GROUP BY _line`)
  }
  const refused = await driver.first<{ n: bigint }>(
    sql`SELECT count(DISTINCT _line) AS n FROM _ml_refused`,
  )

  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_nodecomp AS
    SELECT nw.node, coalesce(c.root, nw.node) AS comp, nw.first_line, NULL::BIGINT AS member_id
    FROM _ml_newid nw LEFT JOIN _ml_comp c USING (node)
    UNION ALL
    SELECT om.node, coalesce(c.root, om.node) AS comp, NULL::BIGINT AS first_line, om.member_id
    FROM _ml_oldm om LEFT JOIN _ml_comp c USING (node)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_compmember AS
    WITH comps AS (
      SELECT comp, min(member_id) AS survivor, min(first_line) AS first_line FROM _ml_nodecomp GROUP BY comp
    ), base AS (SELECT coalesce(max(member_id), 0) AS top FROM members)
    SELECT comp, survivor IS NULL AS is_new,
      CASE WHEN survivor IS NOT NULL THEN survivor
        ELSE (SELECT top FROM base) + row_number() OVER (PARTITION BY survivor IS NULL ORDER BY first_line, comp)
      END AS member_id
    FROM comps`)
  // Each identity and each referenced member → its resolved member; then each record through them.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_idmember AS
    SELECT nw.identity_type, nw.identity_value, cm.member_id, cm.is_new
    FROM _ml_newid nw JOIN _ml_nodecomp nc USING (node) JOIN _ml_compmember cm USING (comp)
    UNION ALL
    SELECT n.identity_type, n.identity_value, cm.member_id, false
    FROM _ml_nodes n JOIN _ml_oldm om ON om.member_id = n.existing_member
    JOIN _ml_nodecomp nc ON nc.node = om.node JOIN _ml_compmember cm USING (comp)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_refmember AS
    SELECT om.member_id AS ref, cm.member_id FROM _ml_oldm om JOIN _ml_nodecomp nc USING (node) JOIN _ml_compmember cm USING (comp)`)
  const links = sql`SELECT i._line, i._nids, m.member_id, m.is_new FROM ${ident(ids)} i JOIN _ml_idmember m USING (identity_type, identity_value)
    UNION ALL
    SELECT r._line, r._nids, m.member_id, false FROM ${ident(refs)} r JOIN _ml_refmember m ON m.ref = r.member_id`
  // All links of a record lead to one member (but for refused ones); records with a single link need no grouping.
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_resolved AS
    SELECT _line, member_id, is_new FROM (${links}) WHERE _nids = 1
    UNION ALL
    SELECT _line, min(member_id), bool_or(is_new) FROM (${links})
    WHERE _nids > 1 AND _line NOT IN (SELECT _line FROM _ml_refused) GROUP BY _line`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_split
    (_line BIGINT, identity_type VARCHAR, identity_value VARCHAR, member_id BIGINT, owner_id BIGINT, reason VARCHAR)`)
  if (Number(refused?.n ?? 0) > 0) await resolveSplit(driver, ids, refs, exclusive, veto)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_merges AS
    SELECT nc.member_id AS from_member_id, cm.member_id AS into_member_id,
      (SELECT min(e._line) FROM _ml_edges e WHERE e.a = nc.node OR e.b = nc.node) AS line
    FROM _ml_nodecomp nc JOIN _ml_compmember cm USING (comp)
    WHERE nc.member_id IS NOT NULL AND nc.member_id <> cm.member_id`)
  const newMembers = await driver.first<{ n: bigint }>(
    sql`SELECT count(*) AS n FROM _ml_compmember WHERE is_new`,
  )
  return {
    resolvedTable: '_ml_resolved',
    newIdentitiesTable: '_ml_newid',
    mergesTable: '_ml_merges',
    splitTable: '_ml_split',
    refused: Number(refused?.n ?? 0),
    newMembers: Number(newMembers?.n ?? 0),
    merges: await count(driver, '_ml_merges'),
    newIdentities: k,
  }
}

/** The case without links: known identities keep their member; each new one is a new member, by first line. */
async function resolveSingle(
  driver: DuckDbDriver,
  ids: string,
  newIdentities: number,
): Promise<ResolutionResult> {
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_resolved AS
    SELECT i._line, coalesce(n.existing_member, (SELECT coalesce(max(member_id), 0) FROM members) + nw.node + 1) AS member_id,
      n.existing_member IS NULL AS is_new
    FROM ${ident(ids)} i
    JOIN _ml_nodes n USING (identity_type, identity_value)
    LEFT JOIN _ml_newid nw USING (identity_type, identity_value)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_idmember AS
    SELECT identity_type, identity_value, (SELECT coalesce(max(member_id), 0) FROM members) + node + 1 AS member_id,
      true AS is_new
    FROM _ml_newid`)
  await driver.execute(
    sql`CREATE OR REPLACE TEMP TABLE _ml_merges (from_member_id BIGINT, into_member_id BIGINT, line BIGINT)`,
  )
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_split
    (_line BIGINT, identity_type VARCHAR, identity_value VARCHAR, member_id BIGINT, owner_id BIGINT, reason VARCHAR)`)
  return {
    resolvedTable: '_ml_resolved',
    newIdentitiesTable: '_ml_newid',
    mergesTable: '_ml_merges',
    splitTable: '_ml_split',
    refused: 0,
    newMembers: newIdentities,
    merges: 0,
    newIdentities,
  }
}

/**
 * Joins the nodes of every edge, in the order of their records; with exclusive types, an edge whose two
 * components both hold a value of one of them is refused (its record is written to `_ml_refused`).
 */
async function unionEdges(
  driver: DuckDbDriver,
  nodeCount: number,
  exclusive: readonly IdentityType[],
): Promise<void> {
  const uf = new UnionFind(nodeCount)
  // Bit i of a component's mask: it holds a value of IDENTITY_TYPES[i], an exclusive type.
  const mask = new Int32Array(nodeCount)
  if (exclusive.length > 0) await readMasks(driver, exclusive, mask)
  const cols = await driver.readFloat64Columns(
    sql`SELECT a, b, _line FROM _ml_edges ORDER BY _line, b`,
    ['a', 'b', '_line'],
  )
  const as = cols['a'] as Float64Array
  const bs = cols['b'] as Float64Array
  const lines = cols['_line'] as Float64Array
  const refusedLines: number[] = []
  const refusedReasons: string[] = []
  for (let i = 0; i < as.length; i++) {
    const ra = uf.find(as[i] as number)
    const rb = uf.find(bs[i] as number)
    if (ra === rb) continue
    const clash = (mask[ra] as number) & (mask[rb] as number)
    if (clash !== 0) {
      refusedLines.push(lines[i] as number)
      const type = IDENTITY_TYPES[31 - Math.clz32(clash & -clash)] as string
      refusedReasons.push(`carried by members with different ${type}`)
      continue
    }
    uf.union(ra, rb)
    mask[uf.find(ra)] = (mask[ra] as number) | (mask[rb] as number)
  }
  // Only nodes that appear in an edge can have a root other than themselves.
  const touched = new Set<number>()
  for (let i = 0; i < as.length; i++) {
    touched.add(as[i] as number)
    touched.add(bs[i] as number)
  }
  const nodes: number[] = []
  const roots: number[] = []
  for (const n of touched) {
    nodes.push(n)
    roots.push(uf.find(n))
  }
  await driver.append(
    '_ml_comp',
    [
      { type: 'integer', values: nodes },
      { type: 'integer', values: roots },
    ],
    { temporary: true },
  )
  if (refusedLines.length > 0) {
    await driver.append(
      '_ml_refused',
      [
        { type: 'bigint', values: refusedLines.map((l) => BigInt(l)) },
        { type: 'varchar', values: refusedReasons },
      ],
      { temporary: true },
    )
  }
}

/** Which exclusive types each node holds: a new identity its own type, a known member those of its identities. */
async function readMasks(
  driver: DuckDbDriver,
  exclusive: readonly IdentityType[],
  mask: Int32Array,
): Promise<void> {
  const bits = sql`(SELECT * FROM (VALUES ${join(
    exclusive.map((t) => sql`(${t}, ${2 ** IDENTITY_TYPES.indexOf(t)})`),
  )}) AS x(identity_type, bit))`
  const cols = await driver.readFloat64Columns(
    sql`SELECT nw.node, x.bit AS mask FROM _ml_newid nw JOIN ${bits} x USING (identity_type)
      WHERE nw.node IN (SELECT a FROM _ml_edges UNION SELECT b FROM _ml_edges)
      UNION ALL
      SELECT om.node, bit_or(x.bit::INTEGER) FROM _ml_oldm om JOIN identities e USING (member_id)
      JOIN ${bits} x USING (identity_type) GROUP BY om.node`,
    ['node', 'mask'],
  )
  const nodes = cols['node'] as Float64Array
  const masks = cols['mask'] as Float64Array
  for (let i = 0; i < nodes.length; i++) mask[nodes[i] as number] = masks[i] as number
}

/**
 * The records whose links were refused: each resolves to the member of its member reference or exclusive
 * identity (the smallest such member id; else the smallest of all but vetoed links, and of those last), and
 * its identities that lead to another member are written to `_ml_split`.
 */
async function resolveSplit(
  driver: DuckDbDriver,
  ids: string,
  refs: string,
  exclusive: readonly IdentityType[],
  veto: string | undefined,
): Promise<void> {
  const strong =
    exclusive.length === 0
      ? sql`false`
      : sql`i.identity_type IN (${join(exclusive.map((t) => sql`${t}`))})`
  const weak =
    veto === undefined
      ? sql`false`
      : sql`EXISTS (SELECT 1 FROM ${ident(veto)} v JOIN identities e ON e.member_id = v.member_id
          WHERE v._line = i._line AND e.identity_type = i.identity_type AND e.identity_value = i.identity_value)`
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_splitlinks AS
    SELECT i._line, i.identity_type, i.identity_value, m.member_id, m.is_new,
      CASE WHEN ${strong} THEN 0 WHEN ${weak} THEN 2 ELSE 1 END AS rank
    FROM ${ident(ids)} i JOIN _ml_idmember m USING (identity_type, identity_value)
    WHERE i._line IN (SELECT _line FROM _ml_refused)
    UNION ALL
    SELECT r._line, NULL, NULL, m.member_id, false, 0 FROM ${ident(refs)} r JOIN _ml_refmember m ON m.ref = r.member_id
    WHERE r._line IN (SELECT _line FROM _ml_refused)`)
  await driver.execute(sql`CREATE OR REPLACE TEMP TABLE _ml_splitpick AS
    SELECT _line, arg_min(member_id, [rank, member_id]) AS member_id, arg_min(is_new, [rank, member_id]) AS is_new
    FROM _ml_splitlinks GROUP BY _line`)
  await driver.execute(
    sql`INSERT INTO _ml_resolved SELECT _line, member_id, is_new FROM _ml_splitpick`,
  )
  await driver.execute(sql`INSERT INTO _ml_split
    SELECT l._line, l.identity_type, l.identity_value, p.member_id, l.member_id,
      (SELECT first(reason) FROM _ml_refused f WHERE f._line = l._line)
    FROM _ml_splitlinks l JOIN _ml_splitpick p USING (_line)
    WHERE l.identity_type IS NOT NULL AND l.member_id <> p.member_id`)
}

async function count(driver: DuckDbDriver, table: string): Promise<number> {
  const r = await driver.first<{ n: bigint }>(sql`SELECT count(*) AS n FROM ${ident(table)}`)
  return Number(r?.n ?? 0)
}
