/**
 * Order lines whose amounts add up exactly to the order's gross amount. Fresh goods are sold by weight,
 * so line totals in arbitrary cents are realistic; the split is done in integer cents.
 * @module
 */
import { CATEGORIES } from './catalog.js'
import { money } from './csv-format.js'
import { ONLINE, type PersonState } from './person-state.js'
import type { Rng } from '../core/random.js'
import type { SimContext } from './sim-context.js'

const MAX_LINES = 12
/** About one line per 60 CNY of basket. */
const CENTS_PER_LINE = 6000
const QUANTITIES = [1, 1, 1, 2, 2, 3]
const weights = new Float64Array(MAX_LINES)

/** Writes the lines of every order in the person's scratch arrays. */
export function writeOrderItems(ctx: SimContext, st: PersonState, rng: Rng): void {
  const w = ctx.out.order_items
  if (!w) return
  for (let o = 0; o < st.nOrders; o++) {
    const gross = st.oGross[o] ?? 0
    const orderId = `${((st.oFlags[o] ?? 0) & ONLINE) !== 0 ? 'O' : 'S'}${st.oSeq[o]}`
    // Every line is worth at least 1.00, so small baskets have fewer lines.
    const lines = Math.max(
      1,
      Math.min(MAX_LINES, 1 + rng.poisson(gross / CENTS_PER_LINE), Math.floor(gross / 100)),
    )
    let wsum = 0
    for (let k = 0; k < lines; k++) {
      const x = rng.gamma(1.5)
      weights[k] = x
      wsum += x
    }
    const spare = gross - 100 * lines
    let left = gross
    for (let k = 0; k < lines; k++) {
      const total = k === lines - 1 ? left : 100 + Math.floor((spare * (weights[k] ?? 0)) / wsum)
      left -= total
      let qty = QUANTITIES[rng.int(QUANTITIES.length)] ?? 1
      if (total % qty !== 0) qty = 1
      const cat = CATEGORIES[rng.pickCumulative(ctx.categoryCum)]
      if (cat === undefined) throw new Error('category index out of range')
      const u = rng.uniform()
      // Popular items are picked more often (a skewed, Zipf-like choice of SKU).
      const sku = `${cat.code}-${String(Math.floor(cat.skus * u * u)).padStart(4, '0')}`
      w.add(`${orderId},${k + 1},${sku},${cat.name},${qty},${money(total / qty)}`)
    }
  }
}
