/**
 * Disjoint sets over dense integer ids, with path halving and union by size.
 * The root of each set after {@link UnionFind.union} calls is arbitrary; callers pick representatives
 * (e.g. the oldest member) themselves so that results are deterministic.
 */
export class UnionFind {
  private readonly parent: Int32Array
  private readonly size: Int32Array

  constructor(n: number) {
    this.parent = new Int32Array(n)
    this.size = new Int32Array(n).fill(1)
    for (let i = 0; i < n; i++) this.parent[i] = i
  }

  find(x: number): number {
    const p = this.parent
    while (p[x] !== x) {
      const gp = p[p[x] as number] as number
      p[x] = gp
      x = gp
    }
    return x
  }

  union(a: number, b: number): void {
    let ra = this.find(a)
    let rb = this.find(b)
    if (ra === rb) return
    if ((this.size[ra] as number) < (this.size[rb] as number)) [ra, rb] = [rb, ra]
    this.parent[rb] = ra
    this.size[ra] = (this.size[ra] as number) + (this.size[rb] as number)
  }
}
