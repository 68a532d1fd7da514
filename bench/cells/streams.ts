import { ProviderControl } from '../../src/provider/index.ts';
import type { BenchContext, Cell, CellReport, GoalOutcome } from '../lib/cell.ts';
import type { EngineOutcome } from '../lib/jobs.ts';
import { nodeScript, pinned, startDaemon, TARGET_CORE } from '../lib/process.ts';
import { fmt, median } from '../lib/stats.ts';
import { runLaunchproof } from '../lib/tools.ts';
import { profileOf } from './throughput.ts';

/** The provider's plan for every stream: first token after 200 ms, then 1 token a second. */
const TTFT_MS = 200;
const TOKENS_PER_SEC = 1;
const TOKENS = 4;
const STREAM_MS = TTFT_MS + ((TOKENS - 1) * 1_000) / TOKENS_PER_SEC;
/** Arrivals go on this long after the ramp, so the streams begun then all saw N open. */
const STEADY_MS = 3_000;
const TTFT_GOAL_MS = 5;
const AIM = 5_000;

interface StreamStep {
  streams: number;
  runs: Array<{
    steadyP50Ms: number;
    steadyP99Ms: number;
    peakProvider: number;
    completed: number;
    failed: number;
    saturated: boolean;
  }>;
  /** Median over runs of (steady chat_ttft p99 − planned TTFT). */
  deviationMs: number;
  ok: boolean;
}

/**
 * Cell 6: how many concurrent chat streams one launchproof process sustains. The mock
 * provider runs in its own process on the other core, with a fixed plan (TTFT 200 ms, four
 * tokens a second apart: each stream is open 3.2 s). For N streams, launchproof arrives at
 * N / 3.2 s for 3.2 s + 3 s, so N are open once the ramp is done.
 * 1. the steady window is the streams intended after the ramp (3.2 s on): each saw N open
 *    at its first token; the runner times their `chat_ttft` exactly from the response records;
 * 2. a step passes when, over its runs, the median of that window's p99 is within 5 ms of the
 *    planned 200 ms, with no failed request;
 * 3. every step runs; the figure is the largest N that passed.
 */
export const streamsCell: Cell = {
  id: 'streams',
  title: 'Concurrent chat streams in one process',
  estimateMs: (o) =>
    steps(o.long).length * runsOf(o.long, o.runs) * (STREAM_MS + STEADY_MS + 4_000),
  async run(ctx: BenchContext): Promise<CellReport> {
    const [node, args] = nodeScript('lib/provider-server.ts', [
      JSON.stringify({ ttftMs: TTFT_MS, tokensPerSec: TOKENS_PER_SEC, completionTokens: TOKENS }),
    ]);
    const [cmd, pinnedArgs] = pinned(TARGET_CORE, node, args);
    const provider = await startDaemon(cmd, pinnedArgs);
    const control = new ProviderControl(provider.url);
    const results: StreamStep[] = [];
    try {
      for (const streams of steps(ctx.options.long)) {
        const step: StreamStep = { streams, runs: [], deviationMs: Number.NaN, ok: false };
        for (let i = 0; i < runsOf(ctx.options.long, ctx.options.runs); i++) {
          await control.resetCounters();
          const result = await runLaunchproof(
            streamJob(provider.url, streams, ctx),
            STREAM_MS + STEADY_MS,
          );
          const counters = await control.counters();
          const run = steadyFigures(result, counters.peakConcurrentStreams);
          step.runs.push(run);
          ctx.log(
            `  streams ${streams} run ${i + 1}: steady chat_ttft p50 ${fmt(run.steadyP50Ms, 1)} ms, ` +
              `p99 ${fmt(run.steadyP99Ms, 1)} ms (plan ${TTFT_MS}), peak ${run.peakProvider} open ` +
              `at the provider, ${run.failed} failed`,
          );
        }
        step.deviationMs = median(step.runs.map((r) => r.steadyP99Ms)) - TTFT_MS;
        const failed = median(step.runs.map((r) => r.failed));
        step.ok = step.deviationMs <= TTFT_GOAL_MS && failed === 0;
        results.push(step);
        // Every step runs, so the table shows where the median and the tail part ways.
      }
    } finally {
      await provider.stop();
    }

    const passed = results.filter((s) => s.ok).map((s) => s.streams);
    const best = passed.length > 0 ? Math.max(...passed) : 0;
    const firstFail = results.find((s) => !s.ok);
    const medianHeld = results
      .filter((s) => median(s.runs.map((r) => r.steadyP50Ms)) - TTFT_MS <= TTFT_GOAL_MS)
      .map((s) => s.streams);
    const table: string[][] = [
      [
        'streams',
        'steady chat_ttft p50 ms',
        'steady p99 ms',
        'p99 − plan ms',
        'peak open (provider)',
        'failed',
        'within 5 ms',
      ],
      ...results.map((s) => [
        fmt(s.streams),
        fmt(median(s.runs.map((r) => r.steadyP50Ms)), 1),
        fmt(median(s.runs.map((r) => r.steadyP99Ms)), 1),
        fmt(s.deviationMs, 1),
        fmt(median(s.runs.map((r) => r.peakProvider))),
        fmt(median(s.runs.map((r) => r.failed))),
        s.ok ? 'yes' : 'no',
      ]),
    ];
    const goals: GoalOutcome[] = [
      {
        goal: `${fmt(AIM)} concurrent streams with chat_ttft p99 within ${TTFT_GOAL_MS} ms of plan`,
        met: best >= AIM,
        observed:
          `${fmt(best)} streams held at p99` +
          `; the p50 held within ${TTFT_GOAL_MS} ms up to ${fmt(Math.max(0, ...medianHeld))}` +
          (firstFail
            ? `; ${fmt(firstFail.streams)} missed (p99 ${fmt(firstFail.deviationMs, 1)} ms over plan)`
            : ''),
      },
    ];
    return {
      id: this.id,
      title: this.title,
      setup:
        `mock provider (TTFT ${TTFT_MS} ms, ${TOKENS} tokens ${1_000 / TOKENS_PER_SEC} ms apart) in its own ` +
        `process on core 1; launchproof open model on core 0, N / ${STREAM_MS / 1_000} s arrivals for ` +
        `${(STREAM_MS + STEADY_MS) / 1_000} s; ${runsOf(ctx.options.long, ctx.options.runs)} runs a step; ` +
        'steady window only (streams intended after the ramp).',
      table,
      goals,
      notes: [
        'The token pace is slow on purpose: the subject is the generator, and one core of the ' +
          'mock provider (bench/provider-streams.ts) is the other limit.',
      ],
      runs: results,
    };
  },
};

function steps(long: boolean): number[] {
  return long
    ? [250, 500, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000]
    : [250, 500, 1_000, 2_500, 5_000];
}

function runsOf(long: boolean, runs: number): number {
  return long ? runs : Math.min(runs, 2);
}

function streamJob(providerUrl: string, streams: number, ctx: BenchContext) {
  const ratePerSec = streams / (STREAM_MS / 1_000);
  return {
    target: providerUrl,
    load: {
      executor: 'constant-arrival-rate',
      rate: Math.round(ratePerSec),
      duration: STREAM_MS + STEADY_MS,
      preAllocatedVUs: Math.ceil(streams * 1.5),
      gracefulStop: '10s',
    },
    request: {
      method: 'POST',
      path: '/v1/chat/completions',
      json: {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'What does onboarding include?' }],
        stream: true,
      },
    },
    stream: true,
    steadyFromMs: STREAM_MS,
    ...profileOf(ctx, `streams-${streams}`),
  };
}

/** The streams intended after the ramp, all of which saw N streams open (see step 1). */
function steadyFigures(result: EngineOutcome, peakProvider: number): StreamStep['runs'][number] {
  return {
    steadyP50Ms: result.steadyTtft?.p50 ?? Number.NaN,
    steadyP99Ms: result.steadyTtft?.p99 ?? Number.NaN,
    peakProvider,
    completed: result.requests,
    failed: result.failed,
    saturated: result.generator.saturated,
  };
}
