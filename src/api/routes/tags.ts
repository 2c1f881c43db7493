/**
 * `/api/v1/tags`: member tags (会员标签) of a month — the groups and tags in force, with how many members hold
 * each tag and their share of the members registered by the month's end; aggregates only, so viewers may read
 * them. Tags are computed and imported with `memberlens tags`.
 * @module
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { getTagCounts, listTagPeriods, tagNames, TAG_SOURCES } from '../../engine/tags/tag-store.js'
import type { ApiContext, ApiEnv, ApiRouter } from '../context.js'
import { Text, json, security, items } from '../openapi.js'
import { scoped } from '../require-scope.js'
import { month } from '../schemas.js'

const TagsSchema = z
  .object({
    periods: items(z.string()).openapi({ description: 'every month with tags, newest first' }),
    current: z
      .object({
        period: z.string(),
        asOf: z
          .string()
          .openapi({ description: 'the end of the month (UTC) the rules were evaluated at' }),
        timeZone: z.string(),
        computedAt: z.string().nullable(),
        baseMembers: z
          .number()
          .openapi({ description: 'members registered by the end of the month' }),
        groups: items(
          z.object({
            id: z.string(),
            name: Text,
            exclusive: z.boolean(),
            tags: items(
              z.object({
                id: z.string(),
                key: z.string().openapi({ description: '`group:tag`, as segment filters name it' }),
                name: Text,
                description: z.string().nullable(),
                source: z.enum(TAG_SOURCES),
                rule: items(z.record(z.string(), z.unknown())).nullable().openapi({
                  description:
                    'the conditions of a rule tag (all must hold); null for a manual tag',
                }),
                members: z.number(),
                share: z.number().nullable(),
              }),
            ),
          }),
        ),
      })
      .nullable()
      .openapi({
        description: 'the month asked for (default the latest); null when no tags were computed',
      }),
  })
  .openapi('MemberTags')

export function tagsRoutes(ctx: ApiContext): ApiRouter {
  const app = new OpenAPIHono<ApiEnv>()
  app.openapi(
    createRoute({
      ...scoped('aggregates'),
      method: 'get',
      path: '/tags',
      operationId: 'getTags',
      summary: 'Member tags of a month',
      security,
      request: {
        query: z.object({
          period: month
            .optional()
            .openapi({ example: '2026-10', description: 'default: the latest month with tags' }),
        }),
      },
      responses: json(
        TagsSchema,
        'The tag groups of a month with the members holding each tag and their share of the members registered by its end',
      ),
    }),
    async (c) => {
      const { period } = c.req.valid('query')
      const periods = (await ctx.timed(() => listTagPeriods(ctx.driver))).map((p) => p.period)
      if (periods.length === 0) return c.json({ periods, current: null }, 200)
      const w = await ctx.timed(() => getTagCounts(ctx.driver, period))
      const stored = (await listTagPeriods(ctx.driver)).find((p) => p.period === w.period)
      const held = new Map(w.counts.map((x) => [`${x.group}:${x.tag}`, x.members]))
      const groups = w.config.groups.map((g) => ({
        id: g.id,
        name: tagNames(g),
        exclusive: g.exclusive,
        tags: g.tags.map((t) => {
          const members = held.get(`${g.id}:${t.id}`) ?? 0
          return {
            id: t.id,
            key: `${g.id}:${t.id}`,
            name: tagNames(t),
            description: t.description ?? null,
            source: t.when === undefined ? ('manual' as const) : ('rule' as const),
            rule: t.when === undefined ? null : t.when.map((x) => ({ ...x })),
            members,
            share: w.baseMembers > 0 ? members / w.baseMembers : null,
          }
        }),
      }))
      return c.json(
        {
          periods,
          current: {
            period: w.period,
            asOf: w.asOf,
            timeZone: stored?.timeZone ?? 'UTC',
            computedAt: stored?.computedAt ?? null,
            baseMembers: w.baseMembers,
            groups,
          },
        },
        200,
      )
    },
  )
  return app
}
