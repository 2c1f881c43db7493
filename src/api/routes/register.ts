/**
 * Registers the write and operations routes (the audit middleware is installed by `createApp`) and
 * returns what the member 360 route adds: the member's points and tier, lifecycle stage and risk score.
 * @module
 */
import { syncedTierNames } from '../../analytics/loyalty-sync.js'
import type { RouteConfig, z } from '@hono/zod-openapi'
import type { AlertService } from '../../alerts/alert-service.js'
import {
  findMemberRisk,
  findMemberStage,
  findSyncedLoyalty as syncedLoyalty,
} from '../../analytics/member-signals.js'
import type { Clock } from '../../core/clock.js'
import { NotFoundError } from '../../core/errors.js'
import type { DuckDbDriver } from '../../engine/drivers/duckdb-driver.js'
import { STAGE_NAMES } from '../../engine/lifecycle/lifecycle-config.js'
import type { Ledger } from '../../ledger/ledger.service.js'
import type { AuditLog } from '../../store/audit-log.js'
import type { KeyStore } from '../keys.js'
import { registerAlertRoutes } from './alerts.js'
import { registerAuditRoutes } from './audit.js'
import { registerIngestRoutes } from './ingest.js'
import { registerKeyRoutes } from './keys.js'
import { registerLoyaltyRoutes } from './loyalty.js'
import { registerRiskRoutes } from './risk.js'
import { registerSegmentRoutes } from './segments.js'
import { serialLock, type RouteServices, type ServiceApp } from './services.js'

export interface ServiceOptions {
  readonly driver: DuckDbDriver
  readonly keys: KeyStore
  readonly clock: Clock
  /** The loyalty ledger; without one the loyalty routes answer 503. */
  readonly ledger?: Ledger
  /** Where writes are recorded (default: an in-memory audit database). */
  readonly audit?: AuditLog
  /** Alert rules and their evaluation; without it the alert routes answer 503. */
  readonly alerts?: AlertService
}

export interface RouteHelpers {
  readonly security: { ApiKey: string[] }[]
  readonly json: (schema: z.ZodType, description: string) => RouteConfig['responses']
  readonly timed: <T>(fn: () => Promise<T>) => Promise<T>
  readonly asOf: (asOf: string | undefined) => Promise<string>
  readonly maxRows: number
  readonly log: (e: unknown) => void
  /** The audit log the app's middleware writes to. */
  readonly audit: AuditLog
}

const orNull = <T>(p: Promise<T>): Promise<T | null> =>
  p.catch((e: unknown) => {
    if (e instanceof NotFoundError) return null
    throw e
  })

export function registerServiceRoutes(app: ServiceApp, o: ServiceOptions, h: RouteHelpers) {
  const s: RouteServices = {
    driver: o.driver,
    clock: o.clock,
    keys: o.keys,
    ledger: o.ledger,
    audit: h.audit,
    alerts: o.alerts,
    maxRows: h.maxRows,
    writeLock: serialLock(),
    security: h.security,
    json: h.json,
    timed: h.timed,
    asOf: h.asOf,
    log: h.log,
  }
  registerAuditRoutes(app, s)
  registerSegmentRoutes(app, s)
  registerLoyaltyRoutes(app, s)
  registerRiskRoutes(app, s)
  registerIngestRoutes(app, s)
  registerAlertRoutes(app, s)
  registerKeyRoutes(app, s)

  return {
    /**
     * Points and tier (from the live ledger when one is configured, else as of the last sync into the
     * engine), lifecycle stage and risk.
     */
    memberSignals: async (memberId: number) => {
      const loyalty = o.ledger
        ? await orNull(o.ledger.balance(String(memberId))).then((b) =>
            b === null
              ? null
              : {
                  balance: b.balance,
                  available: b.available,
                  pending: b.pending,
                  tier: b.tier,
                  tierSince: b.tierSince,
                  nextExpiry: b.nextExpiry,
                },
          )
        : undefined
      const asOf = await orNull(h.asOf(undefined))
      // As synced: the points that expire next after the data's as-of day.
      const synced =
        loyalty === undefined ? await syncedLoyalty(o.driver, memberId, asOf ?? undefined) : null
      const stage = asOf === null ? undefined : await findMemberStage(o.driver, memberId, asOf)
      const lifecycle = stage === undefined ? null : { ...stage, name: STAGE_NAMES[stage.stage] }
      const risk = (await findMemberRisk(o.driver, memberId)) ?? null
      const account = loyalty ?? synced
      // The tier's name in en and zh, from the program file (as last synced).
      const tierName =
        account === null ? undefined : (await syncedTierNames(o.driver))[account.tier]
      return {
        loyalty: account === null ? null : { ...account, ...(tierName ? { tierName } : {}) },
        lifecycle,
        risk,
      }
    },
  }
}
