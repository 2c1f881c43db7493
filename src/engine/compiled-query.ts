/** A value that travels to the engine as a query parameter, never inside the SQL text. */
export type SqlValue = string | number | bigint | boolean | null

/** SQL text with positional placeholders and the values bound to them. */
export interface CompiledQuery {
  readonly sql: string
  readonly parameters: readonly SqlValue[]
}
