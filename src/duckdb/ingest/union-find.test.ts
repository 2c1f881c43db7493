import { describe, expect, it } from 'vitest'
import { UnionFind } from './union-find.js'

describe('UnionFind', () => {
  it('joins transitively and keeps separate sets apart', () => {
    const uf = new UnionFind(6)
    uf.union(0, 1)
    uf.union(3, 4)
    uf.union(1, 4)
    expect(uf.find(0)).toBe(uf.find(3))
    expect(uf.find(2)).not.toBe(uf.find(0))
    expect(uf.find(5)).toBe(5)
  })

  it('handles long chains', () => {
    const n = 100_000
    const uf = new UnionFind(n)
    for (let i = 1; i < n; i++) uf.union(i - 1, i)
    expect(uf.find(0)).toBe(uf.find(n - 1))
  })
})
