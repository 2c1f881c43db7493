/**
 * The whole glossary: the concepts of `core/glossary.ts` and every catalog metric, one entry per id, with a
 * nearest-id suggestion for a term that does not exist.
 * @module
 */
import { editDistance } from '../../core/did-you-mean.js'
import { CONCEPTS, type Term } from '../../core/glossary.js'
import { CATALOG, type MetricDef } from './catalog.js'

/**
 * The Chinese definition of every catalog metric, written from its formula (the English one is the catalog's
 * description). A metric without an entry here has no Chinese definition: the glossary test fails for it.
 */
export const METRIC_DEFINITIONS_ZH: Readonly<Record<string, string>> = {
  active_members: '期间内至少有一次有效行为或购买的会员人数（去重）。',
  dau: '每天的活跃会员数；在更粗的粒度上，为该期间各天的平均值。',
  wau: '每个 ISO 周内的活跃会员数（去重）。',
  mau: '每月的活跃会员数；在更粗的粒度上，为其各月的平均值。',
  stickiness:
    '平均日活跃会员数除以该期间的活跃会员数（按月粒度即 DAU/MAU），衡量会员回访的频繁程度。',
  active_rate: '活跃会员数 ÷ 截至期末已注册且尚未流失的会员数（期间内活跃的会员总计入分母）。',
  visit_frequency: '每名活跃会员的平均会话次数：会话数 ÷ 活跃会员数。',
  session_duration_avg: '每次会话的平均时长（秒）。',
  session_duration_median: '会话时长的中位数（秒）。',
  page_views_per_session: '每次会话的平均页面浏览量：页面浏览量 ÷ 会话数。',
  page_views_per_active_member: '每名活跃会员的平均页面浏览量：页面浏览量 ÷ 活跃会员数。',
  engagement_rate:
    '期间内有互动行为（签到、分享、使用权益、领取优惠券）或发表评价的活跃会员占活跃会员的比例。',
  coupons_issued: '期间内发放给会员的优惠券张数（按发放时间）。',
  coupons_redeemed: '期间内在订单上核销的优惠券张数（按核销时间）。',
  coupon_redemption_rate:
    '核销率：期间内发放的优惠券中，截至数据末尾已核销的比例；仍在有效期内的券之后还可能被使用。',
  coupon_cost: '券成本：期间内核销的优惠券面额合计，即券让出的优惠金额（未使用的券不计成本）。',
  orders_with_coupon: '期间内核销了至少一张优惠券的订单数（来自优惠券表；一单用两张券只计一次）。',
  campaign_incremental_orders:
    '活动增量订单数：活动首次发送时间 t0 之后 30 天窗口 [t0, t0 + 30 天) 内，实验组会员的购买次数减去对照组（留出组）同期购买次数按实验组人数折算后的值（设置 campaignWindowDays；会员与窗口同 `memberlens effects`）。计入活动开始所在的期间；没有留出组或实验组会员的活动为空，窗口结束前亦为空。',
  campaign_incremental_revenue:
    '活动增量消费金额：同一窗口内实验组会员的消费金额（购买减退货）减去留出组按实验组人数折算后的消费金额。计入活动开始所在的期间；没有留出组、窗口未结束时为空。',
  campaign_cost:
    '活动成本：期间内开始的活动的全部成本，口径同 `memberlens effects`：触达发送成本、该活动已核销优惠券的面额，以及已同步的积分账本为该活动发放的奖励积分按积分价值折算的金额。',
  campaign_roi:
    '活动投资回报率：期间内开始且有留出组的活动，（增量消费金额 + 已核销券面额 − 全部成本）÷ 全部成本。增量消费金额已扣除券的优惠，故把券面额加回，避免券既从收入中扣除又计入成本（同 `memberlens effects` 的 ROI）。没有留出组、窗口未结束或成本为 0 时为空。',
  buyers: '期间内至少有一笔购买（未取消的订单）的会员人数（去重）。',
  orders: '期间内的购买次数：状态不是“已取消”的订单数。',
  net_revenue: '期间内购买的实付金额合计减去退货金额，每笔按其自身发生时间计入所在期间。',
  purchase_frequency: '每名购买会员的平均订单数：订单数 ÷ 购买会员数。',
  aov: '客单价：每笔订单的平均消费金额，即消费金额 ÷ 订单数。',
  revenue_per_buyer: '人均消费：每名购买会员的平均消费金额，即消费金额 ÷ 购买会员数。',
  repurchase_rate: '复购率：期间内购买两次及以上的会员占购买会员的比例。',
  repurchase_rate_next:
    '跨期复购率：本期的购买会员中，在随后 k 期内（默认 k = 1）再次购买的比例；这些期间结束前为空。',
  arpu: '平均每用户收入：消费金额 ÷ 活跃会员数。',
  arppu: '平均每付费用户收入：消费金额 ÷ 购买会员数（与人均消费相同）。',
  purchase_conversion: '购买转化率：活跃会员中发生购买的比例，即购买会员数 ÷ 活跃会员数。',
  first_purchase_conversion:
    '首购转化率：新注册会员中在注册后 N 天内（默认 30 天）完成首次购买的比例；该期最后一名会员满 N 天前为空。',
  period_retention: '留存率：上一期活跃的会员中，本期再次活跃的比例。',
  churn_rate:
    '流失率：期初尚未流失的会员中，在本期内变为流失的比例（生命周期规则：默认连续 365 天未购买即为流失）。',
  subscription_churn_rate:
    '付费会员流失率：本期到期的付费会员期次中未续费的比例（合同型流失；有续费时间的期次视为已续费）。',
  subscription_renewals_due: '本期到期的付费会员期次数（每一期都是一次续费决定）。',
  churned_members: '本期内达到流失阈值（默认连续 365 天未购买）的会员人数。',
  reactivation_rate: '挽回率：期初已流失的会员中，在本期内重新活跃的比例。',
  winback_rate:
    '召回活动挽回率：本期收到召回活动的会员中，在触达后 30 天内重新活跃的比例（由设置 winbackKinds、winbackDays 决定）。',
  winback_rate_holdout:
    '对照组挽回率：被留作对照、未收到召回活动的会员的同一比例，即不触达也会回来的比例。',
  winback_uplift:
    '挽回增量：本期召回活动的增量效果，即触达组挽回率减去对照组挽回率（百分点）；任一组为空时为空。置信区间与匹配比较见 `memberlens effects` 与 `experiments`。',
  cohort_retention_rate:
    '同期群留存率：在本期之前第 k 期（默认 k = 1，设置 cohortPeriods）注册的会员中，本期活跃的比例，即某一注册同期群到达本期时的第 N 期留存。',
  reactivated_members: '回流会员数：流失之后重新活跃的会员人数。',
  historical_ltv: '历史生命周期价值：从数据开始到期末的累计消费金额 ÷ 截至期末已注册的会员数。',
  predicted_clv:
    '人均预测客户生命周期价值：本期校准的最新一次 CLV 运行（`memberlens clv fit`）中，每名被评分会员的平均预测 CLV；这是截至校准期末的快照，没有运行的期间为空。',
  predicted_clv_total:
    '预测客户生命周期价值合计：本期校准的最新一次 CLV 运行中，所有被评分会员的预测 CLV 之和；没有运行的期间为空。',
  members_total: '会员总数：截至期末已注册的会员人数。',
  nps: '净推荐值：NPS 回答中推荐者（9–10 分）的百分比减去贬损者（0–6 分）的百分比。',
  csat: '客户满意度：CSAT 回答中打 4 分或 5 分的比例。',
  review_rating: '评价平均分：评价（1–5 分）的平均得分。',
  negative_review_share:
    '差评率：1 分或 2 分的评价占全部评价的比例（按文本判断的见“负面评价占比”）。',
  negative_text_share:
    '负面评价占比：已标注情感（`memberlens voice label`）的反馈文本（评价、评论、投诉等）中，情感为负面的比例。',
  feedback_rate: '反馈率：期间内提交过任何反馈的活跃会员占活跃会员的比例。',
  support_requests_per_1000: '每千名活跃会员的服务请求数：1000 × 服务请求数 ÷ 活跃会员数。',
  complaint_rate: '投诉率：期间内有投诉的活跃会员占活跃会员的比例。',
  return_rate_amount: '退货率（金额）：退货金额 ÷ 购买实付金额。',
  returned_amount: '退货金额：期间内登记的退货所退款项合计（按退货日期计入）。',
  return_rate_orders: '退货率（订单）：期间内有退货登记的订单占本期订单的比例。',
  new_members: '新增会员：期间内注册的会员人数。',
  registration_conversion:
    '注册转化率：期间内新注册会员数 ÷ 同期匿名访客数（来自网站或 App 分析的访客表）；按注册渠道拆分时，用该渠道的访客数。',
  cost_per_new_member:
    '每新会员成本：获客投放费用 ÷ 新增会员数；按注册渠道拆分时，用该渠道的费用。',
  points_issued: '积分发放量：期间内入账的积分，即获得积分与正向调整之和。',
  points_redeemed: '积分兑换量：期间内用于兑换礼品或抵现而扣除的积分。',
  points_expired: '积分过期量：期间内到期仍未使用而扣除的积分。',
  points_redemption_rate: '积分兑换率：期间内兑换的积分 ÷ 期间内发放的积分。',
  points_breakage:
    '积分沉淀率：期间内结清（兑换或过期）的积分中，未使用而过期的比例，即过期积分 ÷（过期积分 + 兑换积分）。',
  points_liability:
    '积分负债：期末仍未结清的积分，即截至期末所有流水之和（获得 − 兑换 − 过期 − 冲回 ± 调整），含待生效积分。',
  points_liability_amount:
    '积分负债金额：期末未结清积分按积分计划的每分价值折算的金额（由同步记录）。',
  enrolled_members: '积分计划会员数：截至期末已加入积分计划的会员人数；按等级拆分即为等级分布。',
  tier_upgrade_rate: '等级升级率：期间内的等级升级次数 ÷ 期末积分计划会员数。',
  tier_downgrade_rate: '等级降级率：期间内的等级降级次数 ÷ 期末积分计划会员数。',
}

/**
 * A catalog metric as a glossary term: the catalog's description in English, the Chinese definition above.
 * A custom metric (from a metrics file) has no Chinese definition of its own: its Chinese entry names it in
 * Chinese and gives the description as its author wrote it.
 */
function metricTerm(m: MetricDef): Term {
  const zh = METRIC_DEFINITIONS_ZH[m.id] ?? `${m.name.zh}：${m.description}`
  return {
    id: m.id,
    kind: 'metric',
    name: m.name,
    definition: { en: m.description, zh },
    formula: m.formula,
  }
}

/** Every term: the concepts first, then the catalog metrics, each id once. */
export function glossary(extra: readonly MetricDef[] = []): readonly Term[] {
  const terms: Term[] = CONCEPTS.map((c) => ({ ...c, kind: 'concept' as const }))
  const seen = new Set(terms.map((t) => t.id))
  for (const m of [...CATALOG, ...extra]) if (!seen.has(m.id)) terms.push(metricTerm(m))
  return terms
}

/** The term with this id (hyphens and case ignored), or undefined. */
export function findTerm(id: string, terms: readonly Term[] = glossary()): Term | undefined {
  const key = id
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, '_')
  return terms.find((t) => t.id === key)
}

/** Up to three ids closest to `id`, for "did you mean". */
export function nearestTerms(id: string, terms: readonly Term[] = glossary()): string[] {
  const key = id
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, '_')
  return terms
    .map((t) => ({ id: t.id, d: editDistance(key, t.id) - (t.id.includes(key) ? key.length : 0) }))
    .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
    .slice(0, 3)
    .map((x) => x.id)
}
