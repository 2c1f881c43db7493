-- 1: "2024-12-01 00:00:00"
-- 2: "2024-12-01 00:00:00"
-- 3: 365
-- 4: "2024-12-01 00:00:00"
-- 5: "2024-12-01 00:00:00"
-- 6: 365
-- 7: "2024-12-01 00:00:00"
-- 8: 0.2
-- 9: 0.4
-- 10: 0.6
-- 11: 0.8
-- 12: 0.2
-- 13: 0.4
-- 14: 0.6
-- 15: 0.8
-- 16: 0.2
-- 17: 0.4
-- 18: 0.6
-- 19: 0.8
-- 20: 5
-- 21: 1
-- 22: "new"
-- 23: 5
-- 24: 2
-- 25: "potential_loyalist"
-- 26: 5
-- 27: 3
-- 28: "potential_loyalist"
-- 29: 5
-- 30: 4
-- 31: "champions"
-- 32: 5
-- 33: 5
-- 34: "champions"
-- 35: 4
-- 36: 1
-- 37: "promising"
-- 38: 4
-- 39: 2
-- 40: "potential_loyalist"
-- 41: 4
-- 42: 3
-- 43: "potential_loyalist"
-- 44: 4
-- 45: 4
-- 46: "loyal"
-- 47: 4
-- 48: 5
-- 49: "champions"
-- 50: 3
-- 51: 1
-- 52: "about_to_sleep"
-- 53: 3
-- 54: 2
-- 55: "about_to_sleep"
-- 56: 3
-- 57: 3
-- 58: "need_attention"
-- 59: 3
-- 60: 4
-- 61: "loyal"
-- 62: 3
-- 63: 5
-- 64: "loyal"
-- 65: 2
-- 66: 1
-- 67: "hibernating"
-- 68: 2
-- 69: 2
-- 70: "hibernating"
-- 71: 2
-- 72: 3
-- 73: "at_risk"
-- 74: 2
-- 75: 4
-- 76: "at_risk"
-- 77: 2
-- 78: 5
-- 79: "cant_lose_them"
-- 80: 1
-- 81: 1
-- 82: "lost"
-- 83: 1
-- 84: 2
-- 85: "lost"
-- 86: 1
-- 87: 3
-- 88: "at_risk"
-- 89: 1
-- 90: 4
-- 91: "at_risk"
-- 92: 1
-- 93: 5
-- 94: "cant_lose_them"
WITH p AS (SELECT member_id, max(ordered_at) AS last_ts, count(*) AS frequency, sum(net_amount) AS gross
      FROM orders WHERE status <> 'cancelled' AND ordered_at < CAST($1 AS TIMESTAMP) AND (date_diff('second', ordered_at, CAST($2 AS TIMESTAMP)) / 86400.0) <= $3 GROUP BY member_id), ret AS (
      SELECT member_id, sum(amount) AS returned FROM returns
      WHERE member_id IS NOT NULL AND returned_at < CAST($4 AS TIMESTAMP) AND (date_diff('second', returned_at, CAST($5 AS TIMESTAMP)) / 86400.0) <= $6 GROUP BY member_id
    ), v AS (
      SELECT p.member_id, (date_diff('second', p.last_ts, CAST($7 AS TIMESTAMP)) / 86400.0) AS recency_days, p.frequency,
        CAST(p.gross - coalesce(ret.returned, 0) AS DOUBLE) AS monetary
      FROM p LEFT JOIN ret ON ret.member_id = p.member_id
    ), scored AS (
      SELECT member_id, recency_days, frequency, monetary, (1 + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $8 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $9 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $10 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $11 THEN 1 ELSE 0 END) AS r, (1 + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $12 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $13 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $14 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $15 THEN 1 ELSE 0 END) AS f, (1 + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $16 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $17 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $18 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= $19 THEN 1 ELSE 0 END) AS m FROM v
    ), g AS (SELECT * FROM (SELECT $20 AS "gr", $21 AS "gfm", $22 AS "segment" UNION ALL SELECT $23, $24, $25 UNION ALL SELECT $26, $27, $28 UNION ALL SELECT $29, $30, $31 UNION ALL SELECT $32, $33, $34 UNION ALL SELECT $35, $36, $37 UNION ALL SELECT $38, $39, $40 UNION ALL SELECT $41, $42, $43 UNION ALL SELECT $44, $45, $46 UNION ALL SELECT $47, $48, $49 UNION ALL SELECT $50, $51, $52 UNION ALL SELECT $53, $54, $55 UNION ALL SELECT $56, $57, $58 UNION ALL SELECT $59, $60, $61 UNION ALL SELECT $62, $63, $64 UNION ALL SELECT $65, $66, $67 UNION ALL SELECT $68, $69, $70 UNION ALL SELECT $71, $72, $73 UNION ALL SELECT $74, $75, $76 UNION ALL SELECT $77, $78, $79 UNION ALL SELECT $80, $81, $82 UNION ALL SELECT $83, $84, $85 UNION ALL SELECT $86, $87, $88 UNION ALL SELECT $89, $90, $91 UNION ALL SELECT $92, $93, $94) AS "t")
    SELECT s.member_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m,
      CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER) AS fm, g.segment
    FROM scored s JOIN g ON g.gr = s.r AND g.gfm = CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER)
