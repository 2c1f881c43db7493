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
      FROM orders WHERE status <> 'cancelled' AND ordered_at < CAST({p1:String} AS TIMESTAMP) AND (date_diff('second', ordered_at, CAST({p2:String} AS TIMESTAMP)) / 86400.0) <= {p3:UInt32} GROUP BY member_id), ret AS (
      SELECT member_id, sum(amount) AS returned FROM returns
      WHERE member_id IS NOT NULL AND returned_at < CAST({p4:String} AS TIMESTAMP) AND (date_diff('second', returned_at, CAST({p5:String} AS TIMESTAMP)) / 86400.0) <= {p6:UInt32} GROUP BY member_id
    ), v AS (
      SELECT p.member_id, (date_diff('second', p.last_ts, CAST({p7:String} AS TIMESTAMP)) / 86400.0) AS recency_days, p.frequency,
        CAST(p.gross - coalesce(ret.returned, 0) AS DOUBLE) AS monetary
      FROM p LEFT JOIN ret ON ret.member_id = p.member_id
    ), scored AS (
      SELECT member_id, recency_days, frequency, monetary, (1 + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p8:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p9:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p10:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY recency_days DESC) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p11:Float64} THEN 1 ELSE 0 END) AS r, (1 + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p12:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p13:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p14:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY frequency) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p15:Float64} THEN 1 ELSE 0 END) AS f, (1 + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p16:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p17:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p18:Float64} THEN 1 ELSE 0 END + CASE WHEN (rank() OVER (ORDER BY monetary) - 1) / CAST(count(*) OVER () AS DOUBLE) >= {p19:Float64} THEN 1 ELSE 0 END) AS m FROM v
    ), g AS (SELECT * FROM (SELECT {p20:UInt32} AS "gr", {p21:UInt32} AS "gfm", {p22:String} AS "segment" UNION ALL SELECT {p23:UInt32}, {p24:UInt32}, {p25:String} UNION ALL SELECT {p26:UInt32}, {p27:UInt32}, {p28:String} UNION ALL SELECT {p29:UInt32}, {p30:UInt32}, {p31:String} UNION ALL SELECT {p32:UInt32}, {p33:UInt32}, {p34:String} UNION ALL SELECT {p35:UInt32}, {p36:UInt32}, {p37:String} UNION ALL SELECT {p38:UInt32}, {p39:UInt32}, {p40:String} UNION ALL SELECT {p41:UInt32}, {p42:UInt32}, {p43:String} UNION ALL SELECT {p44:UInt32}, {p45:UInt32}, {p46:String} UNION ALL SELECT {p47:UInt32}, {p48:UInt32}, {p49:String} UNION ALL SELECT {p50:UInt32}, {p51:UInt32}, {p52:String} UNION ALL SELECT {p53:UInt32}, {p54:UInt32}, {p55:String} UNION ALL SELECT {p56:UInt32}, {p57:UInt32}, {p58:String} UNION ALL SELECT {p59:UInt32}, {p60:UInt32}, {p61:String} UNION ALL SELECT {p62:UInt32}, {p63:UInt32}, {p64:String} UNION ALL SELECT {p65:UInt32}, {p66:UInt32}, {p67:String} UNION ALL SELECT {p68:UInt32}, {p69:UInt32}, {p70:String} UNION ALL SELECT {p71:UInt32}, {p72:UInt32}, {p73:String} UNION ALL SELECT {p74:UInt32}, {p75:UInt32}, {p76:String} UNION ALL SELECT {p77:UInt32}, {p78:UInt32}, {p79:String} UNION ALL SELECT {p80:UInt32}, {p81:UInt32}, {p82:String} UNION ALL SELECT {p83:UInt32}, {p84:UInt32}, {p85:String} UNION ALL SELECT {p86:UInt32}, {p87:UInt32}, {p88:String} UNION ALL SELECT {p89:UInt32}, {p90:UInt32}, {p91:String} UNION ALL SELECT {p92:UInt32}, {p93:UInt32}, {p94:String}) AS "t")
    SELECT s.member_id, s.recency_days, s.frequency, s.monetary, s.r, s.f, s.m,
      CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER) AS fm, g.segment
    FROM scored s JOIN g ON g.gr = s.r AND g.gfm = CAST(floor((s.f + s.m + 1) / 2.0) AS INTEGER)
