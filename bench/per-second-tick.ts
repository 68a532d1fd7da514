/**
 * Benchmark: how long does the engine's once-a-second work hold the event loop?
 *
 * Run: node --import tsx bench/per-second-tick.ts [ticks] (default 60 a cell; bounded < 60 s)
 *
 * 1. The parts the engine's ticker runs each second are built as the engine builds them: a
 *    `TimeSeries` of one flow, a `GeneratorMonitor`, a `MetricStore` with two `latency` leaves
 *    and one abortOnFail threshold on them (so it merges), and the CLI's progress line.
 * 2. Between ticks, untimed, one second's responses are recorded: latency, duration and TTFT
 *    log-uniform from 1 ms to 1 s, a send lag of 0 to 2 ms for each, at the cell's rate.
 * 3. Each tick times every part apart with `performance.now()`: the monitor's second, the
 *    series' roll, the five-second p95 of the progress line, the progress line's rendering
 *    and the abortOnFail evaluation. A worker's series also encodes its flow's three
 *    histograms each second (`keepFlowHistograms`): a cell of its own.
 * 4. `tick` is one tick's whole hold on the loop without abortOnFail thresholds (none of the
 *    shipped scenarios has one): monitor, roll, five-second p95 and progress line together.
 * 5. Work the series leaves to later loop turns is timed turn by turn (LATER_TURNS turns of
 *    `setImmediate`, then reading `rows` finishes whatever is left): `later.step` is the
 *    longest turn, `later.total` all of it. `encode` is the time spent encoding histograms,
 *    in the tick and after it (by wrapping `ValueHistogram.prototype.encode`).
 * 6. A whole cell is run first and thrown away, and each cell's first five ticks are left
 *    out, so the JIT has settled (otherwise the first cells read slower than later, heavier
 *    ones); figures are medians, p90s and maxima over the rest, in milliseconds.
 * No traffic is sent: this measures in-process work only.
 */
import { renderProgress } from '../src/cli/run-output.ts';
import { GeneratorMonitor } from '../src/engine/generator-monitor.ts';
import { initHistograms, ValueHistogram } from '../src/metrics/histogram.ts';
import { MetricStore } from '../src/metrics/metric-store.ts';
import { TimeSeries } from '../src/metrics/time-series.ts';
import { evaluateThresholds, shouldAbort } from '../src/thresholds/evaluate.ts';
import { parseThresholds } from '../src/thresholds/parse.ts';

const WARMUP_TICKS = 5;
const RATES_PER_SEC = [1_000, 2_000, 10_000] as const;
/** Loop turns after a tick in which the series may finish closing its second. */
const LATER_TURNS = 16;
const PARTS = [
  'monitor',
  'roll',
  'recentP95',
  'render',
  'tick',
  'abortCheck',
  'later.step',
  'later.total',
  'encode',
] as const;
type Part = (typeof PARTS)[number];

const ticks = Number(process.argv[2] ?? 60);

await initHistograms();

let encodeMs = 0;
const encode = ValueHistogram.prototype.encode;
ValueHistogram.prototype.encode = function timedEncode(this: ValueHistogram): string {
  const at = performance.now();
  const out = encode.call(this);
  encodeMs += performance.now() - at;
  return out;
};

await runCell(2_000, true);
console.log(`per-second tick, ${ticks} ticks a cell after ${WARMUP_TICKS} of warm-up (ms)`);
console.log('cell                         part          median      p90      max');
for (const keepFlowHistograms of [false, true]) {
  for (const ratePerSec of RATES_PER_SEC) {
    const samples = await runCell(ratePerSec, keepFlowHistograms);
    const label = `${ratePerSec} req/s${keepFlowHistograms ? ', worker series' : ''}`;
    for (const part of PARTS) {
      const sorted = (samples.get(part) ?? []).sort((a, b) => a - b);
      console.log(
        `${label.padEnd(28)} ${part.padEnd(12)} ${fmt(quantile(sorted, 0.5))} ` +
          `${fmt(quantile(sorted, 0.9))} ${fmt(sorted.at(-1) ?? 0)}`,
      );
    }
  }
}

async function runCell(
  ratePerSec: number,
  keepFlowHistograms: boolean,
): Promise<Map<Part, number[]>> {
  const series = new TimeSeries(['chat'], { keepFlowHistograms });
  const monitor = new GeneratorMonitor();
  const store = new MetricStore(() => 60_000);
  const leaves = [
    store.trendLeaf('latency', { flow: 'chat', status: '200' }),
    store.trendLeaf('latency', { flow: 'chat', status: '429' }),
  ];
  const thresholds = parseThresholds({
    latency: [{ threshold: 'p(95)<5000', abortOnFail: true }],
  });
  const samples = new Map<Part, number[]>(PARTS.map((part) => [part, []]));
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const timingUs = () => 1_000 * 1_000 ** random();
  monitor.start();

  for (let tick = 0; tick < ticks + WARMUP_TICKS; tick++) {
    for (let i = 0; i < ratePerSec; i++) {
      const latencyUs = timingUs();
      series.countPlanned();
      series.countSent();
      monitor.recordSendLag(random() * 2_000);
      series.recordResponse('chat', '2xx', latencyUs, latencyUs * 0.9, timingUs(), {
        ratelimited: false,
        fallback: false,
        failed: false,
      });
      store.record(leaves[i % 2] as (typeof leaves)[number], latencyUs);
    }

    const timed: Record<Part, number> = {
      monitor: 0,
      roll: 0,
      recentP95: 0,
      render: 0,
      tick: 0,
      abortCheck: 0,
      'later.step': 0,
      'later.total': 0,
      encode: 0,
    };
    let at = performance.now();
    const generator = monitor.second(0);
    timed.monitor = performance.now() - at;

    encodeMs = 0;
    at = performance.now();
    series.rollTo(tick + 1, generator);
    timed.roll = performance.now() - at;

    at = performance.now();
    const recentP95Ms = series.recentLatencyP95Ms();
    timed.recentP95 = performance.now() - at;

    at = performance.now();
    renderProgress({
      elapsedMs: (tick + 1) * 1_000,
      plannedMs: 60_000,
      sent: (tick + 1) * ratePerSec,
      achievedRatePerSec: ratePerSec,
      inFlight: 0,
      recentP95Ms,
      errors: 0,
      dropped: 0,
    });
    timed.render = performance.now() - at;
    timed.tick = timed.monitor + timed.roll + timed.recentP95 + timed.render;

    at = performance.now();
    shouldAbort(evaluateThresholds(thresholds, store, (tick + 1) * 1_000), (tick + 1) * 1_000);
    timed.abortCheck = performance.now() - at;

    for (let turn = 0; turn < LATER_TURNS; turn++) {
      at = performance.now();
      await new Promise<void>((resolve) => setImmediate(resolve));
      const took = performance.now() - at;
      timed['later.step'] = Math.max(timed['later.step'], took);
      timed['later.total'] += took;
    }
    at = performance.now();
    void series.rows;
    timed['later.total'] += performance.now() - at;
    timed.encode = encodeMs;

    if (tick < WARMUP_TICKS) continue;
    for (const part of PARTS) samples.get(part)?.push(timed[part]);
  }

  monitor.destroy();
  series.destroy();
  store.destroy();
  return samples;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function fmt(ms: number): string {
  return ms.toFixed(3).padStart(8);
}
