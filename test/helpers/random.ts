/**
 * Seeded random draws for Monte Carlo checks of the probability models: a uniform generator and Gamma,
 * Beta and exponential variates. Test code only; the models themselves draw nothing.
 * @module
 */

/** Seeded uniform (0, 1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296
  }
}

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())
}

/** Gamma(shape, rate 1) by Marsaglia & Tsang (2000), with the shape < 1 boost. */
export function gamma(u: () => number, shape: number): number {
  if (shape < 1) return gamma(u, shape + 1) * u() ** (1 / shape)
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let z: number
    let v: number
    do {
      z = normal(u)
      v = 1 + c * z
    } while (v <= 0)
    v = v * v * v
    const w = u()
    if (Math.log(w) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v
  }
}

/** Beta(a, b) as G_a / (G_a + G_b). */
export function beta(u: () => number, a: number, b: number): number {
  const g = gamma(u, a)
  return g / (g + gamma(u, b))
}

/** Exponential with this rate. */
export const exponential = (u: () => number, rate: number): number => -Math.log(u()) / rate
