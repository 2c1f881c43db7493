/**
 * Saved segments live in the `segments` table of the member database (created on first use): the name, the
 * validated definition as JSON, and when it was created and last changed.
 * @module
 */
import type { Clock } from '../../core/clock.js'
import { NotFoundError } from '../../core/errors.js'
import { tableExists, type Driver } from '../drivers/driver.js'
import { sql } from '../sql/fragment.js'
import {
  segmentDefinitionSchema,
  type SegmentDefinition,
  type SegmentDefinitionInput,
} from './segment-schema.js'

export interface SavedSegment {
  readonly definition: SegmentDefinition
  readonly createdAt: string
  readonly updatedAt: string
}

/** Creates the segments table if it does not exist. */
export async function ensureSegmentsTable(driver: Driver): Promise<void> {
  await driver.execute(sql`CREATE TABLE IF NOT EXISTS segments (
    name VARCHAR PRIMARY KEY, definition VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`)
}

const stamp = (clock: Clock) => clock.now().toISOString().slice(0, 19).replace('T', ' ')

/** Validates and saves a segment, replacing one of the same name (its creation time is kept). */
export async function saveSegment(
  driver: Driver,
  input: SegmentDefinitionInput,
  clock: Clock,
): Promise<SegmentDefinition> {
  const definition = segmentDefinitionSchema.parse(input)
  await ensureSegmentsTable(driver)
  const now = stamp(clock)
  // Delete-then-insert in one transaction: portable where INSERT … ON CONFLICT is not available.
  await driver.transaction(async () => {
    const old = await driver.first<{ createdAt: string }>(
      sql`SELECT CAST(created_at AS VARCHAR) AS created_at FROM segments WHERE name = ${definition.name}`,
    )
    await driver.execute(sql`DELETE FROM segments WHERE name = ${definition.name}`)
    await driver.execute(sql`INSERT INTO segments VALUES (${definition.name}, ${JSON.stringify(definition)},
      CAST(${old?.createdAt ?? now} AS TIMESTAMP), CAST(${now} AS TIMESTAMP))`)
  })
  return definition
}

/** A saved segment, or undefined. */
export async function findSegment(driver: Driver, name: string): Promise<SavedSegment | undefined> {
  // A read needs no table: a read-only database without one holds no segment.
  if (!(await tableExists(driver, 'segments'))) return undefined
  const row = await driver.first<{ definition: string; createdAt: string; updatedAt: string }>(
    sql`SELECT definition, CAST(created_at AS VARCHAR) AS created_at, CAST(updated_at AS VARCHAR) AS updated_at
      FROM segments WHERE name = ${name}`,
  )
  if (row === undefined) return undefined
  return {
    definition: segmentDefinitionSchema.parse(JSON.parse(row.definition)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

/** A saved segment; throws {@link NotFoundError} when there is none of that name. */
export async function getSegment(driver: Driver, name: string): Promise<SavedSegment> {
  const found = await findSegment(driver, name)
  if (found === undefined) throw new NotFoundError(`no segment named ${JSON.stringify(name)}`)
  return found
}

/** Every saved segment, by name. */
export async function listSegments(driver: Driver): Promise<SavedSegment[]> {
  await ensureSegmentsTable(driver)
  const rows = await driver.all<{ definition: string; createdAt: string; updatedAt: string }>(
    sql`SELECT definition, CAST(created_at AS VARCHAR) AS created_at, CAST(updated_at AS VARCHAR) AS updated_at
      FROM segments ORDER BY name`,
  )
  return rows.map((r) => ({
    definition: segmentDefinitionSchema.parse(JSON.parse(r.definition)),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }))
}

/** Deletes a saved segment; true when it existed. */
export async function deleteSegment(driver: Driver, name: string): Promise<boolean> {
  await ensureSegmentsTable(driver)
  return (await driver.execute(sql`DELETE FROM segments WHERE name = ${name}`)) > 0
}
