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
SELECT s.member_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m,
      CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER) AS fm, g.segment
    FROM (
      SELECT member_id, recency_days, frequency, monetary, (1 + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.2 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.4 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.6 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.8 THEN 1 ELSE 0 END) AS r, (1 + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.2 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.4 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.6 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.8 THEN 1 ELSE 0 END) AS f, (1 + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.2 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.4 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.6 THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= 0.8 THEN 1 ELSE 0 END) AS m FROM (
      SELECT p.member_id, (date_diff('second', p.last_ts, CAST('2024-12-01 00:00:00' AS TIMESTAMP)) / 86400.0) AS recency_days, p.frequency,
        CAST(p.gross - coalesce(ret.returned, 0) AS DOUBLE) AS monetary
      FROM (SELECT member_id, max(ordered_at) AS last_ts, count(*) AS frequency, sum(net_amount) AS gross
      FROM orders WHERE status <> 'cancelled' AND ordered_at < CAST('2024-12-01 00:00:00' AS TIMESTAMP) AND (date_diff('second', ordered_at, CAST('2024-12-01 00:00:00' AS TIMESTAMP)) / 86400.0) <= 365 GROUP BY member_id) AS p LEFT JOIN (
      SELECT member_id, sum(amount) AS returned FROM returns
      WHERE member_id IS NOT NULL AND returned_at < CAST('2024-12-01 00:00:00' AS TIMESTAMP) AND (date_diff('second', returned_at, CAST('2024-12-01 00:00:00' AS TIMESTAMP)) / 86400.0) <= 365 GROUP BY member_id
    ) AS ret ON ret.member_id = p.member_id
    ) AS v
    ) s JOIN (SELECT * FROM (SELECT 5 AS "gr", 1 AS "gfm", 'new' AS "segment" UNION ALL SELECT 5, 2, 'potential_loyalist' UNION ALL SELECT 5, 3, 'potential_loyalist' UNION ALL SELECT 5, 4, 'champions' UNION ALL SELECT 5, 5, 'champions' UNION ALL SELECT 4, 1, 'promising' UNION ALL SELECT 4, 2, 'potential_loyalist' UNION ALL SELECT 4, 3, 'potential_loyalist' UNION ALL SELECT 4, 4, 'loyal' UNION ALL SELECT 4, 5, 'champions' UNION ALL SELECT 3, 1, 'about_to_sleep' UNION ALL SELECT 3, 2, 'about_to_sleep' UNION ALL SELECT 3, 3, 'need_attention' UNION ALL SELECT 3, 4, 'loyal' UNION ALL SELECT 3, 5, 'loyal' UNION ALL SELECT 2, 1, 'hibernating' UNION ALL SELECT 2, 2, 'hibernating' UNION ALL SELECT 2, 3, 'at_risk' UNION ALL SELECT 2, 4, 'at_risk' UNION ALL SELECT 2, 5, 'cant_lose_them' UNION ALL SELECT 1, 1, 'lost' UNION ALL SELECT 1, 2, 'lost' UNION ALL SELECT 1, 3, 'at_risk' UNION ALL SELECT 1, 4, 'at_risk' UNION ALL SELECT 1, 5, 'cant_lose_them') AS "t") AS g ON g.gr = s.r AND g.gfm = CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER)
