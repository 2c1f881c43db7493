-- 1: "2024-12-01 00:00:00"
-- 2: "2024-01-01 00:00:00"
-- 3: "2024-07-01 00:00:00"
-- 4: "2024-12-01 00:00:00"
-- 5: 6
SELECT CAST(CAST(toDateTime(toStartOfMonth(cohort_start)) AS DATE) AS VARCHAR) AS cohort, dim, k, count(*) AS members FROM (
      SELECT DISTINCT cm.member_id, cm.cohort_start, cm.dim, CAST((EXTRACT(YEAR FROM toDateTime(toStartOfMonth(a.ts))) - EXTRACT(YEAR FROM cm.cohort_start)) * 12 + EXTRACT(MONTH FROM toDateTime(toStartOfMonth(a.ts))) - EXTRACT(MONTH FROM cm.cohort_start) AS INTEGER) AS k
      FROM (SELECT a.member_id, a.anchor_ts, toDateTime(toStartOfMonth(a.anchor_ts)) AS cohort_start, d.dim
    FROM (SELECT member_id, min(ordered_at) AS anchor_ts FROM orders WHERE status <> 'cancelled' GROUP BY member_id) a LEFT JOIN (SELECT member_id, CAST("registration_channel" AS VARCHAR) AS dim FROM members) d ON d.member_id = a.member_id
    WHERE a.anchor_ts < CAST('2024-12-01 00:00:00' AS TIMESTAMP) AND a.anchor_ts >= CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND a.anchor_ts < CAST('2024-07-01 00:00:00' AS TIMESTAMP)) AS cm JOIN (SELECT member_id, ordered_at AS ts FROM orders WHERE status <> 'cancelled' AND ordered_at < CAST('2024-12-01 00:00:00' AS TIMESTAMP)) a ON a.member_id = cm.member_id AND a.ts >= cm.anchor_ts
    ) AS mk
      WHERE k <= 6 GROUP BY cohort_start, dim, k
