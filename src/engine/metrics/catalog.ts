/**
 * The metric catalog (DOMAIN §2): every metric's id, names, formula, unit, direction and default grain, and how
 * it is computed from measures. Allowed dimensions follow from the measures (see {@link allowedDimensions}).
 * @module
 */
import type { Grain } from '../dialects/dialect.js'
import { sql, type Fragment } from '../sql/fragment.js'
import type { CompileContext } from './context.js'
import { MEMBER_DIMENSIONS, ROW_DIMENSIONS } from './dimensions.js'
import { getMeasure, type Measure } from './measures.js'

export const FAMILIES = [
  'activity',
  'purchase',
  'retention',
  'value',
  'satisfaction',
  'acquisition',
  'loyalty',
] as const
export type Family = (typeof FAMILIES)[number]
export type Unit =
  | 'members'
  | 'orders'
  | 'currency'
  | 'ratio'
  | 'per_member'
  | 'seconds'
  | 'score'
  | 'count'
  | 'per_1000'
  | 'points'
export type Direction = 'higher' | 'lower'

/** Reads a measure's column in the final query (0 for a missing group of an additive measure). */
export type MeasureColumn = (measureId: string) => Fragment

export interface MetricDef {
  readonly id: string
  readonly name: { readonly en: string; readonly zh: string }
  readonly description: string
  /** The formula in words, for people. */
  readonly formula: string
  readonly family: Family
  readonly unit: Unit
  readonly direction: Direction
  readonly defaultGrain: Grain
  /** Grains the metric can be read at (default: all). */
  readonly grains?: readonly Grain[]
  readonly measures: readonly string[]
  /** Measures defined with the metric (custom metrics); looked up before the shared ones. */
  readonly inlineMeasures?: readonly Measure[]
  value(col: MeasureColumn): Fragment
  /** Periods whose follow-up window is not over yet show no value. */
  complete?(ctx: CompileContext, period: Fragment): Fragment
  /** True for metrics defined in a user's config file. */
  readonly custom?: boolean
}

/** a / b as a double; empty when b is 0. */
export function ratio(a: Fragment, b: Fragment, scale = 1): Fragment {
  return scale === 1
    ? sql`(CAST(${a} AS DOUBLE) / NULLIF(${b}, 0))`
    : sql`(CAST(${a} AS DOUBLE) * ${scale} / NULLIF(${b}, 0))`
}

const net = (c: MeasureColumn) => sql`(${c('purchase_amount')} - ${c('returns_amount')})`

function metric(def: Omit<MetricDef, 'value'> & { value?: MetricDef['value'] }): MetricDef {
  const only = def.measures[0]
  return {
    ...def,
    value:
      def.value ??
      ((c) => {
        if (def.measures.length !== 1 || only === undefined)
          throw new Error(`${def.id} needs a value expression`)
        return sql`CAST(${c(only)} AS DOUBLE)`
      }),
  }
}

const M = 'month' as const

export const CATALOG: readonly MetricDef[] = [
  // Activity (活跃度)
  metric({
    id: 'active_members',
    name: { en: 'Active members', zh: '活跃会员数' },
    family: 'activity',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    measures: ['active_members'],
    description: 'Members with at least one qualifying event or purchase in the period.',
    formula: 'count of distinct members with ≥1 qualifying event or purchase',
  }),
  metric({
    id: 'dau',
    name: { en: 'Daily active members (DAU)', zh: '日活跃会员数' },
    family: 'activity',
    unit: 'members',
    direction: 'higher',
    defaultGrain: 'day',
    measures: ['avg_daily_active'],
    description:
      'Active members per day; at a coarser grain, the average over the days of the period.',
    formula: 'Σ daily active members ÷ days in the period',
  }),
  metric({
    id: 'wau',
    name: { en: 'Weekly active members (WAU)', zh: '周活跃会员数' },
    family: 'activity',
    unit: 'members',
    direction: 'higher',
    defaultGrain: 'week',
    grains: ['week'],
    measures: ['avg_weekly_active'],
    description: 'Active members per ISO week.',
    formula: 'distinct active members in the week',
  }),
  metric({
    id: 'mau',
    name: { en: 'Monthly active members (MAU)', zh: '月活跃会员数' },
    family: 'activity',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    grains: ['month', 'quarter', 'year'],
    measures: ['avg_monthly_active'],
    description: 'Active members per month; at a coarser grain, the average over its months.',
    formula: 'Σ monthly active members ÷ months in the period',
  }),
  metric({
    id: 'stickiness',
    name: { en: 'Stickiness (DAU/MAU)', zh: '粘性 (DAU/MAU)' },
    family: 'activity',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['avg_daily_active', 'active_members'],
    description:
      'Average daily active members over the active members of the period (DAU/MAU at the month grain).',
    formula: 'average DAU ÷ active members of the period',
    value: (c) => ratio(c('avg_daily_active'), c('active_members')),
  }),
  metric({
    id: 'active_rate',
    name: { en: 'Active rate', zh: '活跃率' },
    family: 'activity',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['active_members', 'active_base'],
    description:
      'Active members over members registered by the end of the period and not churned by then (members active in the period always count).',
    formula: 'active members ÷ members registered by period end and not yet churned',
    value: (c) => ratio(c('active_members'), c('active_base')),
  }),
  metric({
    id: 'visit_frequency',
    name: { en: 'Visit frequency', zh: '访问频次' },
    family: 'activity',
    unit: 'per_member',
    direction: 'higher',
    defaultGrain: M,
    measures: ['sessions', 'active_members'],
    description: 'Sessions per active member.',
    formula: 'sessions ÷ active members',
    value: (c) => ratio(c('sessions'), c('active_members')),
  }),
  metric({
    id: 'session_duration_avg',
    name: { en: 'Session duration (mean)', zh: '平均会话时长' },
    family: 'activity',
    unit: 'seconds',
    direction: 'higher',
    defaultGrain: M,
    measures: ['session_seconds_avg'],
    description: 'Mean seconds per session.',
    formula: 'mean session duration (s)',
  }),
  metric({
    id: 'session_duration_median',
    name: { en: 'Session duration (median)', zh: '会话时长中位数' },
    family: 'activity',
    unit: 'seconds',
    direction: 'higher',
    defaultGrain: M,
    measures: ['session_seconds_median'],
    description: 'Median seconds per session.',
    formula: 'median session duration (s)',
  }),
  metric({
    id: 'page_views_per_session',
    name: { en: 'Page views per session', zh: '每次会话页面浏览量' },
    family: 'activity',
    unit: 'count',
    direction: 'higher',
    defaultGrain: M,
    measures: ['page_views', 'sessions'],
    description: 'Page views per session.',
    formula: 'page views ÷ sessions',
    value: (c) => ratio(c('page_views'), c('sessions')),
  }),
  metric({
    id: 'page_views_per_active_member',
    name: { en: 'Page views per active member', zh: '人均页面浏览量' },
    family: 'activity',
    unit: 'per_member',
    direction: 'higher',
    defaultGrain: M,
    measures: ['page_views', 'active_members'],
    description: 'Page views per active member.',
    formula: 'page views ÷ active members',
    value: (c) => ratio(c('page_views'), c('active_members')),
  }),
  metric({
    id: 'engagement_rate',
    name: { en: 'Engagement rate', zh: '参与度' },
    family: 'activity',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['engaged_members', 'active_members'],
    description:
      'Share of active members who performed an engagement event (check-in, share, benefit use, coupon claim) or wrote a review in the period.',
    formula: 'engaged members ÷ active members',
    value: (c) => ratio(c('engaged_members'), c('active_members')),
  }),

  // Purchase (购买行为)
  metric({
    id: 'buyers',
    name: { en: 'Buyers', zh: '购买会员数' },
    family: 'purchase',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    measures: ['buyers'],
    description: 'Members with at least one purchase (an order not cancelled).',
    formula: 'distinct members with ≥1 purchase',
  }),
  metric({
    id: 'orders',
    name: { en: 'Orders', zh: '订单数' },
    family: 'purchase',
    unit: 'orders',
    direction: 'higher',
    defaultGrain: M,
    measures: ['orders'],
    description: 'Purchases: orders that are not cancelled.',
    formula: 'count of orders with status ≠ cancelled',
  }),
  metric({
    id: 'net_revenue',
    name: { en: 'Net revenue', zh: '消费金额' },
    family: 'purchase',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['purchase_amount', 'returns_amount'],
    description: 'Net amount of purchases minus returns, each in the period of its own time.',
    formula: 'Σ net_amount of purchases − Σ returns',
    value: (c) => sql`CAST(${net(c)} AS DOUBLE)`,
  }),
  metric({
    id: 'purchase_frequency',
    name: { en: 'Purchase frequency', zh: '购买频次' },
    family: 'purchase',
    unit: 'per_member',
    direction: 'higher',
    defaultGrain: M,
    measures: ['orders', 'buyers'],
    description: 'Orders per buyer.',
    formula: 'orders ÷ buyers',
    value: (c) => ratio(c('orders'), c('buyers')),
  }),
  metric({
    id: 'aov',
    name: { en: 'Average order value', zh: '客单价' },
    family: 'purchase',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['purchase_amount', 'returns_amount', 'orders'],
    description: 'Net revenue per order.',
    formula: 'net revenue ÷ orders',
    value: (c) => ratio(net(c), c('orders')),
  }),
  metric({
    id: 'revenue_per_buyer',
    name: { en: 'Revenue per buyer', zh: '人均消费' },
    family: 'purchase',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['purchase_amount', 'returns_amount', 'buyers'],
    description: 'Net revenue per buyer (per-customer spend).',
    formula: 'net revenue ÷ buyers',
    value: (c) => ratio(net(c), c('buyers')),
  }),
  metric({
    id: 'repurchase_rate',
    name: { en: 'Repurchase rate (in period)', zh: '复购率' },
    family: 'purchase',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['repeat_buyers', 'buyers'],
    description: 'Buyers with two or more purchases in the period.',
    formula: 'buyers with ≥2 purchases ÷ buyers',
    value: (c) => ratio(c('repeat_buyers'), c('buyers')),
  }),
  metric({
    id: 'repurchase_rate_next',
    name: { en: 'Repurchase rate (next periods)', zh: '跨期复购率' },
    family: 'purchase',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['repurchasers_next', 'buyers'],
    description:
      'Buyers of the period who buy again within the next k periods (k = 1 by default); empty until those periods are over.',
    formula: 'buyers of t buying again in t+1…t+k ÷ buyers of t',
    value: (c) => ratio(c('repurchasers_next'), c('buyers')),
    complete: (ctx, period) =>
      sql`${ctx.dialect.addPeriods(ctx.grain, period, ctx.settings.repurchasePeriods + 1)} <= ${dataEndDay(ctx)}`,
  }),
  metric({
    id: 'arpu',
    name: { en: 'ARPU', zh: '平均每用户收入' },
    family: 'purchase',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['purchase_amount', 'returns_amount', 'active_members'],
    description: 'Net revenue per active member.',
    formula: 'net revenue ÷ active members',
    value: (c) => ratio(net(c), c('active_members')),
  }),
  metric({
    id: 'arppu',
    name: { en: 'ARPPU', zh: '平均每付费用户收入' },
    family: 'purchase',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['purchase_amount', 'returns_amount', 'buyers'],
    description: 'Net revenue per paying member (the same quantity as revenue per buyer).',
    formula: 'net revenue ÷ buyers',
    value: (c) => ratio(net(c), c('buyers')),
  }),
  metric({
    id: 'purchase_conversion',
    name: { en: 'Purchase conversion', zh: '购买转化率' },
    family: 'purchase',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['buyers', 'active_members'],
    description: 'Active members who bought.',
    formula: 'buyers ÷ active members',
    value: (c) => ratio(c('buyers'), c('active_members')),
  }),
  metric({
    id: 'first_purchase_conversion',
    name: { en: 'First-purchase conversion', zh: '首购转化率' },
    family: 'purchase',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['first_purchase_converted', 'new_members'],
    description:
      'New members whose first purchase came within N days of registering (N = 30 by default); empty until the last member of the period has had N days.',
    formula: 'new members with a first purchase within N days ÷ new members',
    value: (c) => ratio(c('first_purchase_converted'), c('new_members')),
    complete: (ctx, period) => windowOver(ctx, period, ctx.settings.firstPurchaseDays),
  }),

  // Retention and churn (留存 / 流失)
  metric({
    id: 'period_retention',
    name: { en: 'Period retention', zh: '留存率' },
    family: 'retention',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['retained_members', 'previous_active'],
    description: 'Members active in the previous period who are active again in this one.',
    formula: 'active in t−1 and t ÷ active in t−1',
    value: (c) => ratio(c('retained_members'), c('previous_active')),
  }),
  metric({
    id: 'churn_rate',
    name: { en: 'Churn rate', zh: '流失率' },
    family: 'retention',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['churned_from_start', 'alive_at_start'],
    description:
      'Members not churned at the start of the period who became churned in it (lifecycle rule: no purchase for 365 days by default).',
    formula:
      'members not churned at period start who turn churned in the period ÷ members not churned at period start',
    value: (c) => ratio(c('churned_from_start'), c('alive_at_start')),
  }),
  metric({
    id: 'subscription_churn_rate',
    name: { en: 'Subscription churn rate', zh: '付费会员流失率' },
    family: 'retention',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['renewals_missed', 'renewals_due'],
    description:
      'Paid-membership terms that ended in the period without a renewal, as a share of the terms that ended in it (contractual churn; a term counts as renewed when it has a renewal time).',
    formula: 'terms ending in the period without renewal ÷ terms ending in the period',
    value: (c) => ratio(c('renewals_missed'), c('renewals_due')),
  }),
  metric({
    id: 'subscription_renewals_due',
    name: { en: 'Subscription renewals due', zh: '到期付费会员数' },
    family: 'retention',
    unit: 'count',
    direction: 'higher',
    defaultGrain: M,
    measures: ['renewals_due'],
    description: 'Paid-membership terms that ended in the period (each one a renewal decision).',
    formula: 'count of subscription terms whose end falls in the period',
  }),
  metric({
    id: 'churned_members',
    name: { en: 'Churned members', zh: '流失会员数' },
    family: 'retention',
    unit: 'members',
    direction: 'lower',
    defaultGrain: M,
    measures: ['churned_members'],
    description:
      'Members who reached the churn threshold (no purchase for 365 days by default) in the period.',
    formula: 'members turning churned in the period',
  }),
  metric({
    id: 'reactivation_rate',
    name: { en: 'Reactivation rate', zh: '挽回率' },
    family: 'retention',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['reactivated_from_start', 'churned_at_start'],
    description: 'Members churned at the start of the period who became active again in it.',
    formula:
      'members churned at period start and active again in the period ÷ members churned at period start',
    value: (c) => ratio(c('reactivated_from_start'), c('churned_at_start')),
  }),
  metric({
    id: 'winback_rate',
    name: { en: 'Win-back rate', zh: '挽回率 (召回活动)' },
    family: 'retention',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['winback_returned', 'winback_targeted'],
    description:
      'Members sent a win-back campaign in the period who were active again within 30 days of the touch (settings winbackKinds, winbackDays).',
    formula: 'targeted members active within the window ÷ targeted members',
    value: (c) => ratio(c('winback_returned'), c('winback_targeted')),
    complete: (ctx, period) => windowOver(ctx, period, ctx.settings.winbackDays),
  }),
  metric({
    id: 'winback_rate_holdout',
    name: { en: 'Win-back rate (holdout)', zh: '挽回率 (对照组)' },
    family: 'retention',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['winback_holdout_returned', 'winback_holdout'],
    description:
      'The same rate for the members held out of the win-back campaigns: what comes back without the touch.',
    formula: 'holdout members active within the window ÷ holdout members',
    value: (c) => ratio(c('winback_holdout_returned'), c('winback_holdout')),
    complete: (ctx, period) => windowOver(ctx, period, ctx.settings.winbackDays),
  }),
  metric({
    id: 'winback_uplift',
    name: { en: 'Win-back uplift (vs holdout)', zh: '挽回增量 (较对照组)' },
    family: 'retention',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: [
      'winback_returned',
      'winback_targeted',
      'winback_holdout_returned',
      'winback_holdout',
    ],
    description:
      'The incremental effect of the win-back campaigns of the period: the win-back rate of the targeted members minus that of the held-out members, in percentage points; empty when either group is empty. The confidence interval and matched comparisons are in `memberlens effects` and `experiments`.',
    formula: 'win-back rate (targeted) − win-back rate (holdout)',
    value: (c) =>
      sql`(${ratio(c('winback_returned'), c('winback_targeted'))} - ${ratio(c('winback_holdout_returned'), c('winback_holdout'))})`,
    complete: (ctx, period) => windowOver(ctx, period, ctx.settings.winbackDays),
  }),
  metric({
    id: 'cohort_retention_rate',
    name: { en: 'Cohort retention rate', zh: '同期群留存率' },
    family: 'retention',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['cohort_retained', 'cohort_size'],
    description:
      'Of the members who registered k periods before the period (k = 1 by default, setting cohortPeriods), the share active in the period: the N-period retention of one registration cohort, read at the period it reaches.',
    formula: 'members registered in t−k and active in t ÷ members registered in t−k',
    value: (c) => ratio(c('cohort_retained'), c('cohort_size')),
  }),
  metric({
    id: 'reactivated_members',
    name: { en: 'Reactivated members', zh: '回流会员数' },
    family: 'retention',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    measures: ['reactivated_members'],
    description: 'Members active again after having churned.',
    formula: 'members whose activity resumed after a churn',
  }),

  // Value (价值)
  metric({
    id: 'historical_ltv',
    name: { en: 'Historical LTV', zh: '历史生命周期价值' },
    family: 'value',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['cumulative_net_revenue', 'members_total'],
    description:
      'Net revenue since the start of the data per member registered by the end of the period.',
    formula: 'Σ net revenue to period end ÷ members registered by period end',
    value: (c) => ratio(c('cumulative_net_revenue'), c('members_total')),
  }),
  metric({
    id: 'predicted_clv',
    name: { en: 'Predicted CLV (mean)', zh: '预测客户生命周期价值 (人均)' },
    family: 'value',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['clv_sum', 'clv_scored'],
    description:
      'Mean predicted CLV per scored member, from the latest CLV run calibrated in the period (`memberlens clv fit`): a snapshot as of the calibration end, so periods without a run are empty.',
    formula: 'Σ predicted CLV of the run ÷ members scored by the run',
    value: (c) => ratio(c('clv_sum'), c('clv_scored')),
  }),
  metric({
    id: 'predicted_clv_total',
    name: { en: 'Predicted CLV (total)', zh: '预测客户生命周期价值 (合计)' },
    family: 'value',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['clv_sum'],
    description:
      'Total predicted CLV of the members scored by the latest CLV run calibrated in the period; periods without a run are empty.',
    formula: 'Σ predicted CLV of the run',
    complete: (ctx, period) => hasClvRun(ctx, period),
  }),
  metric({
    id: 'members_total',
    name: { en: 'Members', zh: '会员总数' },
    family: 'value',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    measures: ['members_total'],
    description: 'Members registered by the end of the period.',
    formula: 'members with registered_at < period end',
  }),

  // Satisfaction and service (满意度 / 服务品质)
  metric({
    id: 'nps',
    name: { en: 'NPS', zh: '净推荐值' },
    family: 'satisfaction',
    unit: 'score',
    direction: 'higher',
    defaultGrain: M,
    measures: ['nps_promoters', 'nps_detractors', 'nps_responses'],
    description:
      'Percentage of promoters (9–10) minus percentage of detractors (0–6) among NPS responses.',
    formula: '100 × (promoters − detractors) ÷ responses',
    value: (c) =>
      ratio(sql`(${c('nps_promoters')} - ${c('nps_detractors')})`, c('nps_responses'), 100),
  }),
  metric({
    id: 'csat',
    name: { en: 'CSAT', zh: '客户满意度' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['csat_satisfied', 'csat_responses'],
    description: 'Share of CSAT responses scoring 4 or 5.',
    formula: 'CSAT responses 4–5 ÷ CSAT responses',
    value: (c) => ratio(c('csat_satisfied'), c('csat_responses')),
  }),
  metric({
    id: 'review_rating',
    name: { en: 'Review rating', zh: '评价平均分' },
    family: 'satisfaction',
    unit: 'score',
    direction: 'higher',
    defaultGrain: M,
    measures: ['review_score_avg'],
    description: 'Mean score of reviews (1–5).',
    formula: 'mean review score',
  }),
  metric({
    id: 'negative_review_share',
    name: { en: 'Negative-review share', zh: '差评率' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['negative_reviews', 'reviews'],
    description: 'Reviews scoring 1 or 2 over reviews (negative_text_share reads the texts).',
    formula: 'reviews with score ≤ 2 ÷ reviews',
    value: (c) => ratio(c('negative_reviews'), c('reviews')),
  }),
  metric({
    id: 'negative_text_share',
    name: { en: 'Negative-text share', zh: '负面评价占比 (文本情感)' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['texts_negative', 'texts_labelled'],
    description:
      'Feedback texts (reviews, comments, complaints, …) whose derived sentiment is negative over the texts labelled (`memberlens voice label`).',
    formula: 'texts labelled negative ÷ texts labelled',
    value: (c) => ratio(c('texts_negative'), c('texts_labelled')),
  }),
  metric({
    id: 'feedback_rate',
    name: { en: 'Feedback rate', zh: '反馈率' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['feedback_members', 'active_members'],
    description: 'Active members who gave any feedback in the period over active members.',
    formula: 'active members with feedback ÷ active members',
    value: (c) => ratio(c('feedback_members'), c('active_members')),
  }),
  metric({
    id: 'support_requests_per_1000',
    name: { en: 'Support requests per 1,000 active members', zh: '每千活跃会员服务请求数' },
    family: 'satisfaction',
    unit: 'per_1000',
    direction: 'lower',
    defaultGrain: M,
    measures: ['support_tickets', 'active_members'],
    description: 'Support tickets per thousand active members.',
    formula: '1000 × support tickets ÷ active members',
    value: (c) => ratio(c('support_tickets'), c('active_members'), 1000),
  }),
  metric({
    id: 'complaint_rate',
    name: { en: 'Complaint rate', zh: '投诉率' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['complaint_members', 'active_members'],
    description: 'Active members who complained in the period over active members.',
    formula: 'active members with a complaint ÷ active members',
    value: (c) => ratio(c('complaint_members'), c('active_members')),
  }),
  metric({
    id: 'return_rate_amount',
    name: { en: 'Return rate (amount)', zh: '退货率 (金额)' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['returns_amount', 'purchase_amount'],
    description: 'Returned amount over the net amount of purchases.',
    formula: 'Σ returns ÷ Σ net_amount of purchases',
    value: (c) => ratio(c('returns_amount'), c('purchase_amount')),
  }),
  metric({
    id: 'returned_amount',
    name: { en: 'Returned amount', zh: '退货金额' },
    family: 'satisfaction',
    unit: 'currency',
    direction: 'lower',
    defaultGrain: M,
    measures: ['returns_amount'],
    description: 'Money refunded by returns recorded in the period (by the return date).',
    formula: 'Σ returns.amount',
  }),
  metric({
    id: 'return_rate_orders',
    name: { en: 'Return rate (orders)', zh: '退货率 (订单)' },
    family: 'satisfaction',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['returned_orders', 'orders'],
    description: 'Orders with a return recorded in the period over orders of the period.',
    formula: 'returned orders ÷ orders',
    value: (c) => ratio(c('returned_orders'), c('orders')),
  }),

  // Acquisition and program cost
  metric({
    id: 'new_members',
    name: { en: 'New members', zh: '新增会员' },
    family: 'acquisition',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    measures: ['new_members'],
    description: 'Members registered in the period.',
    formula: 'members with registered_at in the period',
  }),
  metric({
    id: 'registration_conversion',
    name: { en: 'Registration conversion', zh: '注册转化率' },
    family: 'acquisition',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['new_members', 'visitors'],
    description:
      'Members registered in the period over the anonymous visitors of the period (the visitors table, from web or app analytics); by registration channel, the visitors of that channel.',
    formula: 'new members ÷ visitors',
    value: (c) => ratio(c('new_members'), c('visitors')),
  }),
  metric({
    id: 'cost_per_new_member',
    name: { en: 'Cost per new member', zh: '每新会员成本' },
    family: 'acquisition',
    unit: 'currency',
    direction: 'lower',
    defaultGrain: M,
    measures: ['spend_amount', 'new_members'],
    description:
      'Acquisition spend over new members; by registration channel, the spend of that channel.',
    formula: 'acquisition spend ÷ new members',
    value: (c) => ratio(c('spend_amount'), c('new_members')),
  }),

  // Coupons (优惠券), from the coupons table; each can be split by coupon_campaign.
  metric({
    id: 'coupons_issued',
    name: { en: 'Coupons issued', zh: '发券数' },
    family: 'purchase',
    unit: 'count',
    direction: 'higher',
    defaultGrain: M,
    measures: ['coupons_issued'],
    description: 'Coupons issued to members in the period (by issue time).',
    formula: 'count of coupons with issued_at in the period',
  }),
  metric({
    id: 'coupons_redeemed',
    name: { en: 'Coupons redeemed', zh: '核销券数' },
    family: 'purchase',
    unit: 'count',
    direction: 'higher',
    defaultGrain: M,
    measures: ['coupons_redeemed'],
    description: 'Coupons used on an order in the period (by redemption time).',
    formula: 'count of coupons with redeemed_at in the period',
  }),
  metric({
    id: 'coupon_redemption_rate',
    name: { en: 'Coupon redemption rate', zh: '核销率' },
    family: 'purchase',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['coupons_issued_redeemed', 'coupons_issued'],
    description:
      'Share of the coupons issued in the period that have been redeemed (at any time up to the end of the data); coupons still valid may yet be used.',
    formula: 'coupons issued in the period and redeemed ÷ coupons issued in the period',
    value: (c) => ratio(c('coupons_issued_redeemed'), c('coupons_issued')),
  }),
  metric({
    id: 'coupon_cost',
    name: { en: 'Coupon cost', zh: '券成本' },
    family: 'purchase',
    unit: 'currency',
    direction: 'lower',
    defaultGrain: M,
    measures: ['coupon_cost'],
    description:
      'Face value of the coupons redeemed in the period: the discount the coupons gave away (unused coupons cost nothing).',
    formula: 'Σ face_value of coupons with redeemed_at in the period',
  }),
  metric({
    id: 'orders_with_coupon',
    name: { en: 'Orders with coupon', zh: '用券订单数' },
    family: 'purchase',
    unit: 'orders',
    direction: 'higher',
    defaultGrain: M,
    measures: ['coupon_orders'],
    description:
      'Orders on which at least one coupon was redeemed in the period (from the coupons table; an order with two coupons counts once).',
    formula: 'count of distinct order_id of coupons with redeemed_at in the period',
  }),
  // Campaigns measured against their holdout (the members of the `touches` table's campaigns), as `memberlens
  // effects` measures them; each in the period of the campaign's start, and each can be split by campaign.
  metric({
    id: 'campaign_incremental_orders',
    name: { en: 'Campaign incremental orders', zh: '活动增量订单数' },
    family: 'purchase',
    unit: 'orders',
    direction: 'higher',
    defaultGrain: M,
    measures: ['campaign_incremental_orders'],
    description:
      "Orders a campaign added against its randomised holdout: the treated members' purchases in the window [t0, t0 + 30 days) after the campaign's first send t0, minus the holdout's purchases in the same window scaled to the treated group's size (setting campaignWindowDays; the members and window of `memberlens effects`). Counted in the period of the campaign's start; empty for a campaign without holdout members or treated members, and until the window is over.",
    formula:
      'Σ over campaigns started in the period: treated purchases − holdout purchases × treated members ÷ holdout members, in [t0, t0 + 30 days)',
  }),
  metric({
    id: 'campaign_incremental_revenue',
    name: { en: 'Campaign incremental net revenue', zh: '活动增量消费金额' },
    family: 'purchase',
    unit: 'currency',
    direction: 'higher',
    defaultGrain: M,
    measures: ['campaign_incremental_revenue'],
    description:
      "Net revenue a campaign added against its randomised holdout: the treated members' net revenue (purchases − returns) in the window [t0, t0 + 30 days) after the campaign's first send, minus the holdout's scaled to the treated group's size. Counted in the period of the campaign's start; empty without a holdout and until the window is over.",
    formula:
      'Σ over campaigns started in the period: treated net revenue − holdout net revenue × treated members ÷ holdout members, in [t0, t0 + 30 days)',
  }),
  metric({
    id: 'campaign_cost',
    name: { en: 'Campaign cost', zh: '活动成本' },
    family: 'purchase',
    unit: 'currency',
    direction: 'lower',
    defaultGrain: M,
    measures: ['campaign_cost'],
    description:
      "Full cost of the campaigns started in the period, as `memberlens effects` counts it: what the touches cost to send, the face value of the campaign's coupons that were redeemed, and the bonus points the synced ledger credited for the campaign at the program's point value.",
    formula:
      'Σ over campaigns started in the period: Σ touches.cost + Σ face_value of its redeemed coupons + its bonus points × point value',
  }),
  metric({
    id: 'campaign_roi',
    name: { en: 'Campaign ROI', zh: '活动投资回报率' },
    family: 'purchase',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: [
      'campaign_incremental_revenue',
      'campaign_measured_coupons',
      'campaign_measured_cost',
    ],
    description:
      "Return on the full cost of the campaigns started in the period that have a holdout: (incremental net revenue + face value of the redeemed coupons − full cost) ÷ full cost. The coupons' face value is added back to the revenue, which is net of the discount, so that a coupon is not subtracted once from revenue and again as a cost (the ROI of `memberlens effects`). Empty without a holdout, until the window is over, and when the cost is 0.",
    formula:
      '(incremental net revenue + redeemed coupon face value − full cost) ÷ full cost, over the campaigns with a holdout',
    value: (c) =>
      ratio(
        sql`(${c('campaign_incremental_revenue')} + ${c('campaign_measured_coupons')} - ${c('campaign_measured_cost')})`,
        c('campaign_measured_cost'),
      ),
  }),
  // Points and tiers (积分 / 等级), from the ledger tables synced into the engine (`memberlens loyalty sync`)
  metric({
    id: 'points_issued',
    name: { en: 'Points issued', zh: '积分发放量' },
    family: 'loyalty',
    unit: 'points',
    direction: 'higher',
    defaultGrain: M,
    measures: ['points_issued'],
    description: 'Points credited in the period: earn entries and positive adjustments.',
    formula: 'Σ points of earn entries and positive adjustments',
  }),
  metric({
    id: 'points_redeemed',
    name: { en: 'Points redeemed', zh: '积分兑换量' },
    family: 'loyalty',
    unit: 'points',
    direction: 'higher',
    defaultGrain: M,
    measures: ['points_redeemed'],
    description: 'Points spent on rewards in the period.',
    formula: 'Σ points debited by redemptions',
  }),
  metric({
    id: 'points_expired',
    name: { en: 'Points expired', zh: '积分过期量' },
    family: 'loyalty',
    unit: 'points',
    direction: 'lower',
    defaultGrain: M,
    measures: ['points_expired'],
    description: 'Points that reached their expiry date unspent in the period.',
    formula: 'Σ points debited by expiry',
  }),
  metric({
    id: 'points_redemption_rate',
    name: { en: 'Points redemption rate', zh: '积分兑换率' },
    family: 'loyalty',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['points_redeemed', 'points_issued'],
    description: 'Points redeemed in the period over points issued in the period.',
    formula: 'points redeemed ÷ points issued',
    value: (c) => ratio(c('points_redeemed'), c('points_issued')),
  }),
  metric({
    id: 'points_breakage',
    name: { en: 'Points breakage', zh: '积分沉淀率' },
    family: 'loyalty',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['points_expired', 'points_redeemed'],
    description:
      'Of the points settled in the period (spent or expired), the share that expired unspent: the observed breakage.',
    formula: 'points expired ÷ (points expired + points redeemed)',
    value: (c) =>
      ratio(c('points_expired'), sql`(${c('points_expired')} + ${c('points_redeemed')})`),
  }),
  metric({
    id: 'points_liability',
    name: { en: 'Points liability', zh: '积分负债' },
    family: 'loyalty',
    unit: 'points',
    direction: 'lower',
    defaultGrain: M,
    measures: ['points_outstanding'],
    description:
      'Points outstanding at the end of the period: every entry up to then (earned − redeemed − expired − reversed ± adjustments), pending points included.',
    formula: 'Σ points of all ledger entries before period end',
  }),
  metric({
    id: 'points_liability_amount',
    name: { en: 'Points liability (money)', zh: '积分负债金额' },
    family: 'loyalty',
    unit: 'currency',
    direction: 'lower',
    defaultGrain: M,
    measures: ['points_outstanding'],
    description:
      "Points outstanding at the end of the period valued at the program's point value (recorded by the sync).",
    formula: 'points liability × point value',
    value: (c) =>
      sql`(CAST(${c('points_outstanding')} AS DOUBLE) * (SELECT CAST(value AS DOUBLE) FROM loyalty_sync_state WHERE key = 'point_value'))`,
  }),
  metric({
    id: 'enrolled_members',
    name: { en: 'Program members', zh: '积分计划会员数' },
    family: 'loyalty',
    unit: 'members',
    direction: 'higher',
    defaultGrain: M,
    measures: ['enrolled_total'],
    description:
      'Members enrolled in the points program by the end of the period; split by tier for the tier distribution.',
    formula: 'loyalty accounts with enrolled_at < period end',
  }),
  metric({
    id: 'tier_upgrade_rate',
    name: { en: 'Tier upgrade rate', zh: '等级升级率' },
    family: 'loyalty',
    unit: 'ratio',
    direction: 'higher',
    defaultGrain: M,
    measures: ['tier_upgrades', 'enrolled_total'],
    description: 'Tier upgrades in the period over members enrolled by the end of the period.',
    formula: 'upgrades ÷ program members at period end',
    value: (c) => ratio(c('tier_upgrades'), c('enrolled_total')),
  }),
  metric({
    id: 'tier_downgrade_rate',
    name: { en: 'Tier downgrade rate', zh: '等级降级率' },
    family: 'loyalty',
    unit: 'ratio',
    direction: 'lower',
    defaultGrain: M,
    measures: ['tier_downgrades', 'enrolled_total'],
    description: 'Tier downgrades in the period over members enrolled by the end of the period.',
    formula: 'downgrades ÷ program members at period end',
    value: (c) => ratio(c('tier_downgrades'), c('enrolled_total')),
  }),
]

/** True when a window of `days` after the period's end has passed by the end of the data. */
function windowOver(ctx: CompileContext, period: Fragment, days: number): Fragment {
  const d = ctx.dialect
  return sql`${d.addPeriods('day', d.addPeriods(ctx.grain, period, 1), days)} <= ${dataEndDay(ctx)}`
}

/** True when a CLV run is dated in the period (its calibration end falls in it). */
function hasClvRun(ctx: CompileContext, period: Fragment): Fragment {
  return sql`EXISTS (SELECT 1 FROM src_clv_scores c WHERE c.ts >= ${period} AND c.ts < ${ctx.dialect.addPeriods(ctx.grain, period, 1)})`
}

/** The first day after the last activity: windows ending by then are complete. */
function dataEndDay(ctx: CompileContext): Fragment {
  return ctx.dialect.addPeriods(
    'day',
    ctx.dialect.dateTrunc('day', sql`(SELECT max(ts) FROM src_activity)`),
    1,
  )
}

/** The measures of a metric, its own first. */
export function metricMeasures(def: MetricDef): Measure[] {
  return def.measures.map((id) => def.inlineMeasures?.find((m) => m.id === id) ?? getMeasure(id))
}

/** Dimensions a metric can be split by, given its measures. */
export function allowedDimensions(def: MetricDef): string[] {
  const measures = metricMeasures(def)
  const memberBased = measures.every((m) => m.memberBased)
  const member = memberBased
    ? [...MEMBER_DIMENSIONS, 'attribute:<key>', 'experiment:<id>']
    : measures.every(
          (m) =>
            !m.memberBased ||
            m.id === 'new_members' ||
            m.id === 'spend_amount' ||
            m.id === 'visitors',
        )
      ? ['registration_channel']
      : []
  const rowSources = measures.map((m) => m.rowSource)
  const row = ROW_DIMENSIONS.filter((d) => {
    const need =
      d === 'event_channel'
        ? ['events', 'sessions']
        : d === 'coupon_campaign'
          ? ['coupons_issued', 'coupons_redeemed']
          : d === 'campaign'
            ? ['campaign_units']
            : ['purchases']
    return rowSources.every((s) => s !== undefined && need.includes(s))
  })
  return [...member, ...row]
}
