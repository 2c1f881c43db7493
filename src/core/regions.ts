/**
 * Names of China's provincial-level divisions in English and Chinese, so that a region stored the way Chinese
 * data writes it (浙江, 浙江省, 广西壮族自治区, 北京市) can be shown as "Zhejiang" on an English page, and read
 * back when a person writes it in English. Regions outside the list keep their own text.
 * @module
 */

/** Short Chinese name → English name (pinyin, as the divisions are named in English). */
const PROVINCES: Readonly<Record<string, string>> = {
  北京: 'Beijing',
  天津: 'Tianjin',
  上海: 'Shanghai',
  重庆: 'Chongqing',
  河北: 'Hebei',
  山西: 'Shanxi',
  辽宁: 'Liaoning',
  吉林: 'Jilin',
  黑龙江: 'Heilongjiang',
  江苏: 'Jiangsu',
  浙江: 'Zhejiang',
  安徽: 'Anhui',
  福建: 'Fujian',
  江西: 'Jiangxi',
  山东: 'Shandong',
  河南: 'Henan',
  湖北: 'Hubei',
  湖南: 'Hunan',
  广东: 'Guangdong',
  海南: 'Hainan',
  四川: 'Sichuan',
  贵州: 'Guizhou',
  云南: 'Yunnan',
  陕西: 'Shaanxi',
  甘肃: 'Gansu',
  青海: 'Qinghai',
  台湾: 'Taiwan',
  内蒙古: 'Inner Mongolia',
  广西: 'Guangxi',
  西藏: 'Tibet',
  宁夏: 'Ningxia',
  新疆: 'Xinjiang',
  香港: 'Hong Kong',
  澳门: 'Macau',
}

/** What full names add to the short one: 省, 市, the autonomous regions' and the SARs' suffixes. */
const SUFFIX = /(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$/

/** A region's name in English and Chinese, or undefined when it is not a provincial-level division of China. */
export function regionName(
  value: string,
): { readonly en: string; readonly zh: string } | undefined {
  const text = value.trim()
  const short = text.replace(SUFFIX, '')
  const en = PROVINCES[short] ?? PROVINCES[text]
  return en === undefined ? undefined : { en, zh: text }
}

/** The full names that are not the short name plus 省 or 市. */
const FULL_NAMES: Readonly<Record<string, string>> = {
  内蒙古: '内蒙古自治区',
  广西: '广西壮族自治区',
  西藏: '西藏自治区',
  宁夏: '宁夏回族自治区',
  新疆: '新疆维吾尔自治区',
  香港: '香港特别行政区',
  澳门: '澳门特别行政区',
}

/**
 * The ways Chinese data writes the division a person named in English ("Zhejiang", "zhejiang", "Hong Kong"):
 * its short name and its full names (浙江, 浙江省; 北京, 北京市; 广西, 广西壮族自治区), or undefined when the
 * text is not the English name of a provincial-level division.
 */
export function regionWritings(english: string): readonly string[] | undefined {
  const wanted = english.trim().toLowerCase()
  const short = Object.keys(PROVINCES).find((k) => PROVINCES[k]?.toLowerCase() === wanted)
  if (short === undefined) return undefined
  const full = FULL_NAMES[short]
  return full === undefined ? [short, `${short}省`, `${short}市`] : [short, full]
}
