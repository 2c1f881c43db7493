/**
 * vitest globalSetup: one throw-away PostgreSQL server for the ledger tests (see scripts/local-postgres.ts).
 * `MEMBERLENS_TEST_POSTGRES_URL` points the tests at an existing server instead. When the server cannot start,
 * the reason is handed to the tests, and every PostgreSQL test fails with it: they are never skipped silently.
 */
import type { TestProject } from 'vitest/node'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    ledgerPostgres: { url: string } | { error: string }
  }
}

let server: LocalPostgres | undefined

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['MEMBERLENS_TEST_POSTGRES_URL']
  if (external) {
    project.provide('ledgerPostgres', { url: external })
    return async () => {}
  }
  try {
    // Commits need not wait for the WAL flush: the crash test kills the client, not the server, and this keeps
    // the 10,000-request concurrency test quick on a shared 2-core machine.
    server = await startLocalPostgres({ log: () => {}, settings: { synchronous_commit: 'off' } })
    project.provide('ledgerPostgres', { url: server.url })
  } catch (error) {
    project.provide('ledgerPostgres', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
  // Asynchronous: vitest runs this teardown while it still waits for its test workers to exit.
  return async () => {
    await server?.stop()
  }
}
