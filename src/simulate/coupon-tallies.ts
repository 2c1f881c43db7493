/**
 * The coupon model's numbers and the running totals of the coupons written (truth.json `coupons`), apart
 * from `simulate-coupons.ts` because the simulation context holds the totals.
 * @module
 */

/** The numbers of the coupon model (copied into truth.json). */
export const COUPON_PARAMETERS = {
  /** Share of issued store coupons a person uses, by type. */
  storeRedemption: { priceSensitive: 0.6, other: 0.25 },
  /** A store coupon is issued this many days (uniform, at least 1) before the order that uses it. */
  storeIssueLeadDays: 30,
  /** Store coupons are valid this many days after issue. */
  storeValidDays: 30,
  /** A store coupon never used was issued up to this many days before one that was used. */
  unusedWithinDays: 90,
} as const

/** Issued and redeemed coupons of one campaign, as written (truth.json `coupons.campaigns`). */
export interface CouponCampaignTruth {
  issued: number
  redeemed: number
  /** Face value of the redeemed coupons (CNY). */
  redeemedFaceValue: number
}

/** Running totals of the coupons written, by campaign. */
export class CouponTallies {
  readonly campaigns = new Map<string, { issued: number; redeemed: number; faceCents: number }>()
  seq = 10_000_000

  add(campaign: string, redeemed: boolean, faceCents: number): void {
    let c = this.campaigns.get(campaign)
    if (c === undefined) {
      c = { issued: 0, redeemed: 0, faceCents: 0 }
      this.campaigns.set(campaign, c)
    }
    c.issued++
    if (redeemed) {
      c.redeemed++
      c.faceCents += faceCents
    }
  }

  /** The truth.json section, campaigns sorted by id. */
  truth(): {
    description: string
    parameters: typeof COUPON_PARAMETERS
    campaigns: Record<string, CouponCampaignTruth>
  } {
    const campaigns: Record<string, CouponCampaignTruth> = {}
    for (const id of [...this.campaigns.keys()].sort()) {
      const c = this.campaigns.get(id)
      if (c === undefined) continue
      campaigns[id] = {
        issued: c.issued,
        redeemed: c.redeemed,
        redeemedFaceValue: c.faceCents / 100,
      }
    }
    return {
      description:
        'Coupons written to coupons.csv by campaign: issued, redeemed (used on a non-cancelled order) and the face value of the redeemed ones.',
      parameters: COUPON_PARAMETERS,
      campaigns,
    }
  }
}
