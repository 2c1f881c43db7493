/**
 * A browsable reference page rendered on the server from the OpenAPI document: every path with its method,
 * summary, parameters and responses. Self-contained (no scripts or styles from elsewhere), so it works offline.
 * @module
 */

interface Doc {
  readonly info?: {
    readonly title?: string
    readonly description?: string
    readonly version?: string
  }
  readonly paths?: Record<string, Record<string, Operation>>
}
interface Operation {
  readonly summary?: string
  readonly description?: string
  readonly parameters?: ReadonlyArray<{
    name: string
    in: string
    required?: boolean
    description?: string
    schema?: unknown
    example?: unknown
  }>
  readonly responses?: Record<string, { description?: string }>
}

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  )

export function referencePage(doc: unknown): string {
  const d = doc as Doc
  const ops = Object.entries(d.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : ''}</td><td>${esc(p.description ?? '')}${p.example === undefined ? '' : ` <span class="ex">e.g. ${esc(p.example)}</span>`}</td></tr>`,
        )
        .join('')
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><code>${esc(status)}</code> ${esc(r.description)}</li>`)
        .join('')
      return `<section><h2><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h2>
        ${op.summary ? `<p>${esc(op.summary)}</p>` : ''}
        ${params ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>${params}</table>` : ''}
        <ul>${responses}</ul></section>`
    }),
  )
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(d.info?.title)} reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1f2933}
code{background:#f3f4f6;padding:0 .25em;border-radius:3px}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #e5e7eb;padding:.25em .5em;text-align:left;vertical-align:top}.m{font-size:.8em;padding:.1em .4em;border-radius:3px;color:#fff;background:#2563eb}
.m.post{background:#16a34a}.m.delete{background:#dc2626}.ex{color:#6b7280}section{border-top:1px solid #e5e7eb;padding-top:.5em}</style></head>
<body><h1>${esc(d.info?.title)} <small>${esc(d.info?.version)}</small></h1><p>${esc(d.info?.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>${ops.join('\n')}</body></html>`
}
