import type { CounterLeaf, MetricStore } from '../metrics/metric-store.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import type { LoadShape } from '../scenario/schema.ts';
import { deriveSeed, SeededRandom } from '../util/random.ts';
import type { ArrivalSchedule } from './arrival-schedule.ts';
import type { Clock } from './clock.ts';
import type { FlowRuntime } from './flow-runtime.ts';
import type { GeneratorMonitor } from './generator-monitor.ts';
import type { PreparedRequest } from './http-exchange.ts';

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

/** How far ahead of its due time a request is built, so that its send is only a dispatch. */
const PREBUILD_US = 20_000;

/** Most requests held built and waiting; a burst larger than this builds the rest late. */
const MAX_PREBUILT = 2_000;

interface Prebuilt {
  iteration: number;
  offsetUs: number;
  request: PreparedRequest | undefined;
}

/**
 * Runs an open-model flow: request i is due at t0 + offset(i), whatever the target does.
 * 1. Requests due within the next 20 ms are built ahead (a builder that calls faker costs
 *    real time: built at its due time, a burst's last request would leave late).
 * 2. On each tick, dispatch every request that is due (batched: one timer per tick, not one
 *    per request), recording each one's lag behind its intended time.
 * 3. A due request that finds the in-flight cap full is dropped and counted
 *    (`dropped_iterations`, as k6 does), never delayed: delaying it would hide the target's
 *    slowness behind the generator's queue.
 * 4. Sleep until the next due time (a timer rounded to whole ms; `setImmediate` when due now).
 * Requests of identities another worker owns are skipped: that worker sends them.
 */
export function runOpenLoop(
  runtime: FlowRuntime,
  schedule: ArrivalSchedule,
  ctx: LoopContext,
): Promise<void> {
  const offsets = schedule.offsets();
  const flowTags = { flow: runtime.flow.name };
  const ready: Prebuilt[] = [];
  let head = 0;
  let next = offsets.next();
  let iteration = 0;

  /** Builds what is due before `untilUs` (elapsed time), in plan order. */
  const prebuild = (untilUs: number) => {
    while (!next.done && next.value <= untilUs && ready.length - head < MAX_PREBUILT) {
      if (runtime.ownsIteration(iteration)) {
        const vu = iteration % runtime.cap;
        const request = runtime.prepare(iteration, vu, runtime.clientFor(iteration));
        ready.push({ iteration, offsetUs: next.value, request });
      }
      iteration++;
      next = offsets.next();
    }
  };

  const dispatchDue = (elapsedUs: number) => {
    let sends = 0;
    while (head < ready.length && sends < MAX_SENDS_PER_TICK) {
      const item = ready[head] as Prebuilt;
      if (item.offsetUs > elapsedUs) break;
      head++;
      sends++;
      const intendedUs = ctx.t0Us + item.offsetUs;
      ctx.series.countPlanned();
      ctx.store.addCounter('iterations', flowTags);
      if (item.request === undefined) continue; // the builder threw: counted as a failure
      if (runtime.inFlight >= runtime.cap) {
        ctx.store.addCounter('dropped_iterations', flowTags);
        ctx.series.countDropped();
        continue;
      }
      ctx.monitor.recordSendLag(ctx.clock.nowUs() - intendedUs);
      const vu = item.iteration % runtime.cap;
      runtime.dispatch(
        item.request,
        item.iteration,
        intendedUs,
        vu,
        runtime.clientFor(item.iteration),
      );
    }
    if (head > 1_024 && head * 2 > ready.length) {
      ready.splice(0, head);
      head = 0;
    }
  };

  return new Promise((resolve) => {
    const tick = () => {
      if (ctx.stopping()) return resolve();
      const elapsed = ctx.clock.nowUs() - ctx.t0Us;
      prebuild(elapsed);
      dispatchDue(elapsed);
      prebuild(ctx.clock.nowUs() - ctx.t0Us + PREBUILD_US);
      const upcoming = head < ready.length ? (ready[head] as Prebuilt).offsetUs : next.value;
      if (upcoming === undefined) return resolve();
      const waitUs = upcoming - (ctx.clock.nowUs() - ctx.t0Us);
      if (waitUs <= 0) setImmediate(tick);
      else setTimeout(tick, Math.max(1, Math.round(waitUs / 1_000)));
    };
    prebuild(ctx.clock.nowUs() - ctx.t0Us + PREBUILD_US);
    const first = head < ready.length ? (ready[head] as Prebuilt).offsetUs : next.value;
    const firstWaitUs = (first ?? 0) - (ctx.clock.nowUs() - ctx.t0Us);
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
  let iterations: CounterLeaf | undefined;
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
      iterations ??= ctx.store.counterLeaf('iterations', flowTags);
      iterations.value++;
      ctx.series.countPlanned();
      const done = runtime.waitFor(vu);
      if (runtime.send(n, now, vu, runtime.clientFor(vu))) await gate.until(done);
      else await gate.sleep(100);
      const thinkMs = thinkTimeMs(load.thinkTime, random);
      if (thinkMs > 0) await gate.sleep(thinkMs);
    }
  };

  const gate = new StopGate(ctx);
  const startInMs = (startUs - ctx.clock.nowUs()) / 1_000;
  if (startInMs > 0) await gate.sleep(startInMs);
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
    await gate.sleep(50);
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

/**
 * The closed loop's waits, each ending early when the run stops, through one listener on the
 * stop: racing every wait against `ctx.stopped` would leave one reaction on that promise per
 * request until the run ends, so memory would grow with the request count.
 */
class StopGate {
  readonly #ctx: LoopContext;
  readonly #waiting = new Set<() => void>();

  constructor(ctx: LoopContext) {
    this.#ctx = ctx;
    void ctx.stopped.then(() => {
      for (const release of this.#waiting) release();
      this.#waiting.clear();
    });
  }

  /** Resolves when `done` does, or when the run stops. */
  until(done: Promise<void>): Promise<void> {
    if (this.#ctx.stopping()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting.add(resolve);
      void done.then(() => {
        this.#waiting.delete(resolve);
        resolve();
      });
    });
  }

  /** Resolves after `ms`, or when the run stops. */
  sleep(ms: number): Promise<void> {
    if (this.#ctx.stopping()) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiting.add(wake);
    });
  }
}
