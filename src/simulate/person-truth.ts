/**
 * What `truth.json` records of each of the first persons. Apart from `ground-truth.ts` because the
 * simulation context collects these records while `ground-truth.ts` reads the context.
 * @module
 */

/** Details of one of the first persons (by registration time), for checking identity resolution etc. */
export interface PersonTruth {
  /** 0-based person number in registration order. */
  readonly index: number
  readonly registeredAt: string
  readonly registrationChannel: string
  readonly gender: string
  /** Registered twice (two members.csv rows) and linked later by an order or event. */
  readonly duplicate: boolean
  readonly memberRows: number
  /** When the linking record appears (duplicates only). */
  readonly linkedAt: string | null
  /** Canonical identity values: phone as 11 digits, email lower-case. */
  readonly identities: {
    phone?: string
    email?: string
    app_user_id?: string
    card_no?: string
    wechat_unionid?: string
    pos_customer_id?: string
  }
  /** Purchase rate per week (at seasonal multiplier 1). */
  readonly lambda: number
  /** Drop-out probability after each purchase (before any tier effect). */
  readonly p: number
  /** Gamma–Gamma rate of the person's order values. */
  readonly nu: number
  /** p_spend / nu: the person's expected gross order value. */
  readonly meanOrderValue: number
  readonly priceSensitive: boolean
  readonly serviceDissatisfied: boolean
  /** Drop-out moment, or null if the person was still active at the end. */
  readonly dropoutAt: string | null
  /** When the person reached the tier, or null. */
  readonly tierAt: string | null
  /** Orders of any status and kind. */
  readonly orders: number
  readonly experimentArm: 'control' | 'treatment' | null
  readonly winbackArm: 'treatment' | 'holdout' | null
}
