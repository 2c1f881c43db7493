import { describe, expect, it } from 'vitest'
import { expandPositions, inlineCtes } from './inline-ctes.js'

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim()

describe('inlineCtes', () => {
  it('writes each CTE out where FROM or JOIN reads it, keeping or adding the alias', () => {
    const out = inlineCtes(
      `WITH a AS (SELECT 1 AS x), "b" AS (SELECT x FROM a WHERE x > 0)
       SELECT a.x, y.x FROM a LEFT JOIN "b" y ON y.x = a.x`,
    )
    expect(squash(out)).toBe(
      'SELECT a.x, y.x FROM (SELECT 1 AS x) AS a LEFT JOIN (SELECT x FROM (SELECT 1 AS x) AS a WHERE x > 0) y ON y.x = a.x',
    )
  })

  it('leaves literals, columns named like a CTE, table functions and other tables alone', () => {
    const out = inlineCtes(
      `WITH numbers AS (SELECT 2 AS n) SELECT 'FROM numbers', numbers.n FROM numbers, numbers(3) JOIN orders o ON 1 = 1`,
    )
    expect(squash(out)).toBe(
      "SELECT 'FROM numbers', numbers.n FROM (SELECT 2 AS n) AS numbers, numbers(3) JOIN orders o ON 1 = 1",
    )
  })

  it('rewrites a WITH inside a subquery, and a CTE read by a later one', () => {
    const out = inlineCtes(
      `SELECT * FROM (WITH p AS (SELECT 'it''s' AS s) SELECT s FROM p) t WHERE t.s IN (SELECT s FROM q)`,
    )
    expect(squash(out)).toBe(
      "SELECT * FROM (SELECT s FROM (SELECT 'it''s' AS s) AS p) t WHERE t.s IN (SELECT s FROM q)",
    )
  })

  it('names the place of a malformed WITH', () => {
    expect(() => inlineCtes('WITH a (SELECT 1) SELECT 1')).toThrow(/expected AS after CTE a/)
    expect(() => inlineCtes("SELECT ')")).toThrow(/unterminated ' in SQL at offset 7/)
  })
})

describe('expandPositions', () => {
  it('names the select list expressions in GROUP BY and ORDER BY, at every level', () => {
    const out = expandPositions(
      `SELECT toStartOfMonth(ts) AS period, CAST(x AS Int64) AS k, count(*) AS v FROM (
         SELECT DISTINCT member_id AS x, ts FROM t GROUP BY 1, 2) s
       GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1 DESC, v`,
    )
    expect(squash(out)).toBe(
      'SELECT toStartOfMonth(ts) AS period, CAST(x AS Int64) AS k, count(*) AS v FROM ( SELECT DISTINCT member_id AS x, ts FROM t GROUP BY member_id, ts) s GROUP BY toStartOfMonth(ts), CAST(x AS Int64) HAVING count(*) > 1 ORDER BY toStartOfMonth(ts) DESC, v',
    )
  })

  it('takes the nearest SELECT of a UNION, and leaves named groups alone', () => {
    const out = expandPositions(
      'SELECT a, b FROM t GROUP BY a, b UNION ALL SELECT c + 1 AS a, d FROM u GROUP BY 1, 2',
    )
    expect(out).toBe(
      'SELECT a, b FROM t GROUP BY a, b UNION ALL SELECT c + 1 AS a, d FROM u GROUP BY c + 1, d',
    )
  })

  it('refuses a position beyond the select list', () => {
    expect(() => expandPositions('SELECT a FROM t GROUP BY 2')).toThrow(/position 2/)
  })
})
