/** The CLI's message table: placeholders survive translation, and context keys print their English part. */
import { describe, expect, it } from 'vitest'
import { message } from '../../src/cli/lang.js'
import { CHURN_CLASS_NAMES, STAGE_ACTIONS_ZH, STATUS_NAMES, ZH } from '../../src/cli/messages.js'
import { CHURN_CLASSES, PLAYBOOKS } from '../../src/analytics/risk/early-warning.js'
import { LIFECYCLE_STAGES } from '../../src/engine/lifecycle/lifecycle-config.js'

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('CLI messages', () => {
  it('keeps every placeholder of a message in its Chinese text', () => {
    for (const [en, zh] of Object.entries(ZH))
      expect(placeholders(zh), en).toEqual(placeholders(en))
  })

  it('fills placeholders and prints the English part of a key with a context', () => {
    expect(message('en', 'Top {n} at risk', { n: 3 })).toBe('Top 3 at risk')
    expect(message('zh', 'Top {n} at risk', { n: 3 })).toBe('风险最高的 3 名会员')
    expect(message('en', 'effects|holdout')).toBe('holdout')
    expect(message('zh', 'effects|holdout')).toBe('对照组')
    expect(message('zh', 'clv|holdout')).toBe('验证期')
  })

  it('names every status, lifecycle action, churn class and playbook in Chinese', () => {
    for (const s of Object.values(STATUS_NAMES)) expect(s.zh).toMatch(/\p{Script=Han}/u)
    for (const stage of LIFECYCLE_STAGES) expect(STAGE_ACTIONS_ZH[stage]).toMatch(/\p{Script=Han}/u)
    for (const c of CHURN_CLASSES) {
      expect(CHURN_CLASS_NAMES[c].zh).toMatch(/\p{Script=Han}/u)
      // The English playbook is the engine's, so the two tables cannot drift apart unnoticed.
      expect(CHURN_CLASS_NAMES[c].playbook.en).toBe(PLAYBOOKS[c])
    }
  })
})
