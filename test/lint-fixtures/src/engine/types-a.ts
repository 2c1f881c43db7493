// A cycle through type-only imports is still a cycle: it ties the two modules together.
import type { B } from './types-b.js'

export interface A {
  readonly b?: B
}
