import { percentileSpectrum } from './hdr-read.ts';
import type { Summary } from './summary-schema.ts';

/** The launch SLO every latency chart draws: p95 of `latency` under 500 ms. */
export const LAUNCH_SLO_MS = 500;

/** One line (or stacked layer) of a chart. `raw` holds a stacked layer's own values. */
export interface ChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
  unit: string;
  dash?: number[];
  /** Line width in CSS pixels. */
  width?: number;
  fill?: string;
  raw?: number[];
  /** The y scale: `y` (left) or `y2` (right). */
  scale?: 'y' | 'y2';
}

/** A chart over the run's seconds; fault windows are shaded on every one. */
export interface TimeChart {
  type: 'time';
  id: string;
  title: string;
  yLabel: string;
  y2Label?: string;
  /**
   * Per-second counts drawn as steps: each value holds over its second [t, t+1), so x ends
   * with one more second that repeats the last values.
   */
  stepped?: boolean;
  x: number[];
  series: ChartSeries[];
}

/** A percentile spectrum: x is 1/(1−p) on a log axis, as HdrHistogram's plotter draws it. */
export interface SpectrumChart {
  type: 'spectrum';
  id: string;
  title: string;
  yLabel: string;
  x: number[];
  series: ChartSeries[];
}

export type Chart = TimeChart | SpectrumChart;

/** What the report's script draws, embedded in the page as JSON. */
export interface ReportData {
  faultWindows: Array<{ label: string; startSec: number; endSec: number }>;
  sloMs: number;
  sections: Record<ChartSection, Chart[]>;
}

export type ChartSection = 'latency' | 'spectrum' | 'throughput' | 'provider' | 'generator';

const COLORS = {
  p50: '#2563eb',
  p95: '#d97706',
  p99: '#dc2626',
  slo: '#7f1d1d',
  ok: '#16a34a',
  fallback: '#eab308',
  limited: '#9333ea',
  client: '#f97316',
  server: '#dc2626',
  error: '#404040',
  other: '#64748b',
  planned: '#64748b',
  sent: '#2563eb',
  dropped: '#dc2626',
  lag: '#d97706',
  lagMax: '#f59e0b',
  loop: '#9333ea',
  cpu: '#0d9488',
} as const;

/**
 * Turns a summary into the charts of the report: latency per flow (and TTFT for chat flows)
 * per second, the percentile spectra from the whole-run histograms, throughput stacked by
 * status class, provider calls and spend when the series carries them, and the generator's
 * health. Empty sections are empty arrays; the page says why.
 */
export function buildReportData(summary: Summary): ReportData {
  const x = summary.series.map((row) => row.t);
  return {
    faultWindows: summary.faultWindows.map((w) => ({
      label: w.label,
      startSec: w.startMs / 1_000,
      endSec: w.endMs / 1_000,
    })),
    sloMs: LAUNCH_SLO_MS,
    sections: {
      latency: latencyCharts(summary, x),
      spectrum: spectrumCharts(summary),
      throughput: x.length === 0 ? [] : [throughputChart(summary, x)],
      provider: providerCharts(summary, x),
      generator: x.length === 0 ? [] : generatorCharts(summary, x),
    },
  };
}

function latencyCharts(summary: Summary, x: number[]): TimeChart[] {
  const charts: TimeChart[] = [];
  const flows = flowNames(summary);
  flows.forEach((flow, i) => {
    const cells = summary.series.map((row) => row.flows[flow]);
    const latency = cells.map((cell) => cell?.latency ?? null);
    if (latency.some((p) => p !== null)) {
      charts.push(percentileChart(`latency-${i}`, `latency of ${flow}`, x, latency));
    }
    const ttft = cells.map((cell) => cell?.ttft ?? null);
    if (ttft.some((p) => p !== null)) {
      charts.push(percentileChart(`ttft-${i}`, `chat_ttft of ${flow}`, x, ttft));
    }
  });
  return charts;
}

type SecondPercentiles = Summary['series'][number]['flows'][string]['latency'];

function percentileChart(
  id: string,
  title: string,
  x: number[],
  cells: SecondPercentiles[],
): TimeChart {
  const pick = (key: 'p50' | 'p95' | 'p99') => cells.map((cell) => cell?.[key] ?? null);
  return {
    type: 'time',
    id,
    title,
    yLabel: 'ms',
    x,
    series: [
      // Wider lines underneath: with few samples a second p95 often equals p99, and both
      // must stay visible.
      { label: 'p99', color: COLORS.p99, values: pick('p99'), unit: 'ms', width: 4 },
      { label: 'p95', color: COLORS.p95, values: pick('p95'), unit: 'ms', width: 2 },
      { label: 'p50', color: COLORS.p50, values: pick('p50'), unit: 'ms', width: 1.5 },
      {
        label: `${LAUNCH_SLO_MS} ms launch SLO`,
        color: COLORS.slo,
        values: x.map(() => LAUNCH_SLO_MS),
        unit: 'ms',
        dash: [6, 4],
      },
    ],
  };
}

/** Pairs whose spectra, drawn together, show coordinated omission (intended vs actual send). */
const SPECTRUM_PAIRS: ReadonlyArray<[string, string]> = [
  ['latency', 'http_req_duration'],
  ['chat_ttft', 'chat_ttft_send'],
];

function spectrumCharts(summary: Summary): SpectrumChart[] {
  const charts: SpectrumChart[] = [];
  for (const [first, second] of SPECTRUM_PAIRS) {
    const names = [first, second].filter((name) => Object.hasOwn(summary.histograms, name));
    const spectra = names.map((name) => ({
      name,
      points: percentileSpectrum(summary.histograms[name] as string, `histogram ${name}`),
    }));
    const drawn = spectra.filter((s) => s.points.length > 0);
    if (drawn.length === 0) continue;

    // uPlot needs one shared x: the union of every spectrum's percentile levels.
    const levels = [...new Set(drawn.flatMap((s) => s.points.map((p) => p.inverse)))];
    levels.sort((a, b) => a - b);
    const colors = [COLORS.p99, COLORS.p50];
    charts.push({
      type: 'spectrum',
      id: `spectrum-${first}`,
      title: drawn.map((s) => s.name).join(' vs '),
      yLabel: 'ms',
      x: levels,
      series: drawn.map((s, i) => {
        const byLevel = new Map(s.points.map((p) => [p.inverse, p.valueMs]));
        return {
          label: s.name,
          color: colors[i] ?? COLORS.other,
          values: levels.map((level) => byLevel.get(level) ?? null),
          unit: 'ms',
          // The first curve wider and underneath, so it shows where the two coincide.
          width: i === 0 ? 4 : 1.5,
        };
      }),
    });
  }
  return charts;
}

interface Layer {
  label: string;
  color: string;
  count: (cell: FlowCell) => number;
}

type FlowCell = Summary['series'][number]['flows'][string];

/** Bottom to top. 429s come out of 4xx and fallback answers out of 2xx, so nothing counts twice. */
const LAYERS: readonly Layer[] = [
  {
    label: '2xx answered',
    color: COLORS.ok,
    count: (c) => Math.max(0, req(c, '2xx') - c.fallback),
  },
  {
    label: 'fallback answers',
    color: COLORS.fallback,
    count: (c) => Math.min(c.fallback, req(c, '2xx')),
  },
  { label: '429 rate-limited', color: COLORS.limited, count: (c) => c.ratelimited },
  {
    label: 'other 4xx',
    color: COLORS.client,
    count: (c) => Math.max(0, req(c, '4xx') - c.ratelimited),
  },
  { label: '5xx', color: COLORS.server, count: (c) => req(c, '5xx') },
  { label: 'no response', color: COLORS.error, count: (c) => req(c, 'error') },
  { label: '1xx/3xx', color: COLORS.other, count: (c) => req(c, '1xx') + req(c, '3xx') },
];

function req(cell: FlowCell, statusClass: string): number {
  return cell.requests[statusClass] ?? 0;
}

function throughputChart(summary: Summary, x: number[]): TimeChart {
  const layers = LAYERS.map((layer) => ({
    layer,
    raw: summary.series.map((row) =>
      Object.values(row.flows).reduce((sum, cell) => sum + layer.count(cell), 0),
    ),
  })).filter((l, i) => i === 0 || l.raw.some((v) => v > 0));

  // Stacked by drawing cumulative sums, top layer first, each filled down to zero.
  const cumulative: number[][] = [];
  layers.forEach((l, i) => {
    cumulative.push(l.raw.map((v, s) => v + (i === 0 ? 0 : (cumulative[i - 1]?.[s] ?? 0))));
  });
  const series: ChartSeries[] = layers.map((l, i) => ({
    label: l.layer.label,
    color: l.layer.color,
    values: cumulative[i] as number[],
    raw: l.raw,
    fill: `${l.layer.color}cc`,
    unit: 'req/s',
  }));
  series.reverse();
  return stepChart({
    type: 'time',
    id: 'throughput',
    title: 'responses per second by status',
    yLabel: 'requests/s',
    x,
    series,
  });
}

/**
 * Per-second provider counters, read from `providerCalls` and `providerCostUsd` on the
 * series rows when present. The summary schema does not carry them yet, so this finds none
 * and the page says the counters are not known.
 */
function providerCharts(summary: Summary, x: number[]): TimeChart[] {
  const calls = summary.series.map((row) => numberField(row, 'providerCalls'));
  const cost = summary.series.map((row) => numberField(row, 'providerCostUsd'));
  if (!calls.some((v) => v !== null) && !cost.some((v) => v !== null)) return [];
  let spent = 0;
  const spend = cost.map((v) => {
    spent += v ?? 0;
    return v === null ? null : spent;
  });
  return [
    stepChart({
      type: 'time',
      id: 'provider',
      title: 'provider calls and spend',
      yLabel: 'calls/s',
      y2Label: 'US$ (cumulative)',
      x,
      series: [
        { label: 'provider calls', color: COLORS.sent, values: calls, unit: 'calls/s' },
        { label: 'spend so far', color: COLORS.lag, values: spend, unit: 'US$', scale: 'y2' },
      ],
    }),
  ];
}

function numberField(row: object, key: string): number | null {
  const value: unknown = (row as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function generatorCharts(summary: Summary, x: number[]): TimeChart[] {
  const rows = summary.series;
  return [
    stepChart({
      type: 'time',
      id: 'generator-rate',
      title: 'planned vs sent per second',
      yLabel: 'requests/s',
      x,
      series: [
        {
          label: 'planned',
          color: COLORS.planned,
          values: rows.map((r) => r.planned),
          unit: 'req/s',
          dash: [6, 4],
        },
        { label: 'sent', color: COLORS.sent, values: rows.map((r) => r.sent), unit: 'req/s' },
        {
          label: 'dropped',
          color: COLORS.dropped,
          values: rows.map((r) => r.dropped),
          unit: 'req/s',
        },
      ],
    }),
    {
      type: 'time',
      id: 'generator-lag',
      title: 'send lag, event-loop delay and CPU',
      yLabel: 'ms',
      y2Label: 'CPU %',
      x,
      series: [
        {
          label: 'send lag p99',
          color: COLORS.lag,
          values: rows.map((r) => r.sendLagP99Ms),
          unit: 'ms',
        },
        {
          label: 'send lag max',
          color: COLORS.lagMax,
          values: rows.map((r) => r.sendLagMaxMs),
          unit: 'ms',
          dash: [3, 3],
        },
        {
          label: 'event-loop delay p99',
          color: COLORS.loop,
          values: rows.map((r) => r.loopDelayP99Ms),
          unit: 'ms',
        },
        {
          label: 'CPU',
          color: COLORS.cpu,
          values: rows.map((r) => r.cpuPercent),
          unit: '%',
          scale: 'y2',
        },
      ],
    },
  ];
}

/** Marks a chart of per-second counts as stepped and adds the closing edge of its last second. */
function stepChart(chart: TimeChart): TimeChart {
  const last = chart.x.at(-1);
  if (last === undefined) return { ...chart, stepped: true };
  return {
    ...chart,
    stepped: true,
    x: [...chart.x, last + 1],
    series: chart.series.map((s) => ({
      ...s,
      values: [...s.values, s.values.at(-1) ?? null],
      ...(s.raw === undefined ? {} : { raw: [...s.raw, s.raw.at(-1) ?? 0] }),
    })),
  };
}

/** Flow names in the order the summary lists them, then any the series adds. */
function flowNames(summary: Summary): string[] {
  const names = summary.flows.map((f) => f.name);
  for (const row of summary.series) {
    for (const name of Object.keys(row.flows)) if (!names.includes(name)) names.push(name);
  }
  return names;
}
