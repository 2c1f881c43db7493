/**
 * A seeded, reproducible simulator of a retailer's member data: one CSV per ingest table plus
 * `truth.json` with the parameters and planted effects an analysis should recover.
 *
 * ```ts
 * const { rows, truth } = await simulate('/tmp/demo', { members: 5000, months: 12, seed: 7 })
 * ```
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError } from '../core/errors.js'
import {
  PLACEHOLDER_PHONE,
  plantIdentityCases,
  rowIdentities,
  rowProfile,
  type IdentityCasesTruth,
  type Profile,
} from './identity-cases.js'
import { INGEST_TABLES, isIngestTable, type IngestTable } from '../core/schema.js'
import { DAY, buildCalendar, isoDate, parseDate, type SimCalendar } from './calendar.js'
import { money } from './csv-format.js'
import { CsvWriter } from './csv-writer.js'
import { buildGroundTruth, type GroundTruth } from './ground-truth.js'
import { MAX_PERSONS } from './identity-codes.js'
import { MODEL_PARAMETERS, REG_CHANNELS } from './model-parameters.js'
import { plantFarming } from './farming-rings.js'
import { PersonState } from './person-state.js'
import { Rng } from '../core/random.js'
import { SimContext, type Writers } from './sim-context.js'
import { simulateEvents } from './simulate-events.js'
import { simulateFeedback } from './simulate-feedback.js'
import { simulatePerson } from './simulate-person.js'
import { simulateSubscriptions } from './simulate-subscriptions.js'
import { simulateTouches } from './simulate-touches.js'
import { simulateCoupons } from './simulate-coupons.js'
import { SOURCE_HEADERS } from './source-headers.js'
import { writeOrderItems } from './write-order-items.js'
import { UpliftCampaign, buildUpliftTruth, writeUpliftTouch } from './uplift-campaign.js'
import { PLANTED_COVARIATES, plantedCovariatesTruth } from './planted-covariates.js'
import { UniversalHoldout } from './universal-holdout.js'

export type { GroundTruth, PersonTruth } from './ground-truth.js'
export type { UpliftPersonTruth, UpliftTruth } from './uplift-campaign.js'
export type { UniversalHoldoutTruth } from './universal-holdout.js'

export interface SimulateOptions {
  /** Persons to simulate (default 20 000). */
  members: number
  /** History length in calendar months (default 24). */
  months: number
  /** Last simulated day, inclusive, UTC, 'YYYY-MM-DD' (default '2026-10-31'). */
  end: string
  /** Seed of the pseudo-random generator (default 42). Same seed and options give identical files. */
  seed: number
  /** Tables to write (default: all ingest tables). The rows of a table do not depend on this subset. */
  tables?: readonly IngestTable[]
  /**
   * Purchases follow the retail calendar: a dip around 春节 after a 年货 lift, pre-sale rises before 618 and
   * 双11 and a lull after each (default false: the month-and-day seasonality alone). The windows, placed on
   * the calendar's dates, are recorded in `truth.json`.
   */
  calendarDemand?: boolean
  /**
   * Also simulate the randomised multi-arm retention campaign (uplift-campaign.ts) and its per-person
   * truth. Off by default: it adds orders and touches, so the default data stay as they are.
   */
  upliftCampaign?: boolean
  /**
   * Hold out 10 % of the persons registered before t0 (200 days before the end) from every member campaign
   * from t0 on, with the assignment in experiments.csv and the programme's true effect in truth.json
   * (universal-holdout.ts). Off by default: the default data stay as they are.
   */
  universalHoldout?: boolean
  /** Called with (persons done, persons in all) about every 1 % of the run. */
  onProgress?: (done: number, total: number) => void
  /**
   * Plant the hard cases of identity resolution in `identity_cases.csv` (a members file) and record in
   * truth.json which registration records belong to one person (`identity-cases.ts`). Default false: the
   * other files are the same either way.
   */
  identityCases?: boolean
  /**
   * Plant covariate effects for the CLV covariate model (`planted-covariates.ts`): store-registered members
   * buy at a higher rate and everyone buys more inside the high-season windows, with the other seasonality
   * off. Default false. Recorded in truth.json; cannot be combined with `calendarDemand`.
   */
  plantedCovariates?: boolean
  /**
   * Plant points-farming rings and honest look-alike households (`farming-rings.ts`), appended to members,
   * orders and events on their own random stream, with the rings in truth.json. Default false: the files are
   * then exactly as without the option.
   */
  plantedFarming?: boolean
}

export interface SimulateResult {
  /** Path of each written file by table name (and `identity_cases` when planted). */
  files: Record<string, string>
  /** Data rows written per table (headers not counted). */
  rows: Record<string, number>
  truthFile: string
  truth: GroundTruth
}

export const DEFAULT_SIMULATE_OPTIONS: Readonly<SimulateOptions> = {
  members: 20_000,
  months: 24,
  end: '2026-10-31',
  seed: 42,
}

// Independent random streams: one per concern and person (see Rng.reseed).
const STREAM_REGISTRATION = 1
const STREAM_ACQUISITION = 2
const STREAM_VISITORS = 3
const STREAM_CORE = 10
const STREAM_IDENTITY_CASES = 20
const STREAM_SUBSCRIPTIONS = 11
const STREAM_ITEMS = 12
const STREAM_EVENTS = 13
const STREAM_FEEDBACK = 14
const STREAM_TOUCHES = 15
// 16 is the optional retention campaign's (uplift-campaign.ts), 18 the optional universal holdout's
// (universal-holdout.ts).
const STREAM_COUPONS = 17
// The optional planted points-farming rings (farming-rings.ts).
const STREAM_FARMING = 31

/**
 * Simulates `members` persons over `months` months ending on `end` and writes `<table>.csv` for each
 * requested table plus `truth.json` into `outDir` (created if missing).
 *
 * @throws InputError when an option is out of range.
 */
export async function simulate(
  outDir: string,
  options: Partial<SimulateOptions> = {},
): Promise<SimulateResult> {
  const opts = resolveOptions(options)
  const tables = opts.tables ?? INGEST_TABLES
  await mkdir(outDir, { recursive: true })
  const planted = opts.plantedCovariates === true
  const cal = buildCalendar(
    opts.end,
    opts.months,
    opts.calendarDemand === true,
    planted ? PLANTED_COVARIATES.season.gamma : undefined,
  )
  const wanted = new Set<IngestTable>(tables)
  const out = {} as Writers
  for (const t of INGEST_TABLES) {
    out[t] = wanted.has(t) ? new CsvWriter(join(outDir, `${t}.csv`), SOURCE_HEADERS[t]) : null
  }
  const writers = INGEST_TABLES.map((t) => out[t]).filter((w): w is CsvWriter => w !== null)
  const ctx = new SimContext(opts.seed, cal, out)
  if (planted) {
    ctx.plantedChannelFactor = Float64Array.from(REG_CHANNELS, (c) =>
      c === PLANTED_COVARIATES.channel.level ? Math.exp(PLANTED_COVARIATES.channel.gamma) : 1,
    )
  }
  if (opts.upliftCampaign === true)
    ctx.uplift = UpliftCampaign.plan(opts.seed, cal.startSec, opts.end)
  if (opts.universalHoldout === true)
    ctx.universalHoldout = UniversalHoldout.plan(opts.seed, cal.startSec, opts.end)
  const n = opts.members
  const regTimes = sampleRegistrations(cal, n, new Rng(opts.seed, 0, STREAM_REGISTRATION))

  try {
    const st = new PersonState()
    const rng = new Rng(opts.seed)
    const progressStep = Math.max(1, Math.floor(n / 100))
    // Each person's last activity (registration, order, event), for placing recycled numbers.
    const lastActive = opts.identityCases === true ? new Float64Array(n) : undefined
    for (let i = 0; i < n; i++) {
      ctx.uplift?.startPerson(opts.seed, i)
      ctx.universalHoldout?.startPerson(opts.seed, i, regTimes[i] ?? cal.startSec)
      simulatePerson(ctx, st, rng.reseed(opts.seed, i, STREAM_CORE), i, regTimes[i] ?? cal.startSec)
      simulateSubscriptions(ctx, st, rng.reseed(opts.seed, i, STREAM_SUBSCRIPTIONS))
      if (out.order_items) writeOrderItems(ctx, st, rng.reseed(opts.seed, i, STREAM_ITEMS))
      if (out.events) simulateEvents(ctx, st, rng.reseed(opts.seed, i, STREAM_EVENTS))
      if (out.feedback) simulateFeedback(ctx, st, rng.reseed(opts.seed, i, STREAM_FEEDBACK))
      if (out.touches) simulateTouches(ctx, st, rng.reseed(opts.seed, i, STREAM_TOUCHES))
      if (ctx.uplift) writeUpliftTouch(out.touches, ctx.fmt, ctx.uplift, st)
      simulateCoupons(ctx, st, rng.reseed(opts.seed, i, STREAM_COUPONS))
      if (lastActive !== undefined) lastActive[i] = lastActivity(st)
      for (const w of writers) if (w.full) await w.flush()
      if (opts.onProgress && ((i + 1) % progressStep === 0 || i + 1 === n))
        opts.onProgress(i + 1, n)
    }

    if (out.members) {
      // Stable sort: ties keep person order, so the file is deterministic.
      ctx.memberRows.sort((a, b) => a[0] - b[0])
      for (const [, line] of ctx.memberRows) {
        out.members.add(line)
        if (out.members.full) await out.members.flush()
      }
    }
    const farming =
      opts.plantedFarming === true
        ? plantFarming(
            new Rng(opts.seed, 0, STREAM_FARMING),
            ctx.fmt,
            { members: out.members, orders: out.orders, events: out.events },
            cal.startSec,
            cal.endSec,
          )
        : undefined
    let identity: IdentityCasesTruth | undefined
    let casesFile: CsvWriter | undefined
    if (opts.identityCases === true && out.members) {
      // A person's birthday and gender: the first of their rows that gives each.
      const profiles = new Map<number, Profile>()
      for (const [, line, person] of ctx.memberRows) {
        const p = rowProfile(line)
        const had = profiles.get(person)
        profiles.set(person, {
          birthday: had?.birthday || p.birthday,
          gender: had?.gender || p.gender,
        })
      }
      const existing = ctx.memberRows.map(([, line, person], i) => ({
        file: 'members.csv',
        line: i + 2,
        person,
        case: null,
        identities: rowIdentities(line),
      }))
      const plan = plantIdentityCases(
        new Rng(opts.seed, 0, STREAM_IDENTITY_CASES),
        opts.seed,
        n,
        existing,
        {
          last: ctx.fmt.ts(cal.endSec - 2 * 86_400),
          lastSec: cal.endSec - 2 * 86_400,
          lastActive: lastActive ?? new Float64Array(n),
          profile: (person) => profiles.get(person) ?? { birthday: '', gender: '' },
        },
      )
      casesFile = new CsvWriter(join(outDir, 'identity_cases.csv'), SOURCE_HEADERS.members)
      for (const line of plan.lines) casesFile.add(line)
      await casesFile.close()
      identity = {
        description:
          'Registration records of members.csv and identity_cases.csv with the person each belongs to; identity resolution is measured against it pairwise (memberlens members quality).',
        placeholderPhone: PLACEHOLDER_PHONE,
        planted: plan.planted,
        records: [...existing, ...plan.records],
      }
    }
    const spend = writeAcquisitionSpend(ctx, new Rng(opts.seed, 0, STREAM_ACQUISITION))
    writeVisitors(ctx, new Rng(opts.seed, 0, STREAM_VISITORS))
    for (const w of writers) await w.close()

    const files: Record<string, string> = {}
    const rows: Record<string, number> = {}
    for (const t of INGEST_TABLES) {
      const w = out[t]
      if (w) {
        files[t] = w.path
        rows[t] = w.rows
      }
    }
    const base = buildGroundTruth(
      ctx,
      {
        members: n,
        months: opts.months,
        end: opts.end,
        tables: [...tables],
        ...(opts.calendarDemand === true ? { calendarDemand: true } : {}),
        ...(planted ? { plantedCovariates: true } : {}),
      },
      rows,
      spend,
    )
    const withPlanted: GroundTruth = planted
      ? { ...base, plantedCovariates: plantedCovariatesTruth(cal.highSeason) }
      : base
    const withCases: GroundTruth =
      identity === undefined ? withPlanted : { ...withPlanted, identityCases: identity }
    if (casesFile !== undefined) {
      files['identity_cases'] = casesFile.path
      rows['identity_cases'] = casesFile.rows
    }
    const withUplift: GroundTruth = ctx.uplift
      ? { ...withCases, uplift: buildUpliftTruth(ctx.uplift) }
      : withCases
    const truth: GroundTruth = {
      ...withUplift,
      ...(ctx.universalHoldout ? { universalHoldout: ctx.universalHoldout.truth() } : {}),
      ...(farming === undefined ? {} : { farming }),
      coupons: ctx.coupons.truth(),
      churnTypes: {
        description:
          'Every price-sensitive and every service-dissatisfied person by one of their identities (identity_type:value); the others are of neither type.',
        ...ctx.churnTypes,
      },
    }
    const truthFile = join(outDir, 'truth.json')
    await writeFile(truthFile, `${JSON.stringify(truth, null, 2)}\n`)
    return { files, rows, truthFile, truth }
  } catch (err) {
    // Close what is open so no file handle leaks; the first error is the one reported.
    await Promise.allSettled(writers.map((w) => w.close()))
    throw err
  }
}

/** Fills in defaults and rejects out-of-range options. */
/** The person's last registration, order or event (an upper bound for events), in seconds. */
function lastActivity(st: PersonState): number {
  let t = Math.max(st.regSec, st.storeRowSec, st.appRowSec, st.lastEventSec)
  for (let k = 0; k < st.nOrders; k++) t = Math.max(t, st.oTime[k] ?? -Infinity)
  return t
}

function resolveOptions(options: Partial<SimulateOptions>): SimulateOptions {
  const o = { ...DEFAULT_SIMULATE_OPTIONS, ...dropUndefined(options) }
  const bad = (field: string, value: unknown, reason: string): InputError =>
    InputError.single({ field, value: String(value), reason })
  if (!Number.isInteger(o.members) || o.members < 1 || o.members > MAX_PERSONS) {
    throw bad('members', o.members, `must be an integer from 1 to ${MAX_PERSONS}`)
  }
  if (!Number.isInteger(o.months) || o.months < 1 || o.months > 120) {
    throw bad('months', o.months, 'must be an integer from 1 to 120')
  }
  if (typeof o.end !== 'string' || Number.isNaN(parseDate(o.end))) {
    throw bad('end', o.end, "must be a date 'YYYY-MM-DD'")
  }
  if (!Number.isSafeInteger(o.seed)) throw bad('seed', o.seed, 'must be an integer')
  if (o.plantedCovariates === true && o.calendarDemand === true) {
    throw bad(
      'planted covariates',
      true,
      'cannot be combined with calendar demand (the planted season effect replaces the seasonality)',
    )
  }
  if (o.tables !== undefined) {
    for (const t of o.tables) {
      if (!isIngestTable(t)) throw bad('tables', t, `must be one of ${INGEST_TABLES.join(', ')}`)
    }
    // Keep the schema's order and drop repeats, so equal subsets give equal truth files.
    o.tables = INGEST_TABLES.filter((t) => o.tables?.includes(t))
  }
  return o
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * Registration instants in increasing order, drawn from the registration intensity by inversion of
 * sorted uniforms (normalised partial sums of exponentials are distributed as uniform order statistics).
 */
function sampleRegistrations(cal: SimCalendar, n: number, rng: Rng): Float64Array {
  const gaps = new Float64Array(n + 1)
  let total = 0
  for (let k = 0; k <= n; k++) {
    const e = rng.exp()
    gaps[k] = e
    total += e
  }
  const table = cal.registration
  const out = new Float64Array(n)
  let acc = 0
  for (let i = 0; i < n; i++) {
    acc += gaps[i] ?? 0
    const t = Math.floor(table.inverse((acc / total) * table.total))
    out[i] = Math.min(cal.endSec - 1, Math.max(cal.startSec, t))
  }
  return out
}

/**
 * Monthly anonymous visitors per registration channel: the month's registrations over the channel's
 * registration conversion, with binomial-sized noise (the registrations are a draw from the visitors).
 */
function writeVisitors(ctx: SimContext, rng: Rng): void {
  const rate = MODEL_PARAMETERS.acquisition.registrationConversion
  const w = ctx.out.visitors
  if (w === null) return
  forEachMonthAndChannel(ctx, (period, c, registered) => {
    const p = rate[c]
    // Visitors n with registered ~ Binomial(n, p): n ≈ registered / p, sd √(registered (1 − p)) / p.
    const sd = Math.sqrt(registered * (1 - p)) / p
    const visitors = Math.max(registered, Math.round(registered / p + sd * rng.normal()))
    w.add(`${period},${c},${visitors}`)
  })
}

/**
 * Calls `fn` for every simulated month (as `first day,last day` within the window) and registration channel
 * with the persons who registered through that channel in that month.
 */
function forEachMonthAndChannel(
  ctx: SimContext,
  fn: (period: string, channel: (typeof REG_CHANNELS)[number], registered: number) => void,
): void {
  const cal = ctx.cal
  const months = ctx.monthStarts
  for (let m = 0; m < months.length; m++) {
    const from = Math.max(months[m] ?? 0, cal.startSec)
    const to = Math.min(months[m + 1] ?? cal.endSec, cal.endSec)
    REG_CHANNELS.forEach((c, k) =>
      fn(
        `${isoDate(from)},${isoDate(to - DAY)}`,
        c,
        ctx.tallies.registrations[m * REG_CHANNELS.length + k] ?? 0,
      ),
    )
  }
}

/** Monthly acquisition spend per registration channel; returns the total per channel (CNY). */
function writeAcquisitionSpend(ctx: SimContext, rng: Rng): Record<string, number> {
  const A = MODEL_PARAMETERS.acquisition
  const w = ctx.out.acquisition_spend
  const totals: Record<string, number> = {}
  forEachMonthAndChannel(ctx, (period, c, persons) => {
    // Mean-preserving log-normal noise: E[exp(σZ − σ²/2)] = 1.
    const noise = rng.logNormal(-0.5 * A.noiseSigma * A.noiseSigma, A.noiseSigma)
    const cents = Math.round(persons * A.costPerMember[c] * 100 * noise)
    totals[c] = Math.round(((totals[c] ?? 0) + cents / 100) * 100) / 100
    w?.add(`${period},${c},${money(cents)}`)
  })
  return totals
}
