/**
 * The ground truth written next to the simulated files (`truth.json`): every parameter, the planted
 * effects with how they were applied, and the counts an analysis of the files should recover.
 * @module
 */
import type { PlantedCovariatesTruth } from './planted-covariates.js'
import type { IngestTable } from '../core/schema.js'
import { WEEK } from './calendar.js'
import {
  CALENDAR_DEMAND_RULES,
  type CalendarDemandRule,
  type DemandWindow,
} from './calendar-demand.js'
import { MODEL_PARAMETERS, REG_CHANNELS, type ModelParameters } from './model-parameters.js'
import type { PersonTruth } from './person-truth.js'
import type { IdentityCasesTruth } from './identity-cases.js'
import type { FarmingTruth } from './farming-rings.js'
import type { SimContext } from './sim-context.js'
import type { UpliftTruth } from './uplift-campaign.js'
import type { UniversalHoldoutTruth } from './universal-holdout.js'
import type { CouponTallies } from './coupon-tallies.js'

export type { PersonTruth } from './person-truth.js'

export interface ExperimentTruth {
  readonly experimentId: string
  /** Members registered in [registeredFrom, registeredTo) were assigned at registration. */
  readonly registeredFrom: string
  readonly registeredTo: string
  readonly assignment: string
  readonly outcome: string
  readonly howApplied: string
  readonly couponId: string
  readonly couponValue: number
  /** Share of would-be non-buyers in treatment converted by the coupon. */
  readonly conversion: number
  /** Expected outcome rate without treatment (mean over assigned persons of their own probability). */
  readonly baselineRate: number
  readonly expectedTreatmentRate: number
  /** True effect in percentage points: 100 · conversion · (1 − baselineRate). */
  readonly deltaPp: number
  readonly control: { readonly n: number; readonly converted: number }
  readonly treatment: {
    readonly n: number
    readonly converted: number
    readonly couponInduced: number
  }
}

export interface WinbackTruth {
  readonly campaignId: string
  readonly campaignAt: string
  readonly eligibility: string
  readonly outcome: string
  readonly howApplied: string
  readonly conversion: number
  /** Expected purchase rate of the holdout (mean natural probability over eligible persons). */
  readonly holdoutExpectedRate: number
  readonly treatmentExpectedRate: number
  /** True uplift in percentage points: 100 · conversion · (1 − holdoutExpectedRate). */
  readonly upliftPp: number
  readonly treatment: { readonly n: number; readonly converted: number; readonly induced: number }
  readonly holdout: { readonly n: number; readonly converted: number }
}

export interface PlanTruth {
  readonly termMonths: number
  readonly price: number
  /** sBG: churn probability per renewal θ ~ Beta(alpha, beta). */
  readonly alpha: number
  readonly beta: number
  readonly expectedChurnPerTerm: number
  readonly subscribers: number
  readonly terms: number
  readonly renewals: number
  readonly nonRenewals: number
  /** Terms whose renewal decision falls after the end of the window. */
  readonly censored: number
}

export interface GroundTruth {
  readonly generator: 'memberlens simulate'
  readonly seed: number
  readonly options: {
    readonly members: number
    readonly months: number
    readonly end: string
    readonly tables: readonly IngestTable[]
    /** Present (true) only when purchases followed the retail calendar. */
    readonly calendarDemand?: true
    /** Present (true) only when covariate effects were planted. */
    readonly plantedCovariates?: true
  }
  readonly window: {
    /** First simulated instant (inclusive). */
    readonly start: string
    /** End of the last day (exclusive). */
    readonly end: string
    readonly startDate: string
    readonly endDate: string
    readonly weeks: number
  }
  readonly notes: readonly string[]
  /** True number of persons: what identity resolution should end with. */
  readonly persons: number
  /** Rows in members.csv (persons + duplicate registrations). */
  readonly memberRows: number
  readonly duplicates: {
    readonly registrations: number
    readonly linkedByOrder: number
    readonly linkedByEvent: number
  }
  /** Rows written per file (tables not requested are absent). */
  readonly rows: Readonly<Record<string, number>>
  readonly parameters: ModelParameters
  /**
   * Present only with the calendarDemand option: the rules (relative to 春节, 618 and 双11) and their windows
   * placed on the retail calendar's dates, in local days (Beijing time). Each multiplies the purchase
   * seasonality of `parameters` on the days it covers.
   */
  /** Present only with the plantedCovariates option: the planted effects and their true values. */
  readonly plantedCovariates?: PlantedCovariatesTruth
  readonly calendarDemand?: {
    readonly rules: readonly CalendarDemandRule[]
    readonly windows: readonly DemandWindow[]
  }
  readonly purchases: {
    /** Orders of every kind and status. */
    readonly orders: number
    /** Orders of the BG/NBD process (including those that exist only because of the tier effect). */
    readonly natural: number
    /** Orders the same random draws give without the tier effect: an exact BG/NBD sample. */
    readonly baseProcess: number
    readonly tierExtra: number
    readonly experimentCoupon: number
    readonly winback: number
    readonly cancelled: number
    /** Σ over persons of E[X(τ)] under BG/NBD, τ = seasonal exposure from registration to the end. */
    readonly expectedBaseProcess: number
    readonly personsWithOrders: number
    /** Persons whose drop-out moment lies inside the window. */
    readonly droppedOut: number
    readonly meanLambda: number
    readonly meanP: number
    readonly meanGrossOrderValue: number
    /** p·gamma/(q − 1): the population mean of persons' expected order values. */
    readonly expectedMeanOrderValue: number
  }
  readonly tier: { readonly personsQualified: number }
  readonly returns: {
    readonly count: number
    readonly refunded: number
    readonly partiallyRefunded: number
  }
  readonly segments: { readonly priceSensitive: number; readonly serviceDissatisfied: number }
  readonly subscriptions: Readonly<Record<string, PlanTruth>>
  readonly experiment: ExperimentTruth | null
  readonly winback: WinbackTruth | null
  /** The optional multi-arm retention campaign (present only when it was simulated). */
  readonly uplift?: UpliftTruth
  /** The optional universal holdout of the member programme (present only when it was simulated). */
  readonly universalHoldout?: UniversalHoldoutTruth
  /** Coupons issued and redeemed by campaign, as written to coupons.csv (simulate-coupons.ts). */
  readonly coupons?: ReturnType<CouponTallies['truth']>
  /**
   * Every person of each hidden type, by one identity (`type:value`, phone as 11 digits): persons in
   * neither list are of neither type. What `memberlens risk reasons --evaluate` scores the churn classes on.
   */
  readonly churnTypes?: {
    readonly description: string
    readonly priceSensitive: readonly string[]
    readonly serviceDissatisfied: readonly string[]
  }
  readonly acquisition: {
    readonly newPersonsByChannel: Readonly<Record<string, number>>
    readonly spendByChannel: Readonly<Record<string, number>>
    readonly total: number
  }
  /** The first persons by registration time (up to 200). */
  readonly sample: readonly PersonTruth[]
  /** The planted hard cases of identity resolution and every registration record's person (opt-in). */
  readonly identityCases?: IdentityCasesTruth
  /** Present only with the plantedFarming option: the planted points-farming rings. */
  readonly farming?: FarmingTruth
}

const round = (x: number, digits = 6): number => Number(x.toFixed(digits))

/** Assembles the ground truth once every person has been simulated. */
export function buildGroundTruth(
  ctx: SimContext,
  options: GroundTruth['options'],
  rows: Record<string, number>,
  acquisitionSpend: Record<string, number>,
): GroundTruth {
  const T = ctx.tallies
  const P = MODEL_PARAMETERS
  const cal = ctx.cal
  const f = ctx.fmt

  const newByChannel: Record<string, number> = {}
  REG_CHANNELS.forEach((c, k) => {
    let s = 0
    for (let m = 0; m < ctx.monthStarts.length; m++)
      s += T.registrations[m * REG_CHANNELS.length + k] ?? 0
    newByChannel[c] = s
  })

  const subscriptions: Record<string, PlanTruth> = {}
  for (const [plan, def] of Object.entries(P.subscriptions.plans)) {
    subscriptions[plan] = {
      termMonths: def.termMonths,
      price: def.price,
      alpha: def.alpha,
      beta: def.beta,
      expectedChurnPerTerm: round(def.alpha / (def.alpha + def.beta)),
      subscribers: T.subscribers[plan] ?? 0,
      terms: T.terms[plan] ?? 0,
      renewals: T.renewals[plan] ?? 0,
      nonRenewals: T.nonRenewals[plan] ?? 0,
      censored: T.censored[plan] ?? 0,
    }
  }

  let experiment: ExperimentTruth | null = null
  if (Number.isFinite(ctx.expStart)) {
    const E = P.experiment
    const assigned = T.expControl + T.expTreatment
    const baseline = assigned > 0 ? T.expNaturalProbSum / assigned : 0
    experiment = {
      experimentId: ctx.experimentId,
      registeredFrom: f.ts(ctx.expStart),
      registeredTo: f.ts(ctx.expEnd),
      assignment:
        '50/50 at random at registration (assigned_at = registered_at of the first registration)',
      outcome: `any order (any status) with assigned_at <= ordered_at <= assigned_at + ${E.outcomeDays} days`,
      howApplied:
        `treatment members get coupon ${E.couponId} (${E.couponValue} CNY) on their first order within ` +
        `${E.outcomeDays} days; a treated member whose natural first purchase would come later buys ` +
        `within the window with probability ${E.conversion} instead (an extra order; later purchases unchanged)`,
      couponId: E.couponId,
      couponValue: E.couponValue,
      conversion: E.conversion,
      baselineRate: round(baseline),
      expectedTreatmentRate: round(baseline + E.conversion * (1 - baseline)),
      deltaPp: round(100 * E.conversion * (1 - baseline), 4),
      control: { n: T.expControl, converted: T.expControlConverted },
      treatment: {
        n: T.expTreatment,
        converted: T.expTreatmentConverted,
        couponInduced: T.expCouponInduced,
      },
    }
  }

  let winback: WinbackTruth | null = null
  if (Number.isFinite(ctx.wbSec)) {
    const W = P.winback
    const eligible = T.wbTreatment + T.wbHoldout
    const holdout = eligible > 0 ? T.wbNaturalProbSum / eligible : 0
    winback = {
      campaignId: ctx.wbCampaignId,
      campaignAt: f.ts(ctx.wbSec),
      eligibility:
        `registered at least ${W.minTenureDays} days before campaignAt, no order (any status) in the ` +
        `${W.inactiveDays} days up to campaignAt, and reachable (phone with SMS consent or WeChat with consent)`,
      outcome: `any order with campaignAt < ordered_at <= campaignAt + ${W.outcomeDays} days`,
      howApplied:
        `eligible members split 50/50; treatment touched by SMS or WeChat within an hour of campaignAt with ` +
        `${W.couponId}; a treated member without a natural purchase in the window buys once with ` +
        `probability ${W.conversion} (a one-off order that does not revive the purchase process)`,
      conversion: W.conversion,
      holdoutExpectedRate: round(holdout),
      treatmentExpectedRate: round(holdout + W.conversion * (1 - holdout)),
      upliftPp: round(100 * W.conversion * (1 - holdout), 4),
      treatment: { n: T.wbTreatment, converted: T.wbTreatmentConverted, induced: T.wbInduced },
      holdout: { n: T.wbHoldout, converted: T.wbHoldoutConverted },
    }
  }

  const total = Object.values(acquisitionSpend).reduce((s, v) => s + v, 0)
  return {
    generator: 'memberlens simulate',
    seed: ctx.seed,
    options,
    window: {
      start: f.ts(cal.startSec),
      end: f.ts(cal.endSec),
      startDate: cal.startDate,
      endDate: cal.endDate,
      weeks: round((cal.endSec - cal.startSec) / WEEK, 4),
    },
    notes: [
      'Times are UTC; seasonality and opening hours follow Beijing time (UTC+8).',
      'Rows of orders, events, feedback and other per-person files are grouped by person in registration order, not sorted by time; members.csv is sorted by registered_at.',
      'The BG/NBD clock of a person starts at registration (no purchase at time 0); drop-out happens only after a purchase, and the drop-out moment lies between that purchase and the one that would have followed.',
      'baseProcess orders follow BG/NBD exactly on the seasonal exposure clock; natural − baseProcess orders exist only because of the tier effect.',
      'Order values (gross_amount) follow Gamma-Gamma; discount_amount = coupon value + points_used / 100; net_amount = gross_amount − discount_amount.',
      'A duplicate registration is linked by the first order after both registrations exist (it carries app_user_id and card_no); when there is none, by a login event with properties {"action":"bind_card"} in events.csv.',
      'Subscriptions renew independently of the purchase process.',
      `Ordinary promo, welcome and birthday touches have no planted effect. Email addresses are unique below ${(1e7).toLocaleString('en-US')} persons.`,
    ],
    persons: T.persons,
    memberRows: T.memberRows,
    duplicates: {
      registrations: T.duplicates,
      linkedByOrder: T.linkedByOrder,
      linkedByEvent: T.linkedByEvent,
    },
    rows,
    parameters: P,
    ...(cal.demandWindows.length === 0
      ? {}
      : { calendarDemand: { rules: CALENDAR_DEMAND_RULES, windows: cal.demandWindows } }),
    purchases: {
      orders: T.orders,
      natural: T.naturalOrders,
      baseProcess: T.baseProcessOrders,
      tierExtra: T.naturalOrders - T.baseProcessOrders,
      experimentCoupon: T.couponOrders,
      winback: T.winbackOrders,
      cancelled: T.cancelled,
      expectedBaseProcess: round(T.expectedBaseOrders, 3),
      personsWithOrders: T.personsWithOrders,
      droppedOut: T.droppedOut,
      meanLambda: round(T.persons > 0 ? T.lambdaSum / T.persons : 0),
      meanP: round(T.persons > 0 ? T.pSum / T.persons : 0),
      meanGrossOrderValue: round(T.orders > 0 ? T.grossSum / T.orders / 100 : 0, 2),
      expectedMeanOrderValue: round((P.spend.p * P.spend.gamma) / (P.spend.q - 1), 4),
    },
    tier: { personsQualified: T.tierQualified },
    returns: { count: T.returns, refunded: T.refunded, partiallyRefunded: T.partiallyRefunded },
    segments: { priceSensitive: T.priceSensitive, serviceDissatisfied: T.dissatisfied },
    subscriptions,
    experiment,
    winback,
    acquisition: {
      newPersonsByChannel: newByChannel,
      spendByChannel: acquisitionSpend,
      total: round(total, 2),
    },
    sample: ctx.sample,
  }
}
