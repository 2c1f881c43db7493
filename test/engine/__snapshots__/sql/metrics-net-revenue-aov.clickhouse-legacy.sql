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
SELECT g.period, "g"."d0", CAST((coalesce("g"."mv_purchase_amount", 0) - coalesce("g"."mv_returns_amount", 0)) AS DOUBLE) AS "v0", (CAST((coalesce("g"."mv_purchase_amount", 0) - coalesce("g"."mv_returns_amount", 0)) AS DOUBLE) / NULLIF(coalesce("g"."mv_orders", 0), 0)) AS "v1"
    FROM (SELECT g.period AS period, "g"."d0" AS "d0", "g"."mv_purchase_amount" AS "mv_purchase_amount", "g"."mv_returns_amount" AS "mv_returns_amount", "m_orders"."v" AS "mv_orders"
        FROM (SELECT g.period AS period, "g"."d0" AS "d0", "g"."mv_purchase_amount" AS "mv_purchase_amount", "m_returns_amount"."v" AS "mv_returns_amount"
        FROM (SELECT g.period AS period, "g"."d0" AS "d0", "m_purchase_amount"."v" AS "mv_purchase_amount"
        FROM (SELECT sp.period, "d0" FROM (SELECT addMonths(toDateTime(CAST('2024-01-01 00:00:00' AS TIMESTAMP)), toInt64(number) * 1) AS period
      FROM numbers(toUInt64(greatest(0, intDiv(dateDiff('month', toDateTime(CAST('2024-01-01 00:00:00' AS TIMESTAMP)), toDateTime(CAST('2024-03-01 00:00:00' AS TIMESTAMP))), 1) + 1)))) sp CROSS JOIN (SELECT DISTINCT "m"."registration_channel" AS "d0" FROM members m WHERE "m"."city" IN ('Shanghai', 'Hangzhou')) md) g LEFT JOIN (SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "m"."registration_channel" AS "d0", sum(s.amount) AS v
        FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') s JOIN members m ON m.member_id = "s"."member_id"
        WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP) AND ("m"."city" IN ('Shanghai', 'Hangzhou'))
        GROUP BY toDateTime(toStartOfMonth(s.ts)), "m"."registration_channel") AS "m_purchase_amount" ON "m_purchase_amount"."period" = g.period AND "m_purchase_amount"."d0" IS NOT DISTINCT FROM "g"."d0") g LEFT JOIN (SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "m"."registration_channel" AS "d0", sum(s.amount) AS v
        FROM (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", 'Asia/Shanghai'))) AS ts, amount, order_id FROM returns) s JOIN members m ON m.member_id = "s"."member_id"
        WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP) AND ("m"."city" IN ('Shanghai', 'Hangzhou'))
        GROUP BY toDateTime(toStartOfMonth(s.ts)), "m"."registration_channel") AS "m_returns_amount" ON "m_returns_amount"."period" = g.period AND "m_returns_amount"."d0" IS NOT DISTINCT FROM "g"."d0") g LEFT JOIN (SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "m"."registration_channel" AS "d0", count(*) AS v
        FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') s JOIN members m ON m.member_id = "s"."member_id"
        WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP) AND ("m"."city" IN ('Shanghai', 'Hangzhou'))
        GROUP BY toDateTime(toStartOfMonth(s.ts)), "m"."registration_channel") AS "m_orders" ON "m_orders"."period" = g.period AND "m_orders"."d0" IS NOT DISTINCT FROM "g"."d0") g
    ORDER BY g.period, "g"."d0"
