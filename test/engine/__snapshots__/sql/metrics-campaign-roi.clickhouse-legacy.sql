-- 1: "Asia/Shanghai"
-- 2: "Asia/Shanghai"
-- 3: "Asia/Shanghai"
-- 4: "Asia/Shanghai"
-- 5: "treatment"
-- 6: "holdout"
-- 7: "treatment"
-- 8: "holdout"
-- 9: "treatment"
-- 10: "holdout"
-- 11: "2024-01-01 00:00:00"
-- 12: "2024-04-01 00:00:00"
-- 13: "2024-01-01 00:00:00"
-- 14: "2024-04-01 00:00:00"
-- 15: "2024-01-01 00:00:00"
-- 16: "2024-04-01 00:00:00"
-- 17: "2024-01-01 00:00:00"
-- 18: "2024-01-01 00:00:00"
-- 19: "2024-03-01 00:00:00"
SELECT g.period, "g"."d0", CAST("g"."mv_campaign_incremental_orders" AS DOUBLE) AS "v0", CAST("g"."mv_campaign_cost" AS DOUBLE) AS "v1", (CAST(("g"."mv_campaign_incremental_revenue" + "g"."mv_campaign_measured_coupons" - "g"."mv_campaign_measured_cost") AS DOUBLE) / NULLIF("g"."mv_campaign_measured_cost", 0)) AS "v2"
    FROM (SELECT g.period AS period, "g"."d0" AS "d0", "g"."mv_campaign_incremental_orders" AS "mv_campaign_incremental_orders", "g"."mv_campaign_cost" AS "mv_campaign_cost", "g"."mv_campaign_incremental_revenue" AS "mv_campaign_incremental_revenue", "g"."mv_campaign_measured_coupons" AS "mv_campaign_measured_coupons", "m_campaign_measured_cost"."v" AS "mv_campaign_measured_cost"
        FROM (SELECT g.period AS period, "g"."d0" AS "d0", "g"."mv_campaign_incremental_orders" AS "mv_campaign_incremental_orders", "g"."mv_campaign_cost" AS "mv_campaign_cost", "g"."mv_campaign_incremental_revenue" AS "mv_campaign_incremental_revenue", "m_campaign_measured_coupons"."v" AS "mv_campaign_measured_coupons"
        FROM (SELECT g.period AS period, "g"."d0" AS "d0", "g"."mv_campaign_incremental_orders" AS "mv_campaign_incremental_orders", "g"."mv_campaign_cost" AS "mv_campaign_cost", "m_campaign_incremental_revenue"."v" AS "mv_campaign_incremental_revenue"
        FROM (SELECT g.period AS period, "g"."d0" AS "d0", "g"."mv_campaign_incremental_orders" AS "mv_campaign_incremental_orders", "m_campaign_cost"."v" AS "mv_campaign_cost"
        FROM (SELECT g.period AS period, "g"."d0" AS "d0", "m_campaign_incremental_orders"."v" AS "mv_campaign_incremental_orders"
        FROM (SELECT sp.period, "d0" FROM (SELECT addMonths(toDateTime(CAST('2024-01-01 00:00:00' AS TIMESTAMP)), toInt64(number) * 1) AS period
      FROM numbers(toUInt64(greatest(0, intDiv(dateDiff('month', toDateTime(CAST('2024-01-01 00:00:00' AS TIMESTAMP)), toDateTime(CAST('2024-03-01 00:00:00' AS TIMESTAMP))), 1) + 1)))) sp CROSS JOIN (SELECT v AS "d0" FROM (SELECT DISTINCT "campaign_id" AS v FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) AS "src_campaign_units") x) "rd0") g LEFT JOIN (SELECT c.period AS period, "c"."d0", CASE WHEN min(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN c.complete END) = 1
      THEN sum(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN (CAST("c"."o_t" AS DOUBLE) - CAST("c"."o_h" AS DOUBLE) * "c"."n_t" / "c"."n_h") END) END AS v
        FROM (SELECT r.period AS period, "r"."d0", r.campaign_id AS campaign_id,
      sum(r.n_t) AS n_t, sum(r.n_h) AS n_h, sum(r.o_t) AS o_t, sum(r.o_h) AS o_h, sum(r.r_t) AS r_t, sum(r.r_h) AS r_h,
      sum(r.cost) AS cost, sum(r.coupons) AS coupons, min(r.complete) AS complete
    FROM (SELECT toDateTime(toStartOfMonth(o.ts)) AS period, "o"."d0", o.campaign_id AS campaign_id,
      CAST(CASE WHEN o.arm = 'treatment' THEN 1 ELSE 0 END AS DOUBLE) AS n_t, CAST(CASE WHEN o.arm = 'holdout' THEN 1 ELSE 0 END AS DOUBLE) AS n_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.orders ELSE 0 END AS DOUBLE) AS o_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.orders ELSE 0 END AS DOUBLE) AS o_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_h,
      CAST(0 AS DECIMAL(38, 6)) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons, CAST(o.complete AS DOUBLE) AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.arm AS arm, x.ts AS ts, x.complete AS complete, "x"."d0",
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.n ELSE 0 END) AS orders,
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.x ELSE CAST(0 AS DECIMAL(38, 6)) END) AS revenue
    FROM (SELECT u.campaign_id AS campaign_id, u.member_id AS member_id, u.arm AS arm, u.ts AS ts,
      u.complete AS complete, "u"."campaign_id" AS "d0"
    FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) u
    WHERE u.member_id IS NOT NULL AND u.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND u.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) x LEFT JOIN (SELECT member_id, ts, 1 AS n, CAST(amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') AS src_purchases
    UNION ALL SELECT member_id, ts, 0 AS n, CAST(-amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", 'Asia/Shanghai'))) AS ts, amount, order_id FROM returns) AS src_returns) f ON f.member_id = x.member_id
    GROUP BY x.campaign_id, x.member_id, x.arm, x.ts, x.complete, "x"."d0") o UNION ALL SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "s"."campaign_id" AS "d0", s.campaign_id AS campaign_id,
      CAST(0 AS DOUBLE) AS n_t, CAST(0 AS DOUBLE) AS n_h, CAST(0 AS DOUBLE) AS o_t, CAST(0 AS DOUBLE) AS o_h, CAST(0 AS DECIMAL(38, 6)) AS r_t, CAST(0 AS DECIMAL(38, 6)) AS r_h,
      s.cost AS cost, s.coupons AS coupons, CAST(1 AS DOUBLE) AS complete
    FROM (SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, c.ts AS ts, k.cost AS cost, k.coupons AS coupons
    FROM (SELECT t.campaign_id AS campaign_id, t.member_id AS member_id, coalesce(CAST(t.cost AS DECIMAL(38, 6)), CAST(0 AS DECIMAL(38, 6))) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM touches t
    UNION ALL SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, CAST(k.face_value AS DECIMAL(38, 6)) AS cost, CAST(k.face_value AS DECIMAL(38, 6)) AS coupons
      FROM coupons k WHERE k.redeemed_at IS NOT NULL UNION ALL SELECT e.source_id AS campaign_id, e.member_id AS member_id,
        CAST(CAST(e.points AS DECIMAL(38, 6)) * coalesce((SELECT CAST(value AS DECIMAL(38, 6)) FROM loyalty_sync_state WHERE key = 'point_value'), CAST(0 AS DECIMAL(38, 6))) AS DECIMAL(38, 6)) AS cost,
        CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM loyalty_entries e WHERE e.source_type = 'campaign') k
    JOIN (SELECT campaign_id, min(ts) AS ts FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) AS src_campaign_units GROUP BY campaign_id) c ON c.campaign_id = k.campaign_id) s
    WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) r
    WHERE r.period >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND r.period < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    GROUP BY r.period, "r"."d0", r.campaign_id) c
        GROUP BY c.period, "c"."d0") AS "m_campaign_incremental_orders" ON "m_campaign_incremental_orders"."period" = g.period AND "m_campaign_incremental_orders"."d0" IS NOT DISTINCT FROM "g"."d0") g LEFT JOIN (SELECT c.period AS period, "c"."d0", sum("c"."cost") AS v
        FROM (SELECT r.period AS period, "r"."d0", r.campaign_id AS campaign_id,
      sum(r.n_t) AS n_t, sum(r.n_h) AS n_h, sum(r.o_t) AS o_t, sum(r.o_h) AS o_h, sum(r.r_t) AS r_t, sum(r.r_h) AS r_h,
      sum(r.cost) AS cost, sum(r.coupons) AS coupons, min(r.complete) AS complete
    FROM (SELECT toDateTime(toStartOfMonth(o.ts)) AS period, "o"."d0", o.campaign_id AS campaign_id,
      CAST(CASE WHEN o.arm = 'treatment' THEN 1 ELSE 0 END AS DOUBLE) AS n_t, CAST(CASE WHEN o.arm = 'holdout' THEN 1 ELSE 0 END AS DOUBLE) AS n_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.orders ELSE 0 END AS DOUBLE) AS o_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.orders ELSE 0 END AS DOUBLE) AS o_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_h,
      CAST(0 AS DECIMAL(38, 6)) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons, CAST(o.complete AS DOUBLE) AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.arm AS arm, x.ts AS ts, x.complete AS complete, "x"."d0",
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.n ELSE 0 END) AS orders,
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.x ELSE CAST(0 AS DECIMAL(38, 6)) END) AS revenue
    FROM (SELECT u.campaign_id AS campaign_id, u.member_id AS member_id, u.arm AS arm, u.ts AS ts,
      u.complete AS complete, "u"."campaign_id" AS "d0"
    FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) u
    WHERE u.member_id IS NOT NULL AND u.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND u.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) x LEFT JOIN (SELECT member_id, ts, 1 AS n, CAST(amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') AS src_purchases
    UNION ALL SELECT member_id, ts, 0 AS n, CAST(-amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", 'Asia/Shanghai'))) AS ts, amount, order_id FROM returns) AS src_returns) f ON f.member_id = x.member_id
    GROUP BY x.campaign_id, x.member_id, x.arm, x.ts, x.complete, "x"."d0") o UNION ALL SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "s"."campaign_id" AS "d0", s.campaign_id AS campaign_id,
      CAST(0 AS DOUBLE) AS n_t, CAST(0 AS DOUBLE) AS n_h, CAST(0 AS DOUBLE) AS o_t, CAST(0 AS DOUBLE) AS o_h, CAST(0 AS DECIMAL(38, 6)) AS r_t, CAST(0 AS DECIMAL(38, 6)) AS r_h,
      s.cost AS cost, s.coupons AS coupons, CAST(1 AS DOUBLE) AS complete
    FROM (SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, c.ts AS ts, k.cost AS cost, k.coupons AS coupons
    FROM (SELECT t.campaign_id AS campaign_id, t.member_id AS member_id, coalesce(CAST(t.cost AS DECIMAL(38, 6)), CAST(0 AS DECIMAL(38, 6))) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM touches t
    UNION ALL SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, CAST(k.face_value AS DECIMAL(38, 6)) AS cost, CAST(k.face_value AS DECIMAL(38, 6)) AS coupons
      FROM coupons k WHERE k.redeemed_at IS NOT NULL UNION ALL SELECT e.source_id AS campaign_id, e.member_id AS member_id,
        CAST(CAST(e.points AS DECIMAL(38, 6)) * coalesce((SELECT CAST(value AS DECIMAL(38, 6)) FROM loyalty_sync_state WHERE key = 'point_value'), CAST(0 AS DECIMAL(38, 6))) AS DECIMAL(38, 6)) AS cost,
        CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM loyalty_entries e WHERE e.source_type = 'campaign') k
    JOIN (SELECT campaign_id, min(ts) AS ts FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) AS src_campaign_units GROUP BY campaign_id) c ON c.campaign_id = k.campaign_id) s
    WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) r
    WHERE r.period >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND r.period < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    GROUP BY r.period, "r"."d0", r.campaign_id) c
        GROUP BY c.period, "c"."d0") AS "m_campaign_cost" ON "m_campaign_cost"."period" = g.period AND "m_campaign_cost"."d0" IS NOT DISTINCT FROM "g"."d0") g LEFT JOIN (SELECT c.period AS period, "c"."d0", CASE WHEN min(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN c.complete END) = 1
      THEN sum(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN (CAST("c"."r_t" AS DOUBLE) - CAST("c"."r_h" AS DOUBLE) * "c"."n_t" / "c"."n_h") END) END AS v
        FROM (SELECT r.period AS period, "r"."d0", r.campaign_id AS campaign_id,
      sum(r.n_t) AS n_t, sum(r.n_h) AS n_h, sum(r.o_t) AS o_t, sum(r.o_h) AS o_h, sum(r.r_t) AS r_t, sum(r.r_h) AS r_h,
      sum(r.cost) AS cost, sum(r.coupons) AS coupons, min(r.complete) AS complete
    FROM (SELECT toDateTime(toStartOfMonth(o.ts)) AS period, "o"."d0", o.campaign_id AS campaign_id,
      CAST(CASE WHEN o.arm = 'treatment' THEN 1 ELSE 0 END AS DOUBLE) AS n_t, CAST(CASE WHEN o.arm = 'holdout' THEN 1 ELSE 0 END AS DOUBLE) AS n_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.orders ELSE 0 END AS DOUBLE) AS o_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.orders ELSE 0 END AS DOUBLE) AS o_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_h,
      CAST(0 AS DECIMAL(38, 6)) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons, CAST(o.complete AS DOUBLE) AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.arm AS arm, x.ts AS ts, x.complete AS complete, "x"."d0",
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.n ELSE 0 END) AS orders,
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.x ELSE CAST(0 AS DECIMAL(38, 6)) END) AS revenue
    FROM (SELECT u.campaign_id AS campaign_id, u.member_id AS member_id, u.arm AS arm, u.ts AS ts,
      u.complete AS complete, "u"."campaign_id" AS "d0"
    FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) u
    WHERE u.member_id IS NOT NULL AND u.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND u.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) x LEFT JOIN (SELECT member_id, ts, 1 AS n, CAST(amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') AS src_purchases
    UNION ALL SELECT member_id, ts, 0 AS n, CAST(-amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", 'Asia/Shanghai'))) AS ts, amount, order_id FROM returns) AS src_returns) f ON f.member_id = x.member_id
    GROUP BY x.campaign_id, x.member_id, x.arm, x.ts, x.complete, "x"."d0") o UNION ALL SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "s"."campaign_id" AS "d0", s.campaign_id AS campaign_id,
      CAST(0 AS DOUBLE) AS n_t, CAST(0 AS DOUBLE) AS n_h, CAST(0 AS DOUBLE) AS o_t, CAST(0 AS DOUBLE) AS o_h, CAST(0 AS DECIMAL(38, 6)) AS r_t, CAST(0 AS DECIMAL(38, 6)) AS r_h,
      s.cost AS cost, s.coupons AS coupons, CAST(1 AS DOUBLE) AS complete
    FROM (SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, c.ts AS ts, k.cost AS cost, k.coupons AS coupons
    FROM (SELECT t.campaign_id AS campaign_id, t.member_id AS member_id, coalesce(CAST(t.cost AS DECIMAL(38, 6)), CAST(0 AS DECIMAL(38, 6))) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM touches t
    UNION ALL SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, CAST(k.face_value AS DECIMAL(38, 6)) AS cost, CAST(k.face_value AS DECIMAL(38, 6)) AS coupons
      FROM coupons k WHERE k.redeemed_at IS NOT NULL UNION ALL SELECT e.source_id AS campaign_id, e.member_id AS member_id,
        CAST(CAST(e.points AS DECIMAL(38, 6)) * coalesce((SELECT CAST(value AS DECIMAL(38, 6)) FROM loyalty_sync_state WHERE key = 'point_value'), CAST(0 AS DECIMAL(38, 6))) AS DECIMAL(38, 6)) AS cost,
        CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM loyalty_entries e WHERE e.source_type = 'campaign') k
    JOIN (SELECT campaign_id, min(ts) AS ts FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) AS src_campaign_units GROUP BY campaign_id) c ON c.campaign_id = k.campaign_id) s
    WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) r
    WHERE r.period >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND r.period < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    GROUP BY r.period, "r"."d0", r.campaign_id) c
        GROUP BY c.period, "c"."d0") AS "m_campaign_incremental_revenue" ON "m_campaign_incremental_revenue"."period" = g.period AND "m_campaign_incremental_revenue"."d0" IS NOT DISTINCT FROM "g"."d0") g LEFT JOIN (SELECT c.period AS period, "c"."d0", CASE WHEN min(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN c.complete END) = 1
      THEN sum(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN "c"."coupons" END) END AS v
        FROM (SELECT r.period AS period, "r"."d0", r.campaign_id AS campaign_id,
      sum(r.n_t) AS n_t, sum(r.n_h) AS n_h, sum(r.o_t) AS o_t, sum(r.o_h) AS o_h, sum(r.r_t) AS r_t, sum(r.r_h) AS r_h,
      sum(r.cost) AS cost, sum(r.coupons) AS coupons, min(r.complete) AS complete
    FROM (SELECT toDateTime(toStartOfMonth(o.ts)) AS period, "o"."d0", o.campaign_id AS campaign_id,
      CAST(CASE WHEN o.arm = 'treatment' THEN 1 ELSE 0 END AS DOUBLE) AS n_t, CAST(CASE WHEN o.arm = 'holdout' THEN 1 ELSE 0 END AS DOUBLE) AS n_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.orders ELSE 0 END AS DOUBLE) AS o_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.orders ELSE 0 END AS DOUBLE) AS o_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_h,
      CAST(0 AS DECIMAL(38, 6)) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons, CAST(o.complete AS DOUBLE) AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.arm AS arm, x.ts AS ts, x.complete AS complete, "x"."d0",
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.n ELSE 0 END) AS orders,
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.x ELSE CAST(0 AS DECIMAL(38, 6)) END) AS revenue
    FROM (SELECT u.campaign_id AS campaign_id, u.member_id AS member_id, u.arm AS arm, u.ts AS ts,
      u.complete AS complete, "u"."campaign_id" AS "d0"
    FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) u
    WHERE u.member_id IS NOT NULL AND u.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND u.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) x LEFT JOIN (SELECT member_id, ts, 1 AS n, CAST(amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') AS src_purchases
    UNION ALL SELECT member_id, ts, 0 AS n, CAST(-amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", 'Asia/Shanghai'))) AS ts, amount, order_id FROM returns) AS src_returns) f ON f.member_id = x.member_id
    GROUP BY x.campaign_id, x.member_id, x.arm, x.ts, x.complete, "x"."d0") o UNION ALL SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "s"."campaign_id" AS "d0", s.campaign_id AS campaign_id,
      CAST(0 AS DOUBLE) AS n_t, CAST(0 AS DOUBLE) AS n_h, CAST(0 AS DOUBLE) AS o_t, CAST(0 AS DOUBLE) AS o_h, CAST(0 AS DECIMAL(38, 6)) AS r_t, CAST(0 AS DECIMAL(38, 6)) AS r_h,
      s.cost AS cost, s.coupons AS coupons, CAST(1 AS DOUBLE) AS complete
    FROM (SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, c.ts AS ts, k.cost AS cost, k.coupons AS coupons
    FROM (SELECT t.campaign_id AS campaign_id, t.member_id AS member_id, coalesce(CAST(t.cost AS DECIMAL(38, 6)), CAST(0 AS DECIMAL(38, 6))) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM touches t
    UNION ALL SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, CAST(k.face_value AS DECIMAL(38, 6)) AS cost, CAST(k.face_value AS DECIMAL(38, 6)) AS coupons
      FROM coupons k WHERE k.redeemed_at IS NOT NULL UNION ALL SELECT e.source_id AS campaign_id, e.member_id AS member_id,
        CAST(CAST(e.points AS DECIMAL(38, 6)) * coalesce((SELECT CAST(value AS DECIMAL(38, 6)) FROM loyalty_sync_state WHERE key = 'point_value'), CAST(0 AS DECIMAL(38, 6))) AS DECIMAL(38, 6)) AS cost,
        CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM loyalty_entries e WHERE e.source_type = 'campaign') k
    JOIN (SELECT campaign_id, min(ts) AS ts FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) AS src_campaign_units GROUP BY campaign_id) c ON c.campaign_id = k.campaign_id) s
    WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) r
    WHERE r.period >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND r.period < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    GROUP BY r.period, "r"."d0", r.campaign_id) c
        GROUP BY c.period, "c"."d0") AS "m_campaign_measured_coupons" ON "m_campaign_measured_coupons"."period" = g.period AND "m_campaign_measured_coupons"."d0" IS NOT DISTINCT FROM "g"."d0") g LEFT JOIN (SELECT c.period AS period, "c"."d0", CASE WHEN min(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN c.complete END) = 1
      THEN sum(CASE WHEN (c.n_t > 0 AND c.n_h > 0) THEN "c"."cost" END) END AS v
        FROM (SELECT r.period AS period, "r"."d0", r.campaign_id AS campaign_id,
      sum(r.n_t) AS n_t, sum(r.n_h) AS n_h, sum(r.o_t) AS o_t, sum(r.o_h) AS o_h, sum(r.r_t) AS r_t, sum(r.r_h) AS r_h,
      sum(r.cost) AS cost, sum(r.coupons) AS coupons, min(r.complete) AS complete
    FROM (SELECT toDateTime(toStartOfMonth(o.ts)) AS period, "o"."d0", o.campaign_id AS campaign_id,
      CAST(CASE WHEN o.arm = 'treatment' THEN 1 ELSE 0 END AS DOUBLE) AS n_t, CAST(CASE WHEN o.arm = 'holdout' THEN 1 ELSE 0 END AS DOUBLE) AS n_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.orders ELSE 0 END AS DOUBLE) AS o_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.orders ELSE 0 END AS DOUBLE) AS o_h,
      CAST(CASE WHEN o.arm = 'treatment' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_t, CAST(CASE WHEN o.arm = 'holdout' THEN o.revenue ELSE CAST(0 AS DECIMAL(38, 6)) END AS DECIMAL(38, 6)) AS r_h,
      CAST(0 AS DECIMAL(38, 6)) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons, CAST(o.complete AS DOUBLE) AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.arm AS arm, x.ts AS ts, x.complete AS complete, "x"."d0",
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.n ELSE 0 END) AS orders,
      sum(CASE WHEN f.ts >= x.ts AND f.ts < addDays(x.ts, 30) THEN f.x ELSE CAST(0 AS DECIMAL(38, 6)) END) AS revenue
    FROM (SELECT u.campaign_id AS campaign_id, u.member_id AS member_id, u.arm AS arm, u.ts AS ts,
      u.complete AS complete, "u"."campaign_id" AS "d0"
    FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) u
    WHERE u.member_id IS NOT NULL AND u.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND u.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) x LEFT JOIN (SELECT member_id, ts, 1 AS n, CAST(amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("ordered_at", timeZoneOffset(toTimeZone("ordered_at", 'Asia/Shanghai'))) AS ts, net_amount AS amount, channel, store_id, order_id, coupon_id
        FROM orders WHERE status <> 'cancelled') AS src_purchases
    UNION ALL SELECT member_id, ts, 0 AS n, CAST(-amount AS DECIMAL(38, 6)) AS x FROM (SELECT member_id, addSeconds("returned_at", timeZoneOffset(toTimeZone("returned_at", 'Asia/Shanghai'))) AS ts, amount, order_id FROM returns) AS src_returns) f ON f.member_id = x.member_id
    GROUP BY x.campaign_id, x.member_id, x.arm, x.ts, x.complete, "x"."d0") o UNION ALL SELECT toDateTime(toStartOfMonth(s.ts)) AS period, "s"."campaign_id" AS "d0", s.campaign_id AS campaign_id,
      CAST(0 AS DOUBLE) AS n_t, CAST(0 AS DOUBLE) AS n_h, CAST(0 AS DOUBLE) AS o_t, CAST(0 AS DOUBLE) AS o_h, CAST(0 AS DECIMAL(38, 6)) AS r_t, CAST(0 AS DECIMAL(38, 6)) AS r_h,
      s.cost AS cost, s.coupons AS coupons, CAST(1 AS DOUBLE) AS complete
    FROM (SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, c.ts AS ts, k.cost AS cost, k.coupons AS coupons
    FROM (SELECT t.campaign_id AS campaign_id, t.member_id AS member_id, coalesce(CAST(t.cost AS DECIMAL(38, 6)), CAST(0 AS DECIMAL(38, 6))) AS cost, CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM touches t
    UNION ALL SELECT k.campaign_id AS campaign_id, k.member_id AS member_id, CAST(k.face_value AS DECIMAL(38, 6)) AS cost, CAST(k.face_value AS DECIMAL(38, 6)) AS coupons
      FROM coupons k WHERE k.redeemed_at IS NOT NULL UNION ALL SELECT e.source_id AS campaign_id, e.member_id AS member_id,
        CAST(CAST(e.points AS DECIMAL(38, 6)) * coalesce((SELECT CAST(value AS DECIMAL(38, 6)) FROM loyalty_sync_state WHERE key = 'point_value'), CAST(0 AS DECIMAL(38, 6))) AS DECIMAL(38, 6)) AS cost,
        CAST(0 AS DECIMAL(38, 6)) AS coupons
      FROM loyalty_entries e WHERE e.source_type = 'campaign') k
    JOIN (SELECT campaign_id, min(ts) AS ts FROM (SELECT f.campaign_id AS campaign_id, f.member_id AS member_id, f.arm AS arm,
      addSeconds(f.t0, timeZoneOffset(toTimeZone(f.t0, 'Asia/Shanghai'))) AS ts,
      CASE WHEN addDays(f.t0, 30) <= greatest((SELECT max(ordered_at) FROM orders), (SELECT max(ts) FROM events))
        THEN 1 ELSE 0 END AS complete
    FROM (SELECT x.campaign_id AS campaign_id, x.member_id AS member_id, min(t.treatment_group) AS arm, x.t0 AS t0
      FROM (SELECT fm.campaign_id AS campaign_id, fm.member_id AS member_id, fm.first_at AS first_at, c.t0 AS t0
          FROM (SELECT campaign_id, member_id, min(sent_at) AS first_at FROM touches
            WHERE member_id IS NOT NULL GROUP BY campaign_id, member_id) fm
          JOIN (SELECT campaign_id, min(sent_at) AS t0 FROM touches GROUP BY campaign_id) c
            ON c.campaign_id = fm.campaign_id) x
      JOIN touches t ON t.campaign_id = x.campaign_id AND t.member_id = x.member_id AND t.sent_at = x.first_at
      GROUP BY x.campaign_id, x.member_id, x.t0) f) AS src_campaign_units GROUP BY campaign_id) c ON c.campaign_id = k.campaign_id) s
    WHERE s.ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND s.ts < CAST('2024-04-01 00:00:00' AS TIMESTAMP)) r
    WHERE r.period >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND r.period < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
    GROUP BY r.period, "r"."d0", r.campaign_id) c
        GROUP BY c.period, "c"."d0") AS "m_campaign_measured_cost" ON "m_campaign_measured_cost"."period" = g.period AND "m_campaign_measured_cost"."d0" IS NOT DISTINCT FROM "g"."d0") g
    ORDER BY g.period, "g"."d0"
