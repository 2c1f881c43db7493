/**
 * Report schedules: a cron expression (parsed by croner), the team's language and time zone, what to include,
 * and the targets to send to. Schedules and the delivery log — one row per target and run: when, where (no
 * secrets), how many tries, delivered or the last error — are kept in `memberlens.schedules.json` beside the
 * database, written atomically, so the CLI and a running server share them; the newest {@link MAX_LOG} rows
 * are kept.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { Cron } from 'croner'
import { z } from 'zod'
import type { Clock } from '../core/clock.js'
import { JsonFile } from './json-file.js'
import { InputError, NotFoundError } from '../core/errors.js'
import { isTimeZone } from '../core/time-zone.js'
import { parseYamlWith } from '../core/yaml-input.js'
import type { Driver } from '../engine/drivers/driver.js'
import type { TreeConfigInput } from '../engine/metrics/tree.js'
import type { AlertStore } from './alert-store.js'
import { buildDigest } from './report-digest.js'
import {
  deliverReport,
  deliveryTargetSchema,
  targetLabel,
  type DeliveryOutcome,
  type RetryOptions,
} from './report-delivery.js'

export const MAX_LOG = 1000

/** The next time a cron expression fires after `after`, in `timezone`; undefined when it never does again. */
export function nextRun(cron: string, timezone: string, after: Date): Date | undefined {
  return new Cron(cron, { timezone, paused: true }).nextRun(after) ?? undefined
}

const cronSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((v, ctx) => {
    try {
      new Cron(v, { paused: true })
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        message: `not a cron expression (minute hour day-of-month month day-of-week, e.g. "0 9 * * 1"): ${(e as Error).message}`,
      })
    }
  })

export const reportScheduleInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    /** Five or six fields, as cron: `0 9 * * 1` is Mondays at 09:00. */
    cron: cronSchema,
    /** IANA zone in which the cron expression is read and months counted. */
    timezone: z
      .string()
      .refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai')
      .default('Asia/Shanghai'),
    lang: z.enum(['zh', 'en']).default('zh'),
    sections: z
      .object({
        overview: z.boolean().default(true),
        tree: z.boolean().default(true),
        alerts: z.boolean().default(true),
      })
      .strict()
      .default({ overview: true, tree: true, alerts: true }),
    targets: z.array(deliveryTargetSchema).min(1).max(20),
    enabled: z.boolean().default(true),
  })
  .strict()
export type ReportScheduleInput = z.input<typeof reportScheduleInputSchema>

export const reportScheduleSchema = reportScheduleInputSchema.extend({
  id: z.string().regex(/^[0-9a-f]{8}$/),
  createdAt: z.string(),
  /** When it last ran (null: never); the next run is the cron's first time after it. */
  lastRunAt: z.string().nullable(),
})
export type ReportSchedule = z.infer<typeof reportScheduleSchema>

export const deliveryLogEntrySchema = z.object({
  scheduleId: z.string(),
  scheduleName: z.string(),
  /** The run's time. */
  at: z.string(),
  period: z.string().nullable(),
  /** Where it went, without secrets. */
  target: z.string(),
  delivered: z.boolean(),
  attempts: z.number(),
  error: z.string().nullable(),
})
export type DeliveryLogEntry = z.infer<typeof deliveryLogEntrySchema>

const fileSchema = z
  .object({ schedules: z.array(reportScheduleSchema), log: z.array(deliveryLogEntrySchema) })
  .strict()
type ScheduleFile = z.infer<typeof fileSchema>

/** A schedules file (YAML): `schedules: [...]`, each as the API takes it. */
export function parseSchedulesFile(text: string, file: string): ReportScheduleInput[] {
  const parsed = parseYamlWith(
    z.object({ schedules: z.array(reportScheduleInputSchema).min(1) }).strict(),
    text,
    file,
  )
  return parsed.schedules
}

export class ScheduleStore {
  private readonly file: JsonFile<ScheduleFile>

  constructor(
    readonly path: string,
    private readonly clock: Clock,
  ) {
    this.file = new JsonFile(
      path,
      fileSchema,
      () => ({ schedules: [], log: [] }),
      'a memberlens schedules file',
    )
  }

  private read(): ScheduleFile {
    return this.file.read()
  }

  private update<T>(fn: (data: ScheduleFile) => { data: ScheduleFile; value: T }): Promise<T> {
    return this.file.update(fn)
  }

  schedules(): ReportSchedule[] {
    return this.read().schedules
  }

  getSchedule(id: string): ReportSchedule {
    const s = this.schedules().find((x) => x.id === id)
    if (!s) throw new NotFoundError(`no report schedule ${id}`)
    return s
  }

  /** Adds a schedule, or replaces the one of the same name (keeping its id and last run). */
  async addSchedule(input: ReportScheduleInput): Promise<ReportSchedule> {
    const parsed = reportScheduleInputSchema.safeParse(input)
    if (!parsed.success) {
      const i = parsed.error.issues[0]
      throw InputError.single({
        field: i?.path.join('.') || '(schedule)',
        reason: i?.message ?? 'invalid',
      })
    }
    return this.update((d) => {
      const old = d.schedules.find((s) => s.name === parsed.data.name)
      const schedule: ReportSchedule = {
        ...parsed.data,
        id: old?.id ?? randomBytes(4).toString('hex'),
        createdAt: old?.createdAt ?? this.clock.now().toISOString(),
        lastRunAt: old?.lastRunAt ?? null,
      }
      const schedules = old
        ? d.schedules.map((s) => (s.id === old.id ? schedule : s))
        : [...d.schedules, schedule]
      return { data: { ...d, schedules }, value: schedule }
    })
  }

  removeSchedule(id: string): Promise<ReportSchedule> {
    return this.update((d) => {
      const s = d.schedules.find((x) => x.id === id)
      if (!s) throw new NotFoundError(`no report schedule ${id}`)
      return { data: { ...d, schedules: d.schedules.filter((x) => x.id !== id) }, value: s }
    })
  }

  /** Delivery log, newest run first (a run's rows in the order of its targets). */
  log(options: { limit?: number; scheduleId?: string } = {}): DeliveryLogEntry[] {
    return this.read()
      .log.filter((e) => options.scheduleId === undefined || e.scheduleId === options.scheduleId)
      .slice(0, options.limit ?? 100)
  }

  /** Records a run: its log rows and the schedule's last run. */
  recordRun(id: string, at: string, entries: readonly DeliveryLogEntry[]): Promise<void> {
    return this.update((d) => ({
      data: {
        schedules: d.schedules.map((s) => (s.id === id ? { ...s, lastRunAt: at } : s)),
        log: [...entries, ...d.log].slice(0, MAX_LOG),
      },
      value: undefined,
    }))
  }
}

export interface ScheduleServiceOptions {
  readonly driver: Driver
  readonly store: ScheduleStore
  readonly clock: Clock
  /** Alerts to include (those fired since the schedule's last run). */
  readonly alerts?: AlertStore
  readonly tree?: TreeConfigInput
  readonly currency?: string
  readonly retry?: RetryOptions
  readonly run?: <T>(fn: () => Promise<T>) => Promise<T>
  readonly log?: (line: string) => void
}

export interface RunResult {
  readonly scheduleId: string
  readonly period: string | null
  readonly deliveries: readonly (DeliveryOutcome & { readonly target: string })[]
}

/** Builds and sends scheduled reports. */
export class ScheduleService {
  constructor(private readonly o: ScheduleServiceOptions) {}

  get store(): ScheduleStore {
    return this.o.store
  }

  /** The schedules whose next run (after their last, or their creation) has come by `now`. */
  due(now: Date): ReportSchedule[] {
    return this.o.store.schedules().filter((s) => {
      if (!s.enabled) return false
      const next = nextRun(s.cron, s.timezone, new Date(s.lastRunAt ?? s.createdAt))
      return next !== undefined && next.getTime() <= now.getTime()
    })
  }

  /** Runs every due schedule. */
  async runDue(): Promise<RunResult[]> {
    const out: RunResult[] = []
    for (const s of this.due(this.o.clock.now())) out.push(await this.runNow(s.id))
    return out
  }

  /** Builds the schedule's report now and sends it to each target; logs every outcome. */
  async runNow(id: string): Promise<RunResult> {
    const s = this.o.store.getSchedule(id)
    const at = this.o.clock.now().toISOString()
    const since = s.lastRunAt ?? s.createdAt
    const alerts = (this.o.alerts?.events({ limit: 1000 }) ?? []).filter((a) => a.firedAt > since)
    const run = this.o.run ?? (<T>(fn: () => Promise<T>) => fn())
    let digest
    try {
      digest = await run(() =>
        buildDigest(this.o.driver, {
          lang: s.lang,
          timezone: s.timezone,
          alerts: alerts.slice(0, 20),
          sections: s.sections,
          ...(this.o.tree === undefined ? {} : { tree: this.o.tree }),
          ...(this.o.currency === undefined ? {} : { currency: this.o.currency }),
        }),
      )
    } catch (e) {
      const error = `the report could not be built: ${e instanceof Error ? e.message : String(e)}`
      const entries = s.targets.map((t) => ({
        scheduleId: s.id,
        scheduleName: s.name,
        at,
        period: null,
        target: targetLabel(t),
        delivered: false,
        attempts: 0,
        error,
      }))
      await this.o.store.recordRun(s.id, at, entries)
      this.o.log?.(`report ${s.name}: ${error}`)
      return { scheduleId: s.id, period: null, deliveries: entries }
    }
    const deliveries: (DeliveryOutcome & { target: string })[] = []
    for (const t of s.targets) {
      const outcome = await deliverReport(t, digest, s.lang, this.o.retry)
      deliveries.push({ target: targetLabel(t), ...outcome })
      if (!outcome.delivered)
        this.o.log?.(
          `report ${s.name} to ${targetLabel(t)}: not delivered after ${outcome.attempts} tries: ${outcome.error ?? ''}`,
        )
    }
    await this.o.store.recordRun(
      s.id,
      at,
      deliveries.map((d) => ({
        scheduleId: s.id,
        scheduleName: s.name,
        at,
        period: digest.period,
        ...d,
      })),
    )
    return { scheduleId: s.id, period: digest.period, deliveries }
  }
}
