/**
 * Every number that shapes the simulated population, in one place. The whole object is copied into
 * `truth.json`, so an analysis can be checked against the values that generated the data.
 * @module
 */

/** A calendar rule: local (UTC+8) days from `from` to `to` (inclusive, 'MM-DD') get `multiplier`. */
export interface SeasonRule {
  readonly label: string
  readonly from: string
  readonly to: string
  readonly multiplier: number
}

/** Registration channels, in the order used by the per-person codes. */
export const REG_CHANNELS = ['app', 'mini_program', 'web', 'store'] as const
/**
 * The generating parameters. Rates are per week, money in CNY, probabilities in [0, 1]; Gamma
 * distributions are written (shape, rate).
 */
export const MODEL_PARAMETERS = {
  registration: {
    channelShares: { app: 0.34, mini_program: 0.26, web: 0.1, store: 0.3 },
    /** The registration rate at the end of the window is (1 + growth) times the rate at its start. */
    growth: 1.5,
    /** Later rules win where they overlap. */
    seasonality: [
      { label: 'Nov-Dec shopping season', from: '11-01', to: '12-31', multiplier: 1.5 },
      { label: '11.11 pre-sale', from: '11-01', to: '11-09', multiplier: 1.8 },
      { label: '11.11 (Singles Day)', from: '11-10', to: '11-11', multiplier: 3.5 },
      { label: '12.12', from: '12-12', to: '12-12', multiplier: 2 },
      { label: '618 run-up', from: '06-01', to: '06-15', multiplier: 1.3 },
      { label: '618', from: '06-16', to: '06-18', multiplier: 2.5 },
    ],
    weekendMultiplier: 1.05,
  },
  purchase: {
    model: 'BG/NBD (Fader, Hardie & Lee 2005), clock starting at registration',
    /** λ ~ Gamma(shape r, rate alpha), purchases per week at seasonal multiplier 1. */
    r: 0.6,
    alpha: 4,
    /** Drop-out probability after each purchase p ~ Beta(a, b). */
    a: 0.8,
    b: 2.5,
    timeUnit: 'week',
    /** Later rules win where they overlap; the weekend multiplier applies on top. */
    seasonality: [
      { label: 'Nov-Dec shopping season', from: '11-01', to: '12-31', multiplier: 1.3 },
      { label: '11.11 pre-sale', from: '11-01', to: '11-09', multiplier: 1.5 },
      { label: '11.11 (Singles Day)', from: '11-10', to: '11-11', multiplier: 2.8 },
      { label: '12.12', from: '12-12', to: '12-12', multiplier: 1.9 },
      { label: '618 run-up', from: '06-01', to: '06-15', multiplier: 1.15 },
      { label: '618', from: '06-16', to: '06-18', multiplier: 2.2 },
    ],
    weekendMultiplier: 1.12,
  },
  spend: {
    model:
      'Gamma-Gamma (Fader, Hardie & Lee 2005): z ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate gamma)',
    /** The order value z is the order's gross_amount (before discounts). */
    p: 6,
    q: 4,
    gamma: 80,
    minimumOrderValue: 1,
  },
  tier: {
    name: 'gold',
    /** Net spend (non-cancelled orders) in the trailing window that qualifies a person. */
    spendThreshold: 2500,
    windowDays: 365,
    /** Drop-out probability after each later purchase is multiplied by this. Tiers are never lost. */
    dropoutMultiplier: 0.5,
  },
  duplicates: {
    /** Share of persons registered twice (a store card row and an app row with disjoint identities). */
    share: 0.08,
    /** The second registration follows the first within this many days (and before the end). */
    secondRegistrationWithinDays: 180,
    /** When no order links them, a card-binding login event does, within this many days. */
    eventLinkWithinDays: 14,
  },
  identities: {
    phoneFormats: ['13800138000', '+86 138-0013-8000', '138 0013 8000'],
    /** Share of member rows whose phone uses formats 0, 1, 2. */
    memberPhoneFormatShares: [0.7, 0.2, 0.1],
    /** Share of store orders (of persons without a card, or by choice) identified by phone only. */
    storePhoneOnly: 0.2,
    /** Share of store orders identified only by the POS customer id once it is known. */
    storePosOnly: 0.25,
  },
  orders: {
    cancelRate: 0.015,
    pointsUseRate: 0.04,
    /** 100 points are worth 1 CNY and are counted in discount_amount. */
    pointsPerCny: 100,
    /**
     * An order pays with points only up to what the member can surely spend under the demo's program
     * (examples/loyalty-program.yaml), counted from below: 1 point per whole ¥1 of net spend of earlier
     * orders that were neither cancelled nor returned, each capped at the program's per-order cap,
     * spendable from `spendableAfterDays` after the order (the program holds them 7 days) and only within
     * `spendableForDays` of it (they expire at the end of the 12th month after the month they were
     * earned), less every point the person has already used. Check-ins, bonuses and multipliers only add
     * to that, so the ledger never refuses a simulated redemption.
     */
    pointsBalance: {
      earnedPerCny: 1,
      perOrderCap: 20_000,
      spendableAfterDays: 8,
      spendableForDays: 355,
    },
    priceSensitiveShare: 0.25,
    couponUse: { priceSensitive: 0.55, other: 0.08 },
    currency: 'CNY',
  },
  returns: {
    rate: 0.03,
    dissatisfiedRate: 0.1,
    fullRefundShare: 0.45,
    minDays: 1,
    maxDays: 14,
  },
  service: {
    /** P(service-dissatisfied | p) = base + perDropout · p, so dissatisfaction predicts churn. */
    dissatisfiedBase: 0.04,
    dissatisfiedPerDropout: 0.35,
  },
  events: {
    /** Browse sessions per week σ = (base + perPurchase·λ) · G, G ~ Gamma(shape, rate = shape). */
    sessionBase: 0.1,
    sessionPerPurchase: 3.5,
    sessionHeterogeneityShape: 4,
    /** The session rate falls linearly to 0 over the last `fadeWeeks` weeks before drop-out. */
    fadeWeeks: 8,
    /** After drop-out the session rate is this fraction of the person's old rate. */
    afterDropoutMultiplier: 0.02,
    meanPageViewsPerSession: 2,
  },
  feedback: {
    npsAfterOrder: 0.07,
    reviewAfterOnlineOrder: 0.05,
    /** Per-week hazards while alive; complaints and tickets rise by (1 + nearChurnBoost · closeness). */
    complaintPerWeek: 0.004,
    ticketPerWeek: 0.008,
    suggestionPerWeek: 0.002,
    socialCommentPerWeek: 0.003,
    messageBoardPerWeek: 0.0015,
    dissatisfiedComplaintMultiplier: 6,
    dissatisfiedTicketMultiplier: 3,
    nearChurnWeeks: 8,
    nearChurnComplaintBoost: 4,
    nearChurnTicketBoost: 3,
    complaintAfterReturn: 0.3,
    csatAfterTicket: 0.5,
    /** NPS latent mean: base + satisfaction − dissatisfied penalty − nearChurn penalty · closeness. */
    npsBase: 8,
    npsDissatisfiedPenalty: 2.5,
    npsNearChurnPenalty: 3,
  },
  subscriptions: {
    /** P(person buys a plan) = min(0.5, buyBase + buyPerLambda · λ). */
    buyBase: 0.07,
    buyPerLambda: 0.8,
    startMeanDays: 60,
    /** Churn probability per renewal θ ~ Beta(alpha, beta), fixed per person (sBG, Fader & Hardie 2007). */
    plans: {
      plus_monthly: { termMonths: 1, price: 19, share: 0.7, alpha: 1.2, beta: 6 },
      plus_annual: { termMonths: 12, price: 168, share: 0.3, alpha: 1.5, beta: 3 },
    },
  },
  experiment: {
    experimentId: 'new_member_first_order_coupon',
    couponId: 'NEWMEMBER30',
    couponValue: 30,
    /** Treatment members who would not buy within the window do so with this probability. */
    conversion: 0.2,
    outcomeDays: 30,
  },
  winback: {
    couponId: 'WINBACK20',
    couponValue: 20,
    offer: '20 CNY coupon, no minimum',
    /** The campaign runs this many days before the end of the window, at 10:00 Beijing time. */
    daysBeforeEnd: 45,
    inactiveDays: 90,
    minTenureDays: 120,
    /** Treatment members who would not buy within the outcome window do so with this probability. */
    conversion: 0.1,
    outcomeDays: 30,
    costPerTouch: { sms: 0.05, wechat: 0.02 },
  },
  touches: {
    promoShare: 0.25,
    costPerTouch: { sms: 0.05, email: 0.005, wechat: 0.02, push: 0, app: 0 },
  },
  acquisition: {
    /** Mean spend per new member by registration channel; monthly totals get log-normal noise. */
    costPerMember: { app: 42, mini_program: 24, web: 30, store: 9 },
    noiseSigma: 0.15,
    /** Share of a month's anonymous visitors who register, by channel (visitors = registrations ÷ rate). */
    registrationConversion: { app: 0.06, mini_program: 0.09, web: 0.025, store: 0.18 },
  },
} as const

/** The type of {@link MODEL_PARAMETERS} (copied verbatim into truth.json). */
export type ModelParameters = typeof MODEL_PARAMETERS
