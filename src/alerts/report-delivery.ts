/**
 * Sending a report to where a team reads it: WeCom (企业微信) and DingTalk group robots (their Markdown message
 * formats), a generic JSON webhook, and e-mail over SMTP (nodemailer). Secrets — a robot's key or access token,
 * DingTalk's signing secret, a bearer token, the SMTP password — are never in the configuration: it names the
 * environment variables that hold them, read when sending, and only the non-secret part of an address is ever
 * logged. Each send is retried with doubling back-off; the outcome is returned, never thrown.
 * @module
 */
import { createHmac } from 'node:crypto'
import nodemailer from 'nodemailer'
import { z } from 'zod'
import { ConfigError } from '../core/errors.js'
import type { Digest } from './report-digest.js'

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'the name of an environment variable (A-Z, 0-9, _)')
const httpUrl = z.url({ protocol: /^https?$/ }).max(2000)

export const deliveryTargetSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('wecom'),
      /** The robot's send URL without its key, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send */
      url: httpUrl,
      /** Environment variable holding the robot's `key`. */
      keyEnv: envName,
    })
    .strict(),
  z
    .object({
      kind: z.literal('dingtalk'),
      /** The robot's send URL without its token, e.g. https://oapi.dingtalk.com/robot/send */
      url: httpUrl,
      /** Environment variable holding the robot's `access_token`. */
      tokenEnv: envName,
      /** Environment variable holding the signing secret (SEC…), when the robot signs. */
      secretEnv: envName.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('webhook'),
      url: httpUrl,
      /** Environment variable holding a bearer token sent as `Authorization`. */
      tokenEnv: envName.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('email'),
      host: z.string().min(1).max(255),
      port: z.number().int().min(1).max(65535).default(587),
      /** `tls`: TLS from the start (465); `starttls`: upgrade, required; `none`: plain (a local relay). */
      security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
      userEnv: envName.optional(),
      passwordEnv: envName.optional(),
      from: z.string().min(3).max(320),
      to: z.array(z.email()).min(1).max(100),
    })
    .strict(),
])
export type DeliveryTarget = z.infer<typeof deliveryTargetSchema>

export interface RetryOptions {
  /** Tries per target (default 4). */
  readonly attempts?: number
  /** First back-off in ms, doubled after each failure (default 1000). */
  readonly backoffMs?: number
  /** Per-try timeout in ms (default 10000). */
  readonly timeoutMs?: number
  readonly sleep?: (ms: number) => Promise<void>
  /** Where secrets are read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** `now` for DingTalk's signature timestamp. */
  readonly now?: () => Date
}

export interface DeliveryOutcome {
  readonly delivered: boolean
  readonly attempts: number
  readonly error: string | null
}

/** Where a target sends, without any secret: for logs and listings. */
export function targetLabel(t: DeliveryTarget): string {
  switch (t.kind) {
    case 'wecom':
    case 'dingtalk':
    case 'webhook':
      return `${t.kind} ${t.url}`
    case 'email':
      return `email ${t.to.join(', ')} via ${t.host}:${t.port}`
    default: {
      const _exhaustive: never = t
      return _exhaustive
    }
  }
}

/** WeCom caps a Markdown message at 4096 bytes of UTF-8. */
export const WECOM_MAX_BYTES = 4096
/** DingTalk caps a message at 20000 bytes. */
export const DINGTALK_MAX_BYTES = 20000

/** Cuts text to at most `max` UTF-8 bytes at a line end, marking the cut. */
export function fitBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text
  const lines = text.split('\n')
  const mark = '\n…'
  while (lines.length > 1 && Buffer.byteLength(lines.join('\n') + mark) > max) lines.pop()
  return lines.join('\n') + mark
}

/** The JSON body each robot takes. */
export function robotBody(
  kind: 'wecom' | 'dingtalk' | 'webhook',
  digest: Digest,
  lang: string,
): unknown {
  switch (kind) {
    case 'wecom':
      return {
        msgtype: 'markdown',
        markdown: { content: fitBytes(digest.markdown, WECOM_MAX_BYTES) },
      }
    case 'dingtalk':
      return {
        msgtype: 'markdown',
        markdown: { title: digest.title, text: fitBytes(digest.markdown, DINGTALK_MAX_BYTES) },
      }
    case 'webhook':
      return {
        report: {
          title: digest.title,
          period: digest.period,
          lang,
          markdown: digest.markdown,
          text: digest.text,
        },
      }
    default: {
      const _exhaustive: never = kind
      return _exhaustive
    }
  }
}

/**
 * DingTalk's signature: base64 of HMAC-SHA256 over "timestamp\nsecret" keyed by the secret, URL-encoded and
 * sent as `&timestamp=…&sign=…` (DingTalk robot security settings, "加签").
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64')
  return encodeURIComponent(mac)
}

function secret(env: RetryOptions['env'], name: string): string {
  const v = (env ?? process.env)[name]
  if (v === undefined || v === '')
    throw new ConfigError(`environment variable ${name} is not set (it holds a delivery secret)`)
  return v
}

/** The URL to POST to, secrets added. */
function robotUrl(t: Exclude<DeliveryTarget, { kind: 'email' }>, o: RetryOptions): string {
  const u = new URL(t.url)
  if (t.kind === 'wecom') u.searchParams.set('key', secret(o.env, t.keyEnv))
  if (t.kind === 'dingtalk') u.searchParams.set('access_token', secret(o.env, t.tokenEnv))
  let url = u.toString()
  if (t.kind === 'dingtalk' && t.secretEnv !== undefined) {
    const ts = (o.now ?? (() => new Date()))().getTime()
    url += `&timestamp=${ts}&sign=${dingtalkSign(secret(o.env, t.secretEnv), ts)}`
  }
  return url
}

/** One try at a robot or webhook: throws with the reason on a failure. */
async function postOnce(
  t: Exclude<DeliveryTarget, { kind: 'email' }>,
  digest: Digest,
  lang: string,
  o: RetryOptions,
): Promise<void> {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'memberlens-report',
  }
  if (t.kind === 'webhook' && t.tokenEnv !== undefined)
    headers['authorization'] = `Bearer ${secret(o.env, t.tokenEnv)}`
  const r = await fetch(robotUrl(t, o), {
    method: 'POST',
    headers,
    body: JSON.stringify(robotBody(t.kind, digest, lang)),
    signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`HTTP ${r.status}`)
  // WeCom and DingTalk answer 200 with {"errcode": 0, "errmsg": "ok"}; any other errcode is a refusal.
  if (t.kind !== 'webhook') {
    let answer: { errcode?: unknown; errmsg?: unknown } = {}
    try {
      answer = JSON.parse(text) as typeof answer
    } catch {
      throw new Error(`the robot answered HTTP ${r.status} with a body that is not JSON`)
    }
    if (answer.errcode !== 0)
      throw new Error(
        `the robot refused: errcode ${String(answer.errcode)} ${String(answer.errmsg ?? '')}`,
      )
  }
}

async function mailOnce(
  t: Extract<DeliveryTarget, { kind: 'email' }>,
  digest: Digest,
  o: RetryOptions,
): Promise<void> {
  const user = t.userEnv === undefined ? undefined : secret(o.env, t.userEnv)
  const pass = t.passwordEnv === undefined ? undefined : secret(o.env, t.passwordEnv)
  const transport = nodemailer.createTransport({
    host: t.host,
    port: t.port,
    secure: t.security === 'tls',
    requireTLS: t.security === 'starttls',
    ignoreTLS: t.security === 'none',
    connectionTimeout: o.timeoutMs ?? 10_000,
    greetingTimeout: o.timeoutMs ?? 10_000,
    socketTimeout: o.timeoutMs ?? 10_000,
    ...(user === undefined ? {} : { auth: { user, pass: pass ?? '' } }),
  })
  try {
    await transport.sendMail({
      from: t.from,
      to: t.to.join(', '),
      subject: digest.title,
      text: digest.text,
      html: digest.html,
      // Base64 keeps Chinese text intact through relays that mangle 8-bit bodies.
      textEncoding: 'base64',
    })
  } finally {
    transport.close()
  }
}

/** Sends the report to one target, retrying with doubling back-off. Never throws. */
export async function deliverReport(
  target: DeliveryTarget,
  digest: Digest,
  lang: string,
  options: RetryOptions = {},
): Promise<DeliveryOutcome> {
  const attempts = options.attempts ?? 4
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((ok) => setTimeout(ok, ms)))
  let wait = options.backoffMs ?? 1000
  let error: string | null = null
  for (let i = 1; i <= attempts; i++) {
    try {
      if (target.kind === 'email') await mailOnce(target, digest, options)
      else await postOnce(target, digest, lang, options)
      return { delivered: true, attempts: i, error: null }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e)
      // A missing secret will not appear on a retry.
      if (e instanceof ConfigError) return { delivered: false, attempts: i, error }
    }
    if (i < attempts) {
      await sleep(wait)
      wait *= 2
    }
  }
  return { delivered: false, attempts, error }
}
