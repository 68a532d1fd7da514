import type { MetricStore } from '../metrics/metric-store.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import type { LoadShape } from '../scenario/schema.ts';
import { deriveSeed, SeededRandom } from '../util/random.ts';
import type { ArrivalSchedule } from './arrival-schedule.ts';
import type { Clock } from './clock.ts';
import type { FlowRuntime } from './flow-runtime.ts';
import type { GeneratorMonitor } from './generator-monitor.ts';

export interface LoopContext {
  clock: Clock;
  t0Us: number;
  store: MetricStore;
  series: TimeSeries;
  monitor: GeneratorMonitor;
  /** True once the run is stopping (signal or abortOnFail): no new request may start. */
  stopping(): boolean;
  /** Resolves when the run starts stopping. */
  stopped: Promise<void>;
}

/** Most sends one tick may make before yielding to I/O, so a late tick cannot starve replies. */
const MAX_SENDS_PER_TICK = 2_000;

/**
 * Runs an open-model flow: request i is due at t0 + offset(i), whatever the target does.
 * 1. On each tick, send every request that is due (batched: one timer per tick, not one per
 *    request), recording each one's lag behind its intended time.
 * 2. A due request that finds the in-flight cap full is dropped and counted
 *    (`dropped_iterations`, as k6 does), never delayed: delaying it would hide the target's
 *    slowness behind the generator's queue.
 * 3. Sleep until the next due time (a timer rounded to whole ms; `setImmediate` when due now).
 */
export function runOpenLoop(
  runtime: FlowRuntime,
  schedule: ArrivalSchedule,
  ctx: LoopContext,
): Promise<void> {
  const offsets = schedule.offsets();
  const flowTags = { flow: runtime.flow.name };
  let next = offsets.next();
  let iteration = 0;

  return new Promise((resolve) => {
    const tick = () => {
      if (ctx.stopping()) return resolve();
      const elapsed = ctx.clock.nowUs() - ctx.t0Us;
      let sends = 0;
      while (!next.done && next.value <= elapsed && sends < MAX_SENDS_PER_TICK) {
        if (!runtime.ownsIteration(iteration)) {
          // Another worker's request: it sends it at the same planned instant.
          iteration++;
          next = offsets.next();
          continue;
        }
        const intendedUs = ctx.t0Us + next.value;
        ctx.series.countPlanned();
        ctx.store.addCounter('iterations', flowTags);
        if (runtime.inFlight >= runtime.cap) {
          ctx.store.addCounter('dropped_iterations', flowTags);
          ctx.series.countDropped();
        } else {
          ctx.monitor.recordSendLag(ctx.clock.nowUs() - intendedUs);
          runtime.send(
            iteration,
            intendedUs,
            iteration % runtime.cap,
            runtime.clientFor(iteration),
          );
        }
        iteration++;
        sends++;
        next = offsets.next();
      }
      if (next.done) return resolve();
      const waitUs = next.value - (ctx.clock.nowUs() - ctx.t0Us);
      if (waitUs <= 0) setImmediate(tick);
      else setTimeout(tick, Math.max(1, Math.round(waitUs / 1_000)));
    };
    const firstWaitUs = (next.done ? 0 : next.value) - (ctx.clock.nowUs() - ctx.t0Us);
    setTimeout(tick, Math.max(0, Math.round(firstWaitUs / 1_000)));
  });
}

type ClosedLoad = Extract<LoadShape, { executor: 'constant-vus' | 'ramping-vus' }>;

/**
 * Runs a closed-model flow: each virtual user sends, waits for its answer, thinks, and sends
 * again. With `ramping-vus`, the number of active users follows the stages linearly; a user
 * above the current target finishes its request and stops (k6's graceful ramp-down).
 */
export async function runClosedLoop(
  runtime: FlowRuntime,
  load: ClosedLoad,
  seed: number,
  ctx: LoopContext,
): Promise<void> {
  const startUs = ctx.t0Us + load.startTime * 1_000;
  const endUs = startUs + closedDurationMs(load) * 1_000;
  const flowTags = { flow: runtime.flow.name };
  const maxVus = runtime.cap;
  let iteration = 0;

  const target = (nowUs: number): number => {
    if (load.executor === 'constant-vus') return load.vus;
    return rampTarget(load, (nowUs - startUs) / 1_000);
  };

  const vuLoop = async (vu: number): Promise<void> => {
    const random = new SeededRandom(deriveSeed(seed, runtime.flow.name, 'think', vu));
    while (!ctx.stopping()) {
      const now = ctx.clock.nowUs();
      if (now >= endUs || vu >= Math.round(target(now))) return;
      const n = iteration++;
      ctx.store.addCounter('iterations', flowTags);
      ctx.series.countPlanned();
      const done = runtime.waitFor(vu);
      if (runtime.send(n, now, vu, runtime.clientFor(vu))) await Promise.race([done, ctx.stopped]);
      else await sleep(100, ctx.stopped);
      const thinkMs = thinkTimeMs(load.thinkTime, random);
      if (thinkMs > 0) await sleep(thinkMs, ctx.stopped);
    }
  };

  await sleepUntil(ctx.clock, startUs, ctx.stopped);
  const running = new Map<number, Promise<void>>();
  while (!ctx.stopping() && ctx.clock.nowUs() < endUs) {
    const wanted = Math.min(maxVus, Math.round(target(ctx.clock.nowUs())));
    for (let vu = 0; vu < wanted; vu++) {
      if (running.has(vu) || !runtime.owns(vu % runtime.clients.length)) continue;
      running.set(
        vu,
        vuLoop(vu).finally(() => running.delete(vu)),
      );
    }
    if (load.executor === 'constant-vus') break;
    await sleep(50, ctx.stopped);
  }
  while (running.size > 0) await Promise.all([...running.values()]);
}

export function closedDurationMs(load: ClosedLoad): number {
  if (load.executor === 'constant-vus') return load.duration;
  return load.stages.reduce((sum, stage) => sum + stage.duration, 0);
}

/** Virtual users wanted `elapsedMs` into a ramping-vus flow (linear within each stage). */
export function rampTarget(
  load: Extract<LoadShape, { executor: 'ramping-vus' }>,
  elapsedMs: number,
): number {
  let from = load.startVUs;
  let at = 0;
  for (const stage of load.stages) {
    if (elapsedMs < at + stage.duration) {
      const share = stage.duration > 0 ? (elapsedMs - at) / stage.duration : 1;
      return from + (stage.target - from) * share;
    }
    at += stage.duration;
    from = stage.target;
  }
  return from;
}

function thinkTimeMs(think: ClosedLoad['thinkTime'], random: SeededRandom): number {
  if (think === undefined) return 0;
  if (typeof think === 'number') return think;
  return random.between(think.min, think.max);
}

function sleep(ms: number, stopped: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
    stopped,
  ]).finally(() => clearTimeout(timer));
}

function sleepUntil(clock: Clock, atUs: number, stopped: Promise<void>): Promise<void> {
  const waitMs = (atUs - clock.nowUs()) / 1_000;
  return waitMs > 0 ? sleep(waitMs, stopped) : Promise.resolve();
}
