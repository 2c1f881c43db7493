/**
 * Segments: the RFM grid (members per recency × frequency-and-monetary cell, named by segment), the named RFM
 * segments with size and value, the saved segments with theirs and their export, and a builder that previews
 * a definition's size and value before saving it.
 */
import type { components, operations } from '../generated/api'
import { t } from '../i18n'
import {
  app,
  chartBox,
  clear,
  client,
  coded,
  download,
  drawLater,
  el,
  emptyNotice,
  field,
  fill,
  format,
  loading,
  named,
  ok,
  table,
} from '../ui'
import { dimensionValues, optionText } from '../values'
import { tagOptions } from './tags'

type RfmGrid = components['schemas']['RfmGrid']
/** A segment definition, as the preview and the save take it. */
type SegmentFilter =
  operations['previewSegment']['requestBody']['content']['application/json']['filter']
type Stage = components['schemas']['LifecycleStage']['stage']
type RfmSegment = components['schemas']['RfmSegment']['segment']
type ChurnClass = NonNullable<NonNullable<SegmentFilter['risk']>['classes']>[number]
type Tags = components['schemas']['MemberTags']
type Comparison = components['schemas']['SegmentComparison']

const CHURN_CLASSES: readonly ChurnClass[] = [
  'high-value-at-risk',
  'service-dissatisfied',
  'price-sensitive',
  'disengaged',
]

const CONSENT = ['sms', 'email', 'wechat', 'push'] as const

/** A group of labelled checkboxes; `checked()` lists the values ticked. */
function checkboxes(
  id: string,
  legend: string,
  options: readonly { value: string; label: string }[],
): { box: HTMLFieldSetElement; checked: () => string[] } {
  const inputs = options.map((o) =>
    el('input', { type: 'checkbox', value: o.value, id: `${id}-${o.value}` }),
  )
  const box = el(
    'fieldset',
    { id, class: 'checks' },
    el('legend', {}, legend),
    ...options.map((o, i) =>
      el('label', { for: `${id}-${o.value}` }, inputs[i] as HTMLInputElement, ` ${o.label}`),
    ),
  )
  return { box, checked: () => inputs.filter((x) => x.checked).map((x) => x.value) }
}

export async function segmentsPage(): Promise<void> {
  loading()
  const first = await ok(client.GET('/api/v1/rfm/grid'))
  clear()
  const asOf = el('input', { id: 'segments-asof', type: 'date', value: first.asOf })
  const run = el('button', { id: 'segments-run', type: 'button' }, t('show'))
  const rfmBox = el('div', { id: 'segments-rfm' })
  const savedBox = el('div', { id: 'segments-saved' })
  // Saving and exporting segments need the operator's `segments` scope; other keys preview only.
  const me = await ok(client.GET('/api/v1/whoami'))
  const canWrite = me.role === 'operator' || me.role === 'admin'
  const builder = await segmentBuilder(
    first,
    await ok(client.GET('/api/v1/tags')),
    () => asOf.value,
    () => drawSaved(),
    canWrite,
  )

  const drawRfm = (preloaded?: RfmGrid) =>
    fill(rfmBox, async () => {
      const g =
        preloaded ??
        (await ok(client.GET('/api/v1/rfm/grid', { params: { query: { asOf: asOf.value } } })))
      if (g.cells.length === 0) return [emptyNotice()]
      const box = chartBox('rfm-grid-chart', t('rfmGrid'))
      const max = Math.max(...g.cells.map((c) => c.members))
      drawLater(box, {
        tooltip: {
          formatter: (p: { data: [number, number, number, string, number] }) =>
            `${p.data[3]}<br/>R ${5 - p.data[1]} · FM ${p.data[0] + 1}<br/>${t('members')}: ${format(p.data[2], 'members')}<br/>${t('revenue')}: ${format(p.data[4], 'currency')}`,
        },
        grid: { left: 60, right: 20, top: 10, bottom: 90 },
        xAxis: {
          type: 'category',
          name: t('fmScore'),
          nameLocation: 'middle',
          nameGap: 28,
          data: ['1', '2', '3', '4', '5'],
        },
        yAxis: {
          type: 'category',
          name: t('rScore'),
          nameLocation: 'middle',
          nameGap: 35,
          inverse: true,
          data: ['5', '4', '3', '2', '1'],
        },
        visualMap: {
          dimension: 2,
          min: 0,
          max,
          orient: 'horizontal',
          left: 'center',
          bottom: 0,
          inRange: { color: ['#f0f4f8', '#2f6fb3'] },
        },
        series: [
          {
            type: 'heatmap',
            data: g.cells.map((c) => [
              c.fm - 1,
              5 - c.r,
              c.members,
              named(c.name, c.segment),
              c.revenue,
            ]),
            label: {
              show: true,
              fontSize: 11,
              formatter: (p: { data: [number, number, number, string] }) =>
                `${p.data[3]}\n${format(p.data[2], 'members')}`,
            },
          },
        ],
      })
      const rows = g.segments.map((s) => [
        named(s.name, s.segment),
        format(s.members, 'members'),
        format(s.share, 'ratio'),
        format(s.revenue, 'currency'),
        format(s.revenueShare, 'ratio'),
        format(s.avgMonetary, 'currency'),
        format(s.avgRecencyDays, 'days'),
        format(s.avgFrequency, 'score'),
      ])
      return [
        box,
        el('h2', {}, `${t('rfm')} (${g.asOf})`),
        table(
          'rfm-segment-table',
          t('rfm'),
          [
            t('segment'),
            t('members'),
            t('share'),
            t('revenue'),
            t('revenueShare'),
            t('revenuePerMember'),
            t('avgRecencyDays'),
            t('avgFrequency'),
          ],
          rows,
          [1, 2, 3, 4, 5, 6, 7],
        ),
      ]
    })

  const message = el('p', { id: 'segments-export-message', role: 'status', class: 'hint' })
  const compareBox = el('div', { id: 'segment-compare' })
  const tags = await ok(client.GET('/api/v1/tags'))
  const drawCompare = (segment: string) =>
    fill(compareBox, async () => {
      const c = await ok(
        client.GET('/api/v1/segments/{name}/compare', {
          params: { path: { name: segment }, query: { asOf: asOf.value } },
        }),
      )
      return comparisonView(c, tags)
    })
  const drawSaved = () =>
    fill(savedBox, async () => {
      const s = await ok(
        client.GET('/api/v1/segment-sizes', { params: { query: { asOf: asOf.value } } }),
      )
      if (s.segments.length === 0) return [emptyNotice(t('noSavedSegments'))]
      return [
        el('p', { class: 'hint' }, `${t('revenueWindow')}: ${s.revenueFrom} – ${s.revenueTo}`),
        table(
          'saved-segment-table',
          t('savedSegments'),
          [
            t('segment'),
            t('description'),
            t('members'),
            t('buyers'),
            t('revenue'),
            t('revenuePerMember'),
            '',
          ],
          s.segments.map((x) => {
            const exportButton = el(
              'button',
              {
                type: 'button',
                class: 'export',
                'aria-label': `${t('exportCsv')}: ${x.name}`,
                ...(canWrite ? {} : { disabled: '', title: t('operatorOnly') }),
              },
              t('exportCsv'),
            )
            exportButton.addEventListener('click', () => {
              message.textContent = ''
              download(
                `/api/v1/segments/${encodeURIComponent(x.name)}/export?format=csv`,
                `${x.name}.csv`,
              ).catch((e: unknown) => {
                message.textContent = e instanceof Error ? e.message : String(e)
              })
            })
            const compareButton = el(
              'button',
              { type: 'button', class: 'compare', 'aria-label': `${t('compareTgi')}: ${x.name}` },
              t('compareTgi'),
            )
            compareButton.addEventListener('click', () => void drawCompare(x.name))
            return [
              x.name,
              x.description ?? '',
              format(x.members, 'members'),
              format(x.buyers, 'members'),
              format(x.revenue, 'currency'),
              format(x.revenuePerMember, 'currency'),
              el('span', {}, compareButton, ' ', exportButton),
            ]
          }),
          [2, 3, 4, 5],
        ),
      ]
    })

  run.addEventListener('click', () => void Promise.all([drawRfm(), drawSaved()]))
  app.append(
    el('h1', {}, t('nav.segments')),
    el('div', { class: 'controls' }, field(t('asOf'), asOf), run),
    el('h2', {}, t('rfmGrid')),
    rfmBox,
    el('h2', {}, t('savedSegments')),
    message,
    savedBox,
    el('h2', {}, t('segmentProfile')),
    compareBox,
    el('h2', {}, t('builder')),
    builder,
  )
  await Promise.all([drawRfm(first), drawSaved()])
}

/**
 * The builder: lifecycle stages and RFM segments as of the page's date, registration channels, regions and
 * consent, tags, churn risk, CLV and P(alive), and an uploaded list of identities (operator keys); Preview asks the server for the definition's size and value, Save stores it (operator keys).
 */
async function segmentBuilder(
  grid: RfmGrid,
  tags: Tags,
  asOf: () => string,
  onSaved: () => Promise<void>,
  canWrite: boolean,
): Promise<HTMLElement> {
  const [lifecycle, regionValues, channelValues] = await Promise.all([
    ok(client.GET('/api/v1/lifecycle')),
    dimensionValues('region'),
    dimensionValues('registration_channel'),
  ])
  const stages = checkboxes(
    'builder-stages',
    t('lifecycleStages'),
    lifecycle.stages.map((x) => ({ value: x.stage, label: named(x.name, x.stage) })),
  )
  const rfm = checkboxes(
    'builder-rfm',
    t('rfm'),
    grid.segments.map((x) => ({ value: x.segment, label: named(x.name, x.segment) })),
  )
  const consent = checkboxes(
    'builder-consent',
    t('consentTo'),
    CONSENT.map((c) => ({ value: c, label: coded('channel', c) })),
  )
  // Regions and channels as the data holds them, named in the page's language (浙江 is Zhejiang in English).
  const regions = checkboxes(
    'builder-regions',
    t('regions'),
    regionValues.values.map((x) => ({ value: x.value, label: optionText(x) })),
  )
  const channels = checkboxes(
    'builder-channels',
    t('registrationChannels'),
    channelValues.values.map((x) => ({ value: x.value, label: optionText(x) })),
  )
  // Tags of the latest month, one box per group: AND across groups, OR within one.
  const tagBoxes = (tags.current?.groups ?? []).map((g) =>
    checkboxes(`builder-tags-${g.id}`, `${t('tag')}: ${named(g.name, g.id)}`, tagOptions(g)),
  )
  const classes = checkboxes(
    'builder-risk',
    t('churnClass'),
    CHURN_CLASSES.map((c) => ({ value: c, label: coded('class', c) })),
  )
  const number = (id: string, step: string) =>
    el('input', { id, type: 'number', step, min: '0', inputmode: 'decimal' })
  const riskMin = number('builder-risk-min', '0.05')
  const clvMin = number('builder-clv-min', '1')
  const clvMax = number('builder-clv-max', '1')
  const aliveMin = number('builder-palive-min', '0.05')
  const aliveMax = number('builder-palive-max', '0.05')
  const bound = (input: HTMLInputElement) =>
    input.value.trim() === '' ? undefined : Number(input.value)
  const range = (lo: HTMLInputElement, hi: HTMLInputElement) => {
    const min = bound(lo)
    const max = bound(hi)
    return min === undefined && max === undefined
      ? undefined
      : { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) }
  }
  // An uploaded list of identities (operator keys), resolved through the identity graph when chosen.
  let listIds: number[] | undefined
  const listInput = el('input', {
    id: 'builder-list',
    type: 'file',
    accept: '.csv,.txt,text/csv,text/plain',
    ...(canWrite ? {} : { disabled: '', title: t('operatorOnly') }),
  })
  const listResult = el('p', { id: 'builder-list-result', class: 'hint', role: 'status' })
  listInput.addEventListener('change', () => {
    const chosen = listInput.files?.[0]
    listIds = undefined
    listResult.textContent = chosen === undefined ? '' : t('loading')
    if (chosen === undefined) return
    chosen
      .text()
      .then((text) =>
        ok(client.POST('/api/v1/segment-lists/resolve', { body: { text, file: chosen.name } })),
      )
      .then((r) => {
        const counts = (label: string) =>
          t(label)
            .replace('{matched}', format(r.matched, 'members'))
            .replace('{unmatched}', format(r.unmatched, 'members'))
            .replace('{members}', format(r.memberIds.length, 'members'))
        if (r.memberIds.length === 0) {
          listResult.textContent = counts('listNoMatch')
          return
        }
        listIds = r.memberIds
        listResult.textContent = counts('listResult')
      })
      .catch((e: unknown) => {
        listResult.textContent = e instanceof Error ? e.message : String(e)
      })
  })
  const name = el('input', {
    id: 'builder-name',
    type: 'text',
    pattern: '[A-Za-z0-9][A-Za-z0-9_.-]*',
  })
  const description = el('input', { id: 'builder-description', type: 'text' })
  const previewButton = el('button', { id: 'builder-preview', type: 'button' }, t('preview'))
  const saveButton = el(
    'button',
    {
      id: 'builder-save',
      type: 'button',
      ...(canWrite ? {} : { disabled: '', title: t('operatorOnly') }),
    },
    t('save'),
  )
  const result = el('div', { id: 'builder-result', role: 'status' })

  // The stage and segment boxes offer the values the API listed.
  const filter = (): SegmentFilter | undefined => {
    const f: SegmentFilter = {}
    if (stages.checked().length > 0)
      f.lifecycle = { stages: stages.checked() as Stage[], asOf: asOf() }
    if (rfm.checked().length > 0) f.rfm = { segments: rfm.checked() as RfmSegment[], asOf: asOf() }
    if (channels.checked().length > 0) f.registrationChannel = channels.checked()
    if (regions.checked().length > 0) f.region = regions.checked()
    if (consent.checked().length > 0)
      f.consent = Object.fromEntries(consent.checked().map((c) => [c, true]))
    const include = tagBoxes.flatMap((b) => b.checked())
    if (include.length > 0)
      f.tags = { include, ...(tags.current ? { period: tags.current.period } : {}) }
    const riskFloor = bound(riskMin)
    if (classes.checked().length > 0 || riskFloor !== undefined)
      f.risk = {
        ...(classes.checked().length > 0 ? { classes: classes.checked() as ChurnClass[] } : {}),
        ...(riskFloor === undefined ? {} : { min: riskFloor }),
      }
    const clv = range(clvMin, clvMax)
    if (clv !== undefined) f.clv = clv
    const alive = range(aliveMin, aliveMax)
    if (alive !== undefined) f.pAlive = alive
    if (listIds !== undefined) f.memberIds = listIds
    return Object.keys(f).length === 0 ? undefined : f
  }
  const say = (text: string, kind = 'hint') => {
    result.replaceChildren(el('p', { class: kind }, text))
  }
  previewButton.addEventListener('click', () => {
    const f = filter()
    if (!f) return say(t('noConditions'), 'notice')
    say(t('loading'))
    ok(
      client.POST('/api/v1/segment-sizes/preview', {
        params: { query: { asOf: asOf() } },
        body: { filter: f },
      }),
    )
      .then((p) =>
        result.replaceChildren(
          table(
            'builder-preview-table',
            t('preview'),
            [t('members'), t('buyers'), t('revenue'), t('revenuePerMember')],
            [
              [
                format(p.members, 'members'),
                format(p.buyers, 'members'),
                format(p.revenue, 'currency'),
                format(p.revenuePerMember, 'currency'),
              ],
            ],
            [0, 1, 2, 3],
          ),
          el('p', { class: 'hint' }, `${t('revenueWindow')}: ${p.revenueFrom} – ${p.revenueTo}`),
        ),
      )
      .catch((e: unknown) => say(e instanceof Error ? e.message : String(e), 'notice error'))
  })
  saveButton.addEventListener('click', () => {
    const f = filter()
    if (!f) return say(t('noConditions'), 'notice')
    const body = {
      name: name.value.trim(),
      ...(description.value.trim() ? { description: description.value.trim() } : {}),
      filter: f,
    }
    ok(client.POST('/api/v1/segments', { body }))
      .then(async () => {
        say(`${t('saved')}: ${body.name}`)
        await onSaved()
      })
      .catch((e: unknown) => say(e instanceof Error ? e.message : String(e), 'notice error'))
  })
  return el(
    'section',
    { id: 'segment-builder', 'aria-label': t('builder') },
    el('p', { class: 'hint' }, t('builderHint')),
    stages.box,
    rfm.box,
    consent.box,
    regions.box,
    channels.box,
    ...tagBoxes.map((b) => b.box),
    tagBoxes.length === 0 ? el('p', { class: 'hint' }, t('noTags')) : '',
    classes.box,
    el(
      'div',
      { class: 'controls', id: 'builder-scores' },
      field(t('riskMin'), riskMin),
      field(t('clvMin'), clvMin),
      field(t('clvMax'), clvMax),
      field(t('pAliveMin'), aliveMin),
      field(t('pAliveMax'), aliveMax),
    ),
    el('div', { class: 'controls', id: 'builder-upload' }, field(t('uploadedList'), listInput)),
    listResult,
    el('div', { class: 'controls' }, previewButton),
    el(
      'div',
      { class: 'controls' },
      field(t('segmentName'), name),
      field(t('description'), description),
      saveButton,
    ),
    result,
  )
}

/** A comparison as a table: shares, TGI (over-represented values marked) and the significance flag. */
function comparisonView(c: Comparison, tags: Tags): (Node | string)[] {
  const groups = tags.current?.groups ?? []
  const attribute = (a: string) => {
    if (!a.startsWith('tag:')) return t(`profileAttr.${a}`)
    const g = groups.find((x) => x.id === a.slice(4))
    return `${t('tag')}: ${g === undefined ? a.slice(4) : named(g.name, g.id)}`
  }
  const value = (a: string, v: string | null) => {
    if (v === null) return t('missingValue')
    if (a === 'registration_channel') return coded('channel', v)
    if (a === 'gender') return coded('gender', v)
    if (a === 'lifecycle_stage') return coded('stage', v)
    if (a.startsWith('tag:')) {
      const tag = groups.find((x) => x.id === a.slice(4))?.tags.find((x) => x.id === v)
      return tag === undefined ? v : named(tag.name, tag.id)
    }
    return v
  }
  const against = c.against === 'base' ? t('wholeBase') : c.against
  return [
    el(
      'p',
      { class: 'hint' },
      `${c.segment} · ${format(c.segmentSize, 'members')} ${t('versus')} ${against} · ${format(c.baseSize, 'members')} (${c.asOf})`,
    ),
    table(
      'segment-compare-table',
      t('segmentProfile'),
      [
        t('attribute'),
        t('value'),
        t('members'),
        t('segmentShare'),
        t('baseShare'),
        'TGI',
        t('significant'),
      ],
      c.rows.map((r) => [
        attribute(r.attribute),
        value(r.attribute, r.value),
        format(r.segmentMembers, 'members'),
        format(r.segmentShare, 'ratio'),
        format(r.baseShare, 'ratio'),
        el(
          'span',
          r.significant === true && r.tgi !== null
            ? { class: r.tgi >= 100 ? 'tgi over' : 'tgi under' }
            : {},
          format(r.tgi, 'count'),
        ),
        r.significant === null ? '–' : r.significant ? t('yes') : t('no'),
      ]),
      [2, 3, 4, 5],
    ),
    el('p', { class: 'hint' }, t('tgiHint')),
  ]
}
