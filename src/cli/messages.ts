/**
 * The CLI's Chinese messages, keyed by their English text (see src/cli/lang.ts), and the Chinese names of the
 * codes commands print: tree statuses, lifecycle actions, churn classes and their playbooks.
 * @module
 */
import type { ChurnClass } from '../analytics/early-warning.js'
import type { LifecycleStage } from '../engine/lifecycle/lifecycle-config.js'
import type { Status } from '../engine/metrics/tree.js'

export const ZH = {
  // overview
  'The database holds no orders or events yet: load some with `memberlens ingest`.':
    '数据库中还没有订单或行为数据：请先用 `memberlens ingest` 导入。',
  'Members and purchases — {month}': '会员与购买 — {month}',
  'members (month end)': '会员数 (月末)',
  'new members': '新增会员',
  'active members': '活跃会员数',
  '{share} of members': '占会员 {share}',
  buyers: '购买会员数',
  orders: '订单数',
  'net revenue': '消费金额',
  returns: '退货金额',
  'average order value': '客单价',
  'repurchase rate': '复购率',
  'All time ({first} … {last})': '全部时间 ({first} … {last})',
  members: '会员数',
  identities: '身份标识数',
  'members merged': '已合并会员',
  // metrics, tree
  target: '目标',
  pop: '环比',
  yoy: '同比',
  'core metrics in bold; related metrics and change rates below each; the line shows the last periods':
    '核心指标加粗；其下为相关指标与变化率；曲线为最近各期的走势',
  period: '期间',
  '(none)': '(无)',
  'No orders or events yet: load data with `memberlens ingest` first.':
    '还没有订单或行为数据：请先用 `memberlens ingest` 导入。',
  'Drivers of {core} across {groups} groups, {from} … {to}':
    '{core} 的驱动因素：{groups} 个分组，{from} … {to}',
  'joint model R²': '联合模型 R²',
  metric: '指标',
  importance: '重要性',
  name: '名称',
  family: '类别',
  unit: '单位',
  better: '方向',
  formula: '公式',
  'Trend forms of any metric: <id>:pop (vs previous period), <id>:yoy (vs last year), <id>:avgN (rolling mean).':
    '任一指标的趋势形式：<id>:pop（环比）、<id>:yoy（同比）、<id>:avgN（N 期移动平均）。',
  // lifecycle
  'Lifecycle stages as of {asOf}': '生命周期阶段（截至 {asOf}）',
  '{n} members': '{n} 名会员',
  stage: '阶段',
  share: '占比',
  'recommended action': '建议动作',
  'Stage flows {from} → {to}': '阶段流转 {from} → {to}',
  from: '从',
  to: '到',
  'not churned at start': '期初未流失',
  churned: '已流失',
  'churn rate': '流失率',
  reactivated: '已召回',
  // rfm
  'RFM movement {from} → {to}': 'RFM 分群迁移 {from} → {to}',
  'RFM segments as of {asOf}': 'RFM 分群（截至 {asOf}）',
  segment: '分群',
  revenue: '收入',
  'of revenue': '收入占比',
  'avg days since': '平均距今天数',
  'avg orders': '平均订单数',
  'avg value': '平均消费',
  // cohorts
  cohort: '同期群',
  average: '平均',
  'Unbounded retention · {anchor} cohorts by {grain} · activity {activity} · as of {asOf}':
    '无界留存 · 按{grain}划分的{anchor}同期群 · 活跃口径 {activity} · 截至 {asOf}',
  'N-period retention · {anchor} cohorts by {grain} · activity {activity} · as of {asOf}':
    '第 N 期留存 · 按{grain}划分的{anchor}同期群 · 活跃口径 {activity} · 截至 {asOf}',
  'Blank cells: the period has not ended. Averages weight complete cells by cohort size.':
    '空白单元格：该期尚未结束。平均值按同期群人数对已完成的单元格加权。',
  '{from}–{to} d': '{from}–{to} 天',
  dimension: '维度',
  '{rate} of {n}': '{n} 人中 {rate}',
  channel: '渠道',
  spend: '投放费用',
  'cost/member': '人均获客成本',
  'LTV to date': '迄今 LTV',
  'payback period': '回本期',
  'not yet': '尚未回本',
  // risk
  'Risk scores {run} (model {model}, as of {asOf})':
    '流失风险评分 {run}（模型 {model}，截至 {asOf}）',
  'members scored': '已评分会员',
  'mean risk': '平均风险',
  'high churn risk (score ≥ 50 %)': '高流失风险（评分 ≥ 50%）',
  'Churn class (all members) and playbook': '流失类型（全部会员）与挽回策略',
  class: '类型',
  'risk ≥ 50 %': '风险 ≥ 50%',
  playbook: '挽回策略',
  'Early-warning signals raised': '触发的预警信号',
  signal: '信号',
  'Top {n} at risk': '风险最高的 {n} 名会员',
  'Top {n} at risk by CLV at risk': '风险 CLV 最高的 {n} 名会员',
  'scores {run}': '评分 {run}',
  '(no CLV run: `memberlens clv fit` adds CLV at risk)':
    '（尚无 CLV 运行：`memberlens clv fit` 后可显示风险 CLV）',
  member: '会员',
  risk: '风险',
  signals: '信号',
  'reason codes': '原因',
  'churn class → playbook': '流失类型 → 挽回策略',
  'CLV at risk': '风险 CLV',
  'Churn-risk model {run}': '流失风险模型 {run}',
  label: '标签',
  'churned = no purchase in the next {days} days': '流失 = 未来 {days} 天内无购买',
  'trained at': '训练时点',
  '{cutoff} on {n} members (churned {rate})': '{cutoff}，{n} 名会员（流失 {rate}）',
  'evaluated at': '评估时点',
  '{cutoff} on {n} members (churned {rate}), a period the model never saw':
    '{cutoff}，{n} 名会员（流失 {rate}），模型未见过的时期',
  'scores as of': '评分时点',
  'Evaluation on the later period': '在后续时期上的评估',
  score: '评分',
  'top-decile lift': '前 10% 提升度',
  model: '模型',
  'recency only': '仅按最近购买',
  'Calibration by decile (model, highest scores first)': '按十分位的校准（模型，评分从高到低）',
  decile: '十分位',
  'mean score': '平均评分',
  'observed churn': '实际流失',
  'Weights on standardised features (largest first)': '标准化特征的权重（从大到小）',
  feature: '特征',
  weight: '权重',
  // survival
  'Time to churn ({days} days without a purchase) from {origin}, as of {asOf}':
    '流失前的时长（{days} 天未购买即流失），起点 {origin}，截至 {asOf}',
  group: '分组',
  'median days': '中位天数',
  '{level}% CI': '{level}% 置信区间',
  all: '全部',
  'not reached': '未达到',
  open: '无上限',
  // funnel
  'No member reached the first step in the range.': '该时间范围内没有会员到达第一步。',
  '({from} … {to}, window {days} d)': '（{from} … {to}，窗口 {days} 天）',
  Funnel: '漏斗',
  step: '步骤',
  'of previous': '占上一步',
  'of first': '占第一步',
  'drop-off': '流失人数',
  'median time': '中位耗时',
  // segments
  'Saved segment {name}.': '已保存分群 {name}。',
  'No saved segments yet: memberlens segments save --help':
    '还没有保存的分群：memberlens segments save --help',
  description: '说明',
  conditions: '条件',
  updated: '更新时间',
  '(all members)': '(全部会员)',
  'members (as of {asOf}): {n}': '会员数（截至 {asOf}）：{n}',
  // clv
  'CLV run {run}': 'CLV 运行 {run}',
  'calibration end': '校准期截止',
  'origin {origin}, unit {unit}': '起点 {origin}，单位 {unit}',
  horizon: '预测期',
  '{months} months, discount {rate} a year, margin {margin}':
    '{months} 个月，年折现率 {rate}，毛利率 {margin}',
  '{model} parameters': '{model} 参数',
  'log-likelihood': '对数似然',
  'distinct summaries': '不同汇总数',
  'Gamma–Gamma spend parameters': 'Gamma–Gamma 消费参数',
  'repeat buyers fitted': '参与拟合的复购会员',
  'frequency/spend corr.': '频次/金额相关系数',
  '(> 0.3: Gamma–Gamma assumption doubtful)': '（> 0.3：Gamma–Gamma 假设存疑）',
  '(ok: ≈ independent)': '（正常：近似独立）',
  'CLV distribution': 'CLV 分布',
  total: '合计',
  mean: '均值',
  median: '中位数',
  'top 10 % share': '前 10% 占比',
  'mean P(alive)': '平均存活概率 P(alive)',
  'expected purchases (horizon)': '预期购买次数（预测期内）',
  'value already lost (model: Σ (1 − P(alive)) × value if active)':
    '已流失价值（模型：Σ (1 − P(alive)) × 存活时价值）',
  'members with P(alive) < 50 %': 'P(alive) < 50% 的会员',
  'value if active {v}': '存活时价值 {v}',
  'Member scores — run {run} (by {order})': '会员评分 — 运行 {run}（按 {order} 排序）',
  calibration: '校准期',
  holdout: '验证期',
  'actual {a}, predicted {p}': '实际 {a}，预测 {p}',
  'Holdout validation — {model}': '验证期检验 — {model}',
  days: '天',
  weeks: '周',
  day: '天',
  week: '周',
  'holdout transactions': '验证期交易数',
  'holdout value': '验证期金额',
  'per member': '每会员误差',
  bias: '偏差',
  'Mean holdout transactions by calibration frequency x': '按校准期频次 x 的验证期平均交易数',
  actual: '实际',
  predicted: '预测',
  'Cumulative transactions since {start} (tracking)': '自 {start} 起的累计交易数（跟踪）',
} as const satisfies Record<string, string>

export type Message = keyof typeof ZH

/** The tree's node statuses. */
export const STATUS_NAMES: Readonly<Record<Status, { en: string; zh: string }>> = {
  on_track: { en: 'on track', zh: '达标' },
  at_risk: { en: 'at risk', zh: '有风险' },
  off_track: { en: 'off track', zh: '未达标' },
  no_target: { en: 'no target', zh: '无目标' },
  no_data: { en: 'no data', zh: '无数据' },
}

/** The default recommended action of each lifecycle stage in Chinese (the English ones are the engine's). */
export const STAGE_ACTIONS_ZH: Readonly<Record<LifecycleStage, string>> = {
  registered_not_purchased: '新人首单券与新手引导内容',
  new: '新客培育旅程，并在最初几周内发放第二单优惠券',
  active: '常规激励：积分、会员日优惠、个性化推荐',
  loyal: '专属服务、等级权益、抢先体验与推荐有礼邀请',
  at_risk: '预警触达：按流失原因匹配定向优惠的提醒',
  dormant: '召回活动（按流失原因发券、关怀电话或内容），并与对照组比较',
  churned: '仅做低成本召回（如季节性活动），不纳入高频发送',
  reactivated: '回归欢迎旅程与跟进优惠，把回归变成习惯',
}

/** Churn classes of the risk model, with their win-back playbooks. */
export const CHURN_CLASS_NAMES: Readonly<
  Record<ChurnClass, { en: string; zh: string; playbook: { en: string; zh: string } }>
> = {
  'high-value-at-risk': {
    en: 'high-value-at-risk',
    zh: '高价值流失风险',
    playbook: { en: '1:1 VIP outreach', zh: '一对一 VIP 专属触达' },
  },
  'service-dissatisfied': {
    en: 'service-dissatisfied',
    zh: '服务不满',
    playbook: { en: 'care call / service recovery', zh: '关怀电话 / 服务补救' },
  },
  'price-sensitive': {
    en: 'price-sensitive',
    zh: '价格敏感',
    playbook: { en: 'targeted discount', zh: '定向折扣' },
  },
  disengaged: {
    en: 'disengaged',
    zh: '参与度低',
    playbook: { en: 'personalised recommendation / content', zh: '个性化推荐 / 内容' },
  },
}
