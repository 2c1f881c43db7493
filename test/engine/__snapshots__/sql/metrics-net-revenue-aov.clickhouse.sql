-- 1: "Asia/Shanghai"
-- 2: "Asia/Shanghai"
-- 3: "Asia/Shanghai"
-- 4: "2024-01-01 00:00:00"
-- 5: "2024-04-01 00:00:00"
-- 6: "Shanghai"
-- 7: "Hangzhou"
-- 8: "2024-01-01 00:00:00"
-- 9: "2024-04-01 00:00:00"
-- 10: "Shanghai"
-- 11: "Hangzhou"
-- 12: "2024-01-01 00:00:00"
-- 13: "2024-04-01 00:00:00"
-- 14: "Shanghai"
-- 15: "Hangzhou"
-- 16: "2024-01-01 00:00:00"
-- 17: "2024-01-01 00:00:00"
-- 18: "2024-03-01 00:00:00"
-- 19: "Shanghai"
-- 20: "Hangzhou"
WITH "src_purchases" AS (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", {p1:String}))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled'),
"src_returns" AS (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", {p2:String}))) AS ts, amount, order_id FROM returns),
"src_events" AS (SELECT member_id, addSeconds("ts", timeZoneOffset(toTimeZone("ts", {p3:String}))) AS ts, event_type, session_id, duration_s, channel FROM events),
"src_activity" AS (SELECT member_id, ts FROM src_purchases UNION ALL SELECT member_id, ts FROM src_events),
"m_purchase_amount" AS (SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "m"."registration_channel" AS "d0", sum(s.amount) AS v
        FROM "src_purchases" s JOIN members m ON m.member_id = "s"."member_id"
        WHERE s.ts >= CAST({p4:String} AS TIMESTAMP) AND s.ts < CAST({p5:String} AS TIMESTAMP) AND ("m"."city" IN ({p6:String}, {p7:String}))
        GROUP BY 1, 2),
"m_returns_amount" AS (SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "m"."registration_channel" AS "d0", sum(s.amount) AS v
        FROM "src_returns" s JOIN members m ON m.member_id = "s"."member_id"
        WHERE s.ts >= CAST({p8:String} AS TIMESTAMP) AND s.ts < CAST({p9:String} AS TIMESTAMP) AND ("m"."city" IN ({p10:String}, {p11:String}))
        GROUP BY 1, 2),
"m_orders" AS (SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "m"."registration_channel" AS "d0", count(*) AS v
        FROM "src_purchases" s JOIN members m ON m.member_id = "s"."member_id"
        WHERE s.ts >= CAST({p12:String} AS TIMESTAMP) AND s.ts < CAST({p13:String} AS TIMESTAMP) AND ("m"."city" IN ({p14:String}, {p15:String}))
        GROUP BY 1, 2),
grid AS (SELECT sp.period, "d0" FROM (SELECT addMonths(toDateTime(CAST({p16:String} AS TIMESTAMP)), toInt64(number) * 1) AS period
      FROM numbers(toUInt64(greatest(0, intDiv(dateDiff('month', toDateTime(CAST({p17:String} AS TIMESTAMP)), toDateTime(CAST({p18:String} AS TIMESTAMP))), 1) + 1)))) sp CROSS JOIN (SELECT DISTINCT "m"."registration_channel" AS "d0" FROM members m WHERE "m"."city" IN ({p19:String}, {p20:String})) md)
    SELECT g.period, "g"."d0", CAST((coalesce("m_purchase_amount"."v", 0) - coalesce("m_returns_amount"."v", 0)) AS DOUBLE) AS "v0", (CAST((coalesce("m_purchase_amount"."v", 0) - coalesce("m_returns_amount"."v", 0)) AS DOUBLE) / NULLIF(coalesce("m_orders"."v", 0), 0)) AS "v1"
    FROM grid g LEFT JOIN "m_purchase_amount" ON "m_purchase_amount"."period" = g.period AND "m_purchase_amount"."d0" IS NOT DISTINCT FROM "g"."d0" LEFT JOIN "m_returns_amount" ON "m_returns_amount"."period" = g.period AND "m_returns_amount"."d0" IS NOT DISTINCT FROM "g"."d0" LEFT JOIN "m_orders" ON "m_orders"."period" = g.period AND "m_orders"."d0" IS NOT DISTINCT FROM "g"."d0"
    ORDER BY g.period, "g"."d0"
