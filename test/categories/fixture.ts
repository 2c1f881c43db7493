/** The hand-checked fixture of the category and purchase-interval tests. */
import type { SqlValue } from '../../src/engine/compiled-query.js'
import type { Database } from '../../src/store/database.js'
import { insert, member } from '../cohorts/fixture-db.js'

function o(id: string, m: number, at: string, channel: string, status = 'paid') {
  return { order_id: id, member_id: m, ordered_at: at, channel, net_amount: 1, status }
}
function line(orderId: string, n: number, category: string | null, qty: number, price: number) {
  return { order_id: orderId, line_no: n, sku: `S${n}`, category, quantity: qty, unit_price: price }
}

/**
 * M1 dairy → bakery → dairy (app, web, app); M2 snacks → dairy (app, app); M3 dairy (store) and a cancelled
 * snacks order; M4 fruit (app) and an order after the instant; M5 an order without lines, then a line
 * without a category (store, store); M6 never bought.
 */
export async function categoryFixture(db: Database): Promise<void> {
  await insert(
    db,
    'members',
    [1, 2, 3, 4, 5, 6].map((id) => member(id, '2026-01-01')),
  )
  await insert(db, 'orders', [
    o('A1', 1, '2026-02-01 10:00', 'app'),
    o('A2', 1, '2026-03-01 10:00', 'web'),
    o('A3', 1, '2026-04-01 10:00', 'app'),
    o('B1', 2, '2026-02-02 10:00', 'app'),
    o('B2', 2, '2026-02-10 10:00', 'app'),
    o('C1', 3, '2026-02-03 10:00', 'store'),
    o('C2', 3, '2026-02-04 10:00', 'app', 'cancelled'),
    o('D1', 4, '2026-02-05 10:00', 'app'),
    o('D2', 4, '2026-07-01 10:00', 'app'),
    o('E1', 5, '2026-02-06 10:00', 'store'),
    o('E2', 5, '2026-02-07 10:00', 'store'),
  ])
  const lines: Record<string, SqlValue>[] = [
    line('A1', 1, 'dairy', 2, 10),
    line('A1', 2, 'bakery', 1, 5),
    line('A2', 1, 'bakery', 3, 10),
    line('A3', 1, 'dairy', 1, 10),
    line('B1', 1, 'snacks', 1, 50),
    line('B2', 1, 'dairy', 1, 8),
    line('C1', 1, 'dairy', 1, 30),
    line('C2', 1, 'snacks', 1, 100),
    line('D1', 1, 'fruit', 1, 12),
    line('D2', 1, 'dairy', 1, 99),
    line('E2', 1, null, 1, 4),
  ]
  await insert(db, 'order_items', lines)
}
