/**
 * `/api/v1/members/{query}`: member 360 — the member with identities, merge log, purchases, predicted CLV,
 * points and tier, lifecycle stage, risk and timeline. Below the `pii` scope every identity, name and
 * personal attribute is masked and the birthday cut to its year (masking.ts).
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { listMemberScores } from '../../analytics/clv/clv.js'
import { syncedTierNames } from '../../analytics/loyalty/sync.js'
import {
  findMemberRisk,
  findMemberStage,
  findSyncedLoyalty,
} from '../../analytics/risk/member-signals.js'
import { NotFoundError } from '../../core/errors.js'
import { LIFECYCLE_STAGES, STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import { getMemberProfile } from '../../duckdb/members/member-profile.js'
import { getMemberTimeline } from '../../duckdb/members/member-timeline.js'
import { getMemberTagsNamed, TAG_SOURCES } from '../../engine/tags/tag-store.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { allows } from '../keys.js'
import { maskIdentity, maskMemberRow } from '../masking.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'

const Row = z.record(z.string(), z.unknown())

const Member360Schema = z
  .object({
    member: Row.openapi({ description: 'the member’s columns and attributes' }),
    identities: items(Row),
    mergedFrom: items(Row).openapi({ description: 'members merged into this one' }),
    purchases: z.object({
      orders: z.number(),
      netAmount: z.number(),
      returnsAmount: z.number(),
      firstOrderAt: z.string().nullable(),
      lastOrderAt: z.string().nullable(),
      purchaseDays: z.number(),
      medianGapDays: z.number().nullable().openapi({
        description:
          'the member’s own cadence: median days between purchase days (null with fewer than two)',
      }),
      p90GapDays: z.number().nullable(),
    }),
    clv: z
      .object({
        runId: z.string(),
        memberId: z.number().optional(),
        x: z.number().optional(),
        tX: z.number().optional(),
        tCal: z.number().optional(),
        zbar: z.number().optional(),
        pAlive: z.number().optional(),
        expectedPurchases: z.number().optional(),
        expectedSpend: z.number().optional(),
        clv: z.number().optional(),
      })
      .nullable()
      .openapi({ description: 'the member’s scores in the latest CLV run; null without a run' }),
    loyalty: z
      .union([
        z.object({
          balance: z.number(),
          available: z.number(),
          pending: z.number(),
          tier: z.string(),
          tierSince: z.string(),
          nextExpiry: z.object({ at: z.string(), points: z.number() }).nullable(),
        }),
        z.object({
          balance: z.number(),
          tier: z.string(),
          tierSince: z.string().nullable(),
          downgradeDueAt: z.string().nullable(),
          nextExpiry: z.object({ at: z.string(), points: z.number() }).nullable(),
          synced: z.literal(true),
        }),
      ])
      .and(
        z.object({
          tierName: Text.optional().openapi({
            description: "the tier's name in en and zh, from the program file (as last synced)",
          }),
        }),
      )
      .nullable()
      .openapi({
        description: 'from the live ledger, or as of the last ledger sync (`synced: true`)',
      }),
    lifecycle: z
      .object({
        asOf: z.string(),
        stage: z.enum(LIFECYCLE_STAGES),
        name: Text,
        purchases: z.number(),
        daysSinceLast: z.number().nullable(),
      })
      .nullable(),
    risk: z
      .object({
        runId: z.string(),
        score: z.number(),
        reasons: items(z.string()),
        signals: items(z.string()),
        signalDetails: z
          .object({
            points_expiring: z
              .object({ points: z.number(), firstExpiresAt: z.string() })
              .optional()
              .openapi({
                description: 'the points expiring within the window and the earliest expiry',
              }),
          })
          .openapi({ description: 'the figures behind the signals that carry them' }),
        churnClass: z.string(),
        playbook: z.string(),
      })
      .nullable(),
    timeline: items(
      z.object({
        at: z.string(),
        kind: z.enum(['order', 'return', 'feedback', 'touch', 'events', 'points']),
        detail: z.string(),
        amount: z.number().nullable(),
        facts: z
          .record(z.string(), z.union([z.string(), z.number()]))
          .openapi({ description: 'the parts of `detail` by name, for wording in any language' }),
      }),
    ),
    tags: items(
      z.object({
        period: z.string(),
        group: z.string(),
        tag: z.string(),
        groupName: Text,
        tagName: Text,
        source: z.enum(TAG_SOURCES),
        sourceDetail: z.string().nullable().openapi({ description: 'file:line of a manual tag' }),
      }),
    ).openapi({
      description: 'every tag the member has held, newest month first (memberlens tags)',
    }),
    masked: z.boolean().openapi({ description: 'true when personal data was masked' }),
  })
  .openapi('Member360')

const orNull = <T>(p: Promise<T>): Promise<T | null> =>
  p.catch((e: unknown) => {
    if (e instanceof NotFoundError) return null
    throw e
  })

/** The value as JSON would carry it: big integers as numbers. */
const jsonSafe = <T>(v: T): T =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x))) as T

export function membersRoutes(ctx: ApiContext): ApiRouter {
  const { driver } = ctx
  const app = new OpenAPIHono<ApiEnv>()

  /**
   * Points and tier (from the live ledger when one is configured, else as of the last sync into the
   * engine), lifecycle stage and risk.
   */
  const memberSignals = async (memberId: number) => {
    const loyalty = ctx.ledger
      ? await orNull(ctx.ledger.balance(String(memberId))).then((b) =>
          b === null
            ? null
            : {
                balance: b.balance,
                available: b.available,
                pending: b.pending,
                tier: b.tier,
                tierSince: b.tierSince,
                nextExpiry: b.nextExpiry,
              },
        )
      : undefined
    const asOf = await orNull(ctx.asOf(undefined))
    // As synced: the points that expire next after the data's as-of day.
    const synced =
      loyalty === undefined ? await findSyncedLoyalty(driver, memberId, asOf ?? undefined) : null
    const stage = asOf === null ? undefined : await findMemberStage(driver, memberId, asOf)
    const lifecycle = stage === undefined ? null : { ...stage, name: STAGE_NAMES[stage.stage] }
    const risk = (await findMemberRisk(driver, memberId)) ?? null
    const account = loyalty ?? synced
    // The tier's name in en and zh, from the program file (as last synced).
    const tierName = account === null ? undefined : (await syncedTierNames(driver))[account.tier]
    return {
      loyalty: account === null ? null : { ...account, ...(tierName ? { tierName } : {}) },
      lifecycle,
      risk,
    }
  }

  app.openapi(
    createRoute({
      ...scoped('members'),
      method: 'get',
      path: '/members/{query}',
      operationId: 'getMember',
      summary: 'Member 360',
      security,
      request: {
        params: z.object({
          query: z.string().min(1).max(200).openapi({ example: 'phone:13800138000' }),
        }),
        query: z.object({
          timeline: z.coerce
            .number()
            .int()
            .min(1)
            .max(500)
            .optional()
            .openapi({ description: 'how many timeline items, newest first (default 50)' }),
        }),
      },
      responses: json(
        Member360Schema,
        'A member with identities, purchases and predicted CLV, points (balance, tier, the points that expire next), lifecycle stage, churn risk and the timeline (each item with its parts named in `facts`); below the operator role every identity, name and personal attribute is masked and the birthday cut to its year',
      ),
    }),
    async (c) => {
      const { query } = c.req.valid('param')
      const { timeline: items } = c.req.valid('query')
      const p = await ctx.timed(() => getMemberProfile(driver, query))
      // The member's predicted value from the latest CLV run, when one exists.
      const clv = await orNull(
        listMemberScores(driver, { memberId: Number(p.member['memberId']), limit: 1 }),
      ).then((r) => (r === null ? null : { runId: r.runId, ...r.scores[0] }))
      // Below the pii scope every identity, name and birthday is masked (src/api/masking.ts).
      const pii = allows(c.get('key').role, 'pii')
      const mask = (i: Readonly<Record<string, unknown>>) =>
        pii || i['identityValue'] === null || i['identityValue'] === undefined
          ? i
          : {
              ...i,
              identityValue: maskIdentity(String(i['identityType']), String(i['identityValue'])),
            }
      const identities = p.identities.map(mask)
      const mergedFrom = p.mergedFrom.map(mask)
      const member = pii ? p.member : maskMemberRow(p.member)
      const memberId = Number(p.member['memberId'])
      const signals = await ctx.timed(() => memberSignals(memberId))
      const timeline = await ctx.timed(() => getMemberTimeline(driver, memberId, items ?? 50))
      const tags = await ctx.timed(() => getMemberTagsNamed(driver, memberId))
      return c.json(
        jsonSafe({
          ...p,
          member,
          identities,
          mergedFrom,
          clv,
          ...signals,
          timeline,
          tags,
          masked: !pii,
        }),
        200,
      )
    },
  )
  return app
}
