/**
 * The glossary: one definition per user-facing term, in English and Chinese, read by `memberlens explain`,
 * `GET /api/v1/glossary` and the dashboard's ⓘ marks. Terms that sound alike but are different concepts have
 * different names here and wherever they are shown (the churn-risk score's "high churn risk", the lifecycle
 * stage "at risk" and the RFM segment "needs win-back"); the word "at risk" alone is a disambiguation entry.
 *
 * Every catalog metric is a term too: `engine/metrics/glossary.ts` adds them from the catalog (name,
 * description, formula), so that a metric's definition is written once.
 * @module
 */

export interface Text {
  readonly en: string
  readonly zh: string
}

export interface Term {
  /** Stable id, e.g. `high_churn_risk`; catalog metrics use their metric id. */
  readonly id: string
  readonly name: Text
  readonly definition: Text
  /** The formula in words, where the term is computed. */
  readonly formula?: string
  /** Ids of terms that are easily confused with this one, or that it is built from. */
  readonly related?: readonly string[]
  /** Where the term is shown: command, page or API field. */
  readonly shownIn?: readonly string[]
  /** `metric` for a catalog metric, `concept` for the others. */
  readonly kind: 'concept' | 'metric'
}

export type Concept = Omit<Term, 'kind'>

/** The terms that are not catalog metrics. */
export const CONCEPTS: readonly Concept[] = [
  {
    id: 'at_risk',
    name: { en: 'At risk (three different concepts)', zh: '“风险”（三个不同概念）' },
    definition: {
      en: 'memberlens uses three separate at-risk ideas, each with its own name: "high churn risk" (the churn-risk model scores a member at 50% or more), the lifecycle stage "At risk" (a buyer whose time since the last purchase has passed twice their usual interval) and the RFM segment "Needs win-back" (a member who used to buy often and much but not recently). They count different members on purpose.',
      zh: 'memberlens 有三个不同的“风险”概念，各有名称：“高流失风险”（流失风险模型评分 ≥ 50%）、生命周期阶段“流失风险”（距上次购买已超过其通常购买间隔的 2 倍）、RFM 分群“需挽回”（过去常买、买得多，但近期未购买）。三者口径不同，人数也不同。',
    },
    related: ['high_churn_risk', 'lifecycle_at_risk', 'rfm_needs_winback'],
  },
  {
    id: 'churn_risk_score',
    name: { en: 'Churn-risk score', zh: '流失风险分' },
    definition: {
      en: 'The probability, from the churn-risk model trained on the members’ own history, that a member churns (makes no purchase) within the next prediction window. Shown with its top reason codes.',
      zh: '流失风险模型（基于会员自身历史训练）给出的概率：会员在下一个预测窗口内流失（不再购买）的可能性。同时给出主要原因。',
    },
    formula: 'logistic model on recency, frequency, spend, engagement and service signals',
    related: ['high_churn_risk'],
    shownIn: ['memberlens risk list', 'Risk & win-back page', 'Member 360'],
  },
  {
    id: 'high_churn_risk',
    name: { en: 'High churn risk', zh: '高流失风险' },
    definition: {
      en: 'Members whose churn-risk score is 50% or more: the early-warning list of the Risk & win-back page.',
      zh: '流失风险分 ≥ 50% 的会员：即“风险与挽回”页的预警名单。',
    },
    formula: 'churn-risk score ≥ 0.5',
    related: ['churn_risk_score', 'at_risk', 'clv_at_risk'],
    shownIn: ['memberlens risk', 'Risk & win-back page'],
  },
  {
    id: 'lifecycle_at_risk',
    name: { en: 'Lifecycle stage: At risk', zh: '生命周期阶段：流失风险' },
    definition: {
      en: 'A buyer whose time since the last purchase has reached twice their own median interval between purchases (at least 14 days; 60 days for members with a single purchase), but not yet the dormant threshold. A rule on purchase dates, not a model.',
      zh: '距上次购买的时间已达到其自身购买间隔中位数的 2 倍（至少 14 天；只购买过一次的会员为 60 天），但尚未达到沉睡阈值的购买会员。这是基于购买日期的规则，不是模型。',
    },
    formula:
      'days since last purchase ≥ 2 × median inter-purchase gap (lifecycle rules, configurable)',
    related: ['at_risk', 'dormant', 'churned'],
    shownIn: ['memberlens lifecycle stages', 'Lifecycle page', 'Member 360'],
  },
  {
    id: 'rfm_needs_winback',
    name: { en: 'RFM segment: Needs win-back', zh: 'RFM 分群：需挽回' },
    definition: {
      en: 'Members with a low recency score but high frequency and monetary scores: good customers who have stopped buying recently.',
      zh: '最近一次消费得分低、但消费频次和金额得分高的会员：过去的好客户，近期不再购买。',
    },
    formula: 'R score 1–2 and (F + M) / 2 score 3–4 (scores 1–5 by quintile)',
    related: ['at_risk'],
    shownIn: ['memberlens rfm', 'Segments page'],
  },
  {
    id: 'churned',
    name: { en: 'Churned', zh: '已流失' },
    definition: {
      en: 'A member who has made no purchase for 365 days (configurable); the member becomes churned 365 days after the last purchase and is reactivated by the next one.',
      zh: '连续 365 天（可配置）没有购买的会员；自最后一次购买起满 365 天即计为流失，再次购买即为召回。',
    },
    formula: 'no purchase for churnDays (default 365) days',
    related: ['churn_rate', 'lifecycle_at_risk', 'dormant'],
    shownIn: ['churn_rate', 'Lifecycle page', 'Survival curve'],
  },
  {
    id: 'dormant',
    name: { en: 'Lifecycle stage: Dormant', zh: '生命周期阶段：沉睡' },
    definition: {
      en: 'A buyer whose time since the last purchase has reached four times their median interval between purchases (180 days for members with a single purchase), and who has not yet churned.',
      zh: '距上次购买的时间已达到其购买间隔中位数的 4 倍（只购买过一次的会员为 180 天），但尚未流失的购买会员。',
    },
    related: ['lifecycle_at_risk', 'churned'],
  },
  {
    id: 'active_member',
    name: { en: 'Active member', zh: '活跃会员' },
    definition: {
      en: 'A member with at least one qualifying event (login, session, check-in …) or paid order in the period.',
      zh: '统计期内至少有一次有效行为（登录、访问、签到等）或一笔已支付订单的会员。',
    },
    related: ['active_members', 'buyer'],
  },
  {
    id: 'buyer',
    name: { en: 'Buyer', zh: '购买会员' },
    definition: {
      en: 'A member with at least one order that was not cancelled in the period.',
      zh: '统计期内至少有一笔未取消订单的会员。',
    },
    related: ['buyers', 'active_member'],
  },
  {
    id: 'clv',
    name: { en: 'Predicted CLV', zh: '预测客户生命周期价值' },
    definition: {
      en: 'The expected net revenue of a member over the horizon (12 months by default), discounted, from the BG/NBD (or Pareto/NBD) purchase model and the Gamma–Gamma spend model fitted on all members.',
      zh: '基于 BG/NBD（或 Pareto/NBD）购买模型与 Gamma–Gamma 客单价模型，预测会员在未来一段时间（默认 12 个月）内贴现后的净消费额。',
    },
    formula: 'Σ discounted E[purchases in month] × E[spend per purchase]',
    related: ['p_alive', 'clv_at_risk', 'value_lost'],
    shownIn: ['memberlens clv', 'Value page', 'Member 360'],
  },
  {
    id: 'p_alive',
    name: { en: 'P(alive)', zh: '存活概率' },
    definition: {
      en: 'The probability, from the purchase model, that a member is still an active customer given when and how often they have bought.',
      zh: '购买模型根据会员的购买时间与频次，估计其仍为活跃客户的概率。',
    },
    related: ['clv'],
  },
  {
    id: 'clv_at_risk',
    name: { en: 'CLV at risk', zh: '风险中的预测价值' },
    definition: {
      en: 'The predicted CLV that members with high churn risk are expected to take with them: for each of them, the churn-risk score times the predicted CLV, summed.',
      zh: '高流失风险会员预计带走的预测价值：对每位高流失风险会员，以流失风险分乘以其预测 CLV，再求和。',
    },
    formula: 'Σ over members with score ≥ 50% of score × predicted CLV',
    related: ['high_churn_risk', 'clv', 'value_lost'],
    shownIn: ['memberlens risk', 'Risk & win-back page'],
  },
  {
    id: 'value_lost',
    name: { en: 'Value already lost (model)', zh: '已流失价值（模型估计）' },
    definition: {
      en: 'The value the purchase model believes is already gone: for each member, the chance they are no longer active (1 − P(alive)) times what they would bring if still active, summed over all members. Not the same as CLV at risk, which is about members who may still be kept.',
      zh: '购买模型估计已经失去的价值：对每位会员，以其已不活跃的概率（1 − 存活概率）乘以其若仍活跃可带来的价值，再对全体会员求和。与“风险中的预测价值”不同，后者针对仍可挽留的会员。',
    },
    formula: 'Σ (1 − P(alive)) × CLV ÷ P(alive)',
    related: ['clv', 'p_alive', 'clv_at_risk'],
    shownIn: ['memberlens clv report', 'Value page'],
  },
  {
    id: 'prediction_interval',
    name: { en: 'Prediction interval', zh: '预测区间' },
    definition: {
      en: 'How far a forecast may be off. The interval of expected purchases or CLV shows only the uncertainty of the fitted model; the prediction interval of the purchases that will actually be made also counts the chance in members’ buying, so it is wider, and for a whole member base it contains the realised total with the stated probability (90% by default).',
      zh: '预测可能偏离多少。期望购买次数或 CLV 的区间只反映模型参数的不确定性；实际购买次数的预测区间还计入会员购买本身的随机性，因此更宽，对整个会员群体而言，实际发生的合计以所述概率（默认 90%）落在其中。',
    },
    related: ['clv'],
    shownIn: ['memberlens clv predict --intervals', 'Value page'],
  },
  {
    id: 'points_expiring',
    name: { en: 'Points expiring soon', zh: '即将过期积分' },
    definition: {
      en: 'Points of a member that expire within 30 days after the end of the scoring day, counted in the project time zone (Asia/Shanghai by default); at 100 points or more the early-warning signal points_expiring fires.',
      zh: '评分日结束后 30 天内（按项目时区计算，默认 Asia/Shanghai）将过期的会员积分；达到 100 分及以上时触发预警信号 points_expiring。',
    },
    related: ['points_expired', 'points_liability'],
  },
  {
    id: 'time_to_churn',
    name: { en: 'Time to churn (survival curve)', zh: '流失时间（生存曲线）' },
    definition: {
      en: "Days from a buyer's first purchase to the last purchase before a 365-day gap (churnDays), i.e. the churn dated at the last purchase, so the curve moves from day 0. A churn is only known 365 days later, so buyers still buying after (data end − 365 days) are censored there; the curve is the Kaplan–Meier share still buying after each day.",
      zh: '从会员首次购买到其在 365 天（churnDays）不再购买之前的最后一次购买的天数，即把流失记在最后一次购买之日，因此曲线从第 0 天起变化。流失要满 365 天后才能确认，所以在（数据截止日 − 365 天）之后仍有购买的会员在该日截尾；曲线为 Kaplan–Meier 估计的各天后仍在购买的会员占比。',
    },
    formula:
      'Kaplan–Meier over (last purchase of the first spell − first purchase), censored at as-of − churnDays',
    related: ['churned'],
    shownIn: ['memberlens survival', 'Survival curve'],
  },
  {
    id: 'category_penetration',
    name: { en: 'Category penetration', zh: '品类渗透率' },
    definition: {
      en: 'The share of buyers who bought a category: members with a purchase holding one of its lines ÷ members with a purchase that has order lines, before the as-of day.',
      zh: '购买过某品类的会员占比：有订单明细含该品类的会员数 ÷ 有订单明细的购买会员数（截至分析日）。',
    },
    formula: 'buyers of the category ÷ buyers with order lines',
    related: ['purchase_interval'],
    shownIn: ['memberlens categories', 'Categories page'],
  },
  {
    id: 'purchase_interval',
    name: { en: 'Days between purchases (P10 … P90)', zh: '购买间隔（P10 … P90）' },
    definition: {
      en: "The whole days from one purchase day of a member to their next; P50 is the median gap, P90 the gap only one in ten exceeds. A member's own median and P90 are their cadence. Purchases on one calendar day count once.",
      zh: '会员相邻两个购买日之间的天数；P50 为中位间隔，P90 为只有一成间隔会超过的天数。会员自身的中位数与 P90 即其购买节奏。同一天的多笔购买只算一次。',
    },
    formula:
      'quantiles of (next purchase day − purchase day) over every member’s consecutive purchase days',
    related: ['category_penetration'],
    shownIn: ['memberlens intervals', 'memberlens members show', 'Member 360'],
  },
  {
    id: 'no_data',
    name: { en: 'No data (—)', zh: '无数据（—）' },
    definition: {
      en: 'A figure shown as — (null in the API) has no data: the period lies before the first or after the last record, or a rate has nothing to divide by. It is never shown as 0.',
      zh: '显示为 —（API 中为 null）的数字表示没有数据：该期在第一条记录之前或最后一条记录之后，或比率的分母为零。不会显示为 0。',
    },
  },
  {
    id: 'member_tag',
    name: { en: 'Member tag', zh: '会员标签' },
    definition: {
      en: 'A label a member holds in a month, in a group of tags: computed by a rule over the member’s measures and attributes at the end of the month (e.g. net revenue in 90 days ≥ ¥1,000, top 20% by predicted CLV), or given by hand from a file. In a mutually exclusive group a member holds at most one tag. Segments combine tags with AND across groups and OR within one.',
      zh: '会员在某月持有的标签，属于某个标签分组：由规则在月末按会员的指标与属性计算（如近 90 天消费 ≥ ¥1,000、预测 CLV 前 20%），或从文件手工导入。互斥分组中会员最多持有一个标签。分群按标签筛选时，不同分组之间为“且”，同一分组内为“或”。',
    },
    related: ['tgi'],
    shownIn: ['memberlens tags', 'Tags page', 'Member 360', 'segment builder'],
  },
  {
    id: 'tgi',
    name: { en: 'TGI (target group index)', zh: 'TGI（目标群体指数）' },
    definition: {
      en: 'How much more common a value is in a segment than in the whole base (or another segment): 100 means as common, 150 half as common again, 50 half as common. Marked significant when a two-proportion z-test of the segment against the members outside it rejects equal shares at 5%.',
      zh: '某属性值在分群中相对全体会员（或另一分群）的集中程度：100 表示一样常见，150 表示高出一半，50 表示只有一半。分群对比分群以外会员的双比例 z 检验在 5% 水平拒绝“占比相同”时标为显著。',
    },
    formula: 'segment share ÷ comparison share × 100',
    related: ['member_tag'],
    shownIn: [
      'memberlens segments compare',
      'Segments page',
      'GET /api/v1/segments/{name}/compare',
    ],
  },
  {
    id: 'yoy_event',
    name: { en: 'Year-on-year by event', zh: '节点对齐同比' },
    definition: {
      en: 'The change against the window a year earlier that sits in the same position relative to the nearest calendar event (春节, 618 or 双11) instead of the same calendar period, so that a festival that moved between years does not make a January or February look better or worse. A period with no event within reach (31 days by default) uses the ordinary year-on-year change, and says so.',
      zh: '与去年相对最近日历节点（春节、618 或双11）处于同一位置的时间窗对比的变化率，而非与去年同一日历期间对比；这样春节在两年间日期不同时，一月、二月的同比不会因此虚高或虚低。附近（默认 31 天内）没有节点的期间使用普通同比，并注明。',
    },
    formula:
      'value(period) ÷ value(period moved back by the days between the event this year and last year) − 1',
    shownIn: [
      'memberlens metrics get <id>:yoy_event',
      'memberlens tree --yoy-event',
      'GET /api/v1/tree?yoyEvent=true',
    ],
  },
  {
    id: 'target_pushdown',
    name: { en: 'Target pushed down', zh: '目标分解' },
    definition: {
      en: 'For a tree metric with a target that is a product or sum of other metrics (net revenue = buyers × purchase frequency × AOV), the value each of them would need for the metric to reach its target while the others keep their current values.',
      zh: '对有目标且由其他指标相乘或相加构成的指标（消费金额 = 购买会员数 × 购买频次 × 客单价），在其余指标保持当前值时，每个组成指标需要达到的值。',
    },
    formula: 'product: target ÷ product of the others; sum: target − sum of the others',
    shownIn: ['memberlens tree', 'GET /api/v1/tree (pushdown)'],
  },
  {
    id: 'covariate_effect',
    name: { en: 'Covariate effect (CLV)', zh: '协变量效应（CLV）' },
    definition: {
      en: 'How much a member attribute (registration channel, region, a coupon on the first order) or the high season (年货节, 618, 双11 windows) multiplies the purchase rate or the drop-out of the CLV purchase model, against a reference level, with its 95 % interval.',
      zh: '会员属性（注册渠道、地区、首单是否用券）或旺季（年货节、618、双11 窗口）使 CLV 购买模型的购买率或流失变为参照水平的多少倍，并给出 95% 置信区间。',
    },
    formula: 'multiplier e^β; purchase rate scale α·e^(−β·z), inside windows rate × e^γ',
    related: ['clv', 'p_alive'],
    shownIn: ['memberlens clv fit --covariates', 'memberlens clv report --covariates'],
  },
]
