/**
 * Static vocabularies of the simulated retailer: cities and stores, product categories, coupons, search
 * terms and the short zh / en texts used in feedback. Plain data, no logic.
 * @module
 */

export interface City {
  readonly city: string
  readonly region: string
  /** Two-letter code used in store ids. */
  readonly code: string
  readonly weight: number
}

/** A fresh-food retailer present in 20 cities; a city's weight is its share of members. */
export const CITIES: readonly City[] = [
  { city: '上海', region: '上海', code: 'SH', weight: 0.12 },
  { city: '北京', region: '北京', code: 'BJ', weight: 0.1 },
  { city: '深圳', region: '广东', code: 'SZ', weight: 0.08 },
  { city: '广州', region: '广东', code: 'GZ', weight: 0.07 },
  { city: '杭州', region: '浙江', code: 'HZ', weight: 0.07 },
  { city: '成都', region: '四川', code: 'CD', weight: 0.06 },
  { city: '南京', region: '江苏', code: 'NJ', weight: 0.05 },
  { city: '苏州', region: '江苏', code: 'SU', weight: 0.05 },
  { city: '武汉', region: '湖北', code: 'WH', weight: 0.05 },
  { city: '重庆', region: '重庆', code: 'CQ', weight: 0.05 },
  { city: '天津', region: '天津', code: 'TJ', weight: 0.04 },
  { city: '西安', region: '陕西', code: 'XA', weight: 0.04 },
  { city: '长沙', region: '湖南', code: 'CS', weight: 0.04 },
  { city: '宁波', region: '浙江', code: 'NB', weight: 0.03 },
  { city: '青岛', region: '山东', code: 'QD', weight: 0.03 },
  { city: '厦门', region: '福建', code: 'XM', weight: 0.03 },
  { city: '郑州', region: '河南', code: 'ZZ', weight: 0.03 },
  { city: '济南', region: '山东', code: 'JN', weight: 0.02 },
  { city: '福州', region: '福建', code: 'FZ', weight: 0.02 },
  { city: '合肥', region: '安徽', code: 'HF', weight: 0.02 },
]

/** Stores per city: about one per 1.7 % of members, at least one. */
export function storesIn(city: City): number {
  return Math.max(1, Math.round(city.weight * 60))
}

/** `attributes.source` values by registration channel (app, mini_program, web, store). */
export const SOURCES: readonly (readonly string[])[] = [
  ['app_store', 'douyin_ad', 'referral', 'xiaohongshu'],
  ['wechat_share', 'moments_ad', 'group_buy', 'referral'],
  ['seo', 'sem', 'referral'],
  ['in_store', 'flyer', 'cashier_invite'],
]

export interface Category {
  readonly name: string
  readonly code: string
  readonly skus: number
  readonly weight: number
}

/** Product categories; fresh goods are sold by weight, hence prices to the cent. */
export const CATEGORIES: readonly Category[] = [
  { name: 'fresh_food', code: 'FF', skus: 180, weight: 0.22 },
  { name: 'fruit_veg', code: 'FV', skus: 150, weight: 0.18 },
  { name: 'dairy', code: 'DA', skus: 80, weight: 0.12 },
  { name: 'bakery', code: 'BK', skus: 60, weight: 0.08 },
  { name: 'beverages', code: 'BV', skus: 120, weight: 0.1 },
  { name: 'snacks', code: 'SN', skus: 140, weight: 0.1 },
  { name: 'frozen', code: 'FZ', skus: 90, weight: 0.07 },
  { name: 'household', code: 'HH', skus: 110, weight: 0.08 },
  { name: 'personal_care', code: 'PC', skus: 90, weight: 0.05 },
]

/** Threshold coupons (满减): spend at least `min` CNY, save `value` CNY. */
export const COUPONS: readonly {
  readonly id: string
  readonly min: number
  readonly value: number
}[] = [
  { id: 'MJ50-10', min: 50, value: 10 },
  { id: 'MJ99-20', min: 99, value: 20 },
  { id: 'MJ199-40', min: 199, value: 40 },
  { id: 'MJ399-80', min: 399, value: 80 },
]

export const SEARCH_TERMS: readonly string[] = [
  '牛奶',
  '鸡蛋',
  '草莓',
  '三文鱼',
  '面包',
  '酸奶',
  '车厘子',
  '纸巾',
  '洗衣液',
  '矿泉水',
  'avocado',
  'coffee',
  'organic',
  '牛排',
  '饺子',
]

export const PAGES: readonly string[] = [
  'home',
  'category',
  'product',
  'cart',
  'promo',
  'member_center',
]

export const RETURN_REASONS: readonly string[] = [
  '商品不新鲜',
  '质量问题',
  'damaged in delivery',
  'wrong item',
  '不想要了',
  'late delivery',
  '少发漏发',
]

/** Review texts by star rating bucket: 1–2, 3, 4–5. */
export const REVIEW_TEXTS: readonly (readonly string[])[] = [
  [
    '配送太慢了',
    '水果不新鲜，很失望',
    'Delivery was late and the milk was warm',
    'Items missing from my order',
    '包装破损',
    'Packaging damaged, very disappointed',
  ],
  ['还可以，一般般', "It's okay, nothing special", '价格有点贵', 'A bit pricey but fine'],
  [
    '新鲜，配送很快',
    'Great quality, fast delivery',
    '包装很好，下次还买',
    'Fresh and tasty, will buy again',
    '性价比高',
    'Good value for money',
  ],
]

export const NPS_COMMENTS: readonly (readonly string[])[] = [
  ['客服不解决问题', 'Too many delivery problems', '退款太慢'],
  ['还行', 'Fine overall'],
  ['会推荐给朋友', 'Love the membership benefits', '会员价很划算'],
]

export const COMPLAINT_TEXTS: readonly string[] = [
  '订单少了一件商品',
  '配送员态度不好',
  '退款太慢了',
  'Refund still not received after a week',
  'Wrong item delivered',
  '优惠券无法使用',
  'Coupon could not be applied at checkout',
  '投诉：收到的鱼不新鲜',
]

export const TICKET_TEXTS: readonly string[] = [
  '如何修改收货地址？',
  'How do I change my delivery slot?',
  '积分没有到账',
  'Points not credited for my last order',
  '会员卡绑定失败',
  'Cannot link my store card to the app',
  '发票怎么开？',
]

export const SUGGESTION_TEXTS: readonly string[] = [
  '希望增加更多进口水果',
  'Please add more organic options',
  '建议延长营业时间',
  'An English menu in the app would help',
]

export const SOCIAL_TEXTS: readonly string[] = [
  '今天的草莓真不错',
  'Their 11.11 deals were great',
  '又缺货了',
  '会员日折扣力度很大',
  'Checkout queue was long today',
]

export const MESSAGE_BOARD_TEXTS: readonly string[] = [
  '门店什么时候有新品？',
  'Will the store open on holidays?',
  '可以开通更多自提点吗？',
]

export const PROMO_OFFERS: readonly string[] = [
  '满99减20',
  '会员日9折',
  'free delivery over 59',
  '第二件半价',
  'double points',
]
