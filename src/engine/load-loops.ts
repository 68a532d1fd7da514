import type { CounterLeaf, MetricStore } from '../metrics/metric-store.ts';
import type { TimeSeries } from '../metrics/time-series.ts';
import type { LoadShape } from '../scenario/schema.ts';
import { deriveSeed, SeededRandom } from '../util/random.ts';
import type { ArrivalSchedule } from './arrival-schedule.ts';
import type { Clock } from './clock.ts';
import type { FlowRuntime } from './flow-runtime.ts';
import type { GeneratorMonitor } from './generator-monitor.ts';
import type { PreparedRequest } from './http-exchange.ts';
import type { SpinBudget } from './spin-budget.ts';

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
  /** The run's one spin budget, shared by its open-model flows (so many flows spin no more). */
  spin: SpinBudget;
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
 *    A timer that wakes the loop less than 1 ms early has the rest waited out a loop turn at a
 *    time, within a small share of the core (`SpinBudget`, one a run).
 * Requests of identities another worker owns are skipped: that worker sends them.
 */
export function runOpenLoop(
  runtime: FlowRuntime,
  schedule: ArrivalSchedule,
  ctx: LoopContext,
): Promise<void> {
  const offsets = schedule.offsets();
  const flowTags = { flow: runtime.flow.name };
  // Leaves kept for the hot path: a tag key built per send allocates, and GC pauses delay sends.
  let iterations: CounterLeaf | undefined;
  let dropped: CounterLeaf | undefined;
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

  /** Dispatches what is due by `elapsedUs`; returns how many came due. */
  const dispatchDue = (elapsedUs: number): number => {
    let sends = 0;
    while (head < ready.length && sends < MAX_SENDS_PER_TICK) {
      const item = ready[head] as Prebuilt;
      if (item.offsetUs > elapsedUs) break;
      head++;
      sends++;
      const intendedUs = ctx.t0Us + item.offsetUs;
      ctx.series.countPlanned();
      iterations ??= ctx.store.counterLeaf('iterations', flowTags);
      iterations.value++;
      if (item.request === undefined) continue; // the builder threw: counted as a failure
      if (runtime.inFlight >= runtime.cap) {
        dropped ??= ctx.store.counterLeaf('dropped_iterations', flowTags);
        dropped.value++;
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
    return sends;
  };

  return new Promise((resolve) => {
    const spin = ctx.spin;
    let spunFromUs: number | undefined;
    /**
     * `maySpin`: woken by a timer set for a millisecond or more, or by a spin turn. Only those
     * wake-ups may spin: a schedule whose sends are under 1 ms apart never does.
     */
    const tick = (maySpin: boolean) => {
      if (ctx.stopping()) return resolve();
      const nowUs = ctx.clock.nowUs();
      if (spunFromUs !== undefined) {
        spin.spend(spunFromUs, nowUs);
        spunFromUs = undefined;
      }
      const elapsed = nowUs - ctx.t0Us;
      prebuild(elapsed);
      const sent = dispatchDue(elapsed);
      prebuild(ctx.clock.nowUs() - ctx.t0Us + PREBUILD_US);
      const upcoming = head < ready.length ? (ready[head] as Prebuilt).offsetUs : next.value;
      if (upcoming === undefined) return resolve();
      const afterUs = ctx.clock.nowUs();
      const waitUs = upcoming - (afterUs - ctx.t0Us);
      if (waitUs <= 0) setImmediate(tick, false);
      else if (waitUs < 1_000 && maySpin && sent === 0 && spin.allows(afterUs, waitUs)) {
        spunFromUs = afterUs;
        setImmediate(tick, true);
      } else {
        // With a spin saved up, wake early and spin the rest; without, wake nearest the due time.
        const ms =
          spin.savedUs(afterUs) >= 1_000 ? Math.floor(waitUs / 1_000) : Math.round(waitUs / 1_000);
        setTimeout(tick, Math.max(1, ms), waitUs >= 1_000);
      }
    };
    prebuild(ctx.clock.nowUs() - ctx.t0Us + PREBUILD_US);
    const first = head < ready.length ? (ready[head] as Prebuilt).offsetUs : next.value;
    const firstWaitUs = (first ?? 0) - (ctx.clock.nowUs() - ctx.t0Us);
    setTimeout(tick, Math.max(0, Math.round(firstWaitUs / 1_000)), firstWaitUs >= 1_000);
  });
}

type ClosedLoad = Extract<LoadShape, { executor: 'constant-vus' | 'ramping-vus' }>;

/**
 * Runs a closed-model flow: each virtual user sends, waits for its answer, thinks, and sends
 * again. With `ramping-vus`, the number of active users follows the stages linearly; a user
 * above the current target finishes its request and stops (k6's graceful ramp-down).
 */
export function runClosedLoop(
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

  // Virtual users are callbacks, not async loops: a user's next request is sent from the
  // handler of its last answer, with no promise in between, so the fast client can write a
  // chunk's worth of pipelined answers' successors in one go.
  const running = new Uint8Array(maxVus);
  const randoms = new Map<number, SeededRandom>();
  const sleeping = new Map<number, NodeJS.Timeout>();
  let active = 0;
  let spawning = true;
  let stopped = false;
  /** The user whose request is being sent right now (-1: none), to catch a sync failure. */
  let sendingVu = -1;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const exit = (vu: number) => {
    if (running[vu] === 0) return;
    running[vu] = 0;
    active--;
    if (active === 0 && !spawning) finish();
  };

  const sleep = (vu: number, ms: number) => {
    sleeping.set(
      vu,
      setTimeout(() => {
        sleeping.delete(vu);
        step(vu);
      }, ms),
    );
  };

  const step = (vu: number): void => {
    if (running[vu] === 0) return;
    const now = ctx.clock.nowUs();
    if (stopped || ctx.stopping() || now >= endUs || vu >= Math.round(target(now))) {
      exit(vu);
      return;
    }
    const n = iteration++;
    iterations ??= ctx.store.counterLeaf('iterations', flowTags);
    iterations.value++;
    ctx.series.countPlanned();
    sendingVu = vu;
    const sent = runtime.send(n, now, vu, runtime.clientFor(vu));
    sendingVu = -1;
    if (!sent) sleep(vu, 100);
  };

  runtime.onVuDone((vu) => {
    if (running[vu] === 0 || stopped) return;
    const think = load.thinkTime;
    let thinkMs = 0;
    if (think !== undefined) {
      let random = randoms.get(vu);
      if (random === undefined) {
        random = new SeededRandom(deriveSeed(seed, runtime.flow.name, 'think', vu));
        randoms.set(vu, random);
      }
      thinkMs = thinkTimeMs(think, random);
    }
    if (thinkMs > 0) sleep(vu, thinkMs);
    // An answer that ended inside its own send (refused at once) must not recurse.
    else if (vu === sendingVu) setImmediate(step, vu);
    else step(vu);
  });

  const start = (vu: number) => {
    running[vu] = 1;
    active++;
    step(vu);
  };

  void ctx.stopped.then(() => {
    // Stopping: no user sends again; those waiting for an answer leave it to the drain.
    stopped = true;
    for (const timer of sleeping.values()) clearTimeout(timer);
    sleeping.clear();
    spawning = false;
    for (let vu = 0; vu < maxVus; vu++) exit(vu);
    finish();
  });

  const spawn = () => {
    if (stopped) return;
    const now = ctx.clock.nowUs();
    if (ctx.stopping() || now >= endUs) {
      spawning = false;
      if (active === 0) finish();
      return;
    }
    const wanted = Math.min(maxVus, Math.round(target(now)));
    for (let vu = 0; vu < wanted; vu++) {
      if (running[vu] === 0 && runtime.owns(vu % runtime.clients.length)) start(vu);
    }
    if (load.executor === 'constant-vus') {
      spawning = false;
      if (active === 0) finish();
      return;
    }
    setTimeout(spawn, 50);
  };

  const startInMs = (startUs - ctx.clock.nowUs()) / 1_000;
  if (startInMs > 0) {
    const timer = setTimeout(spawn, startInMs);
    void ctx.stopped.then(() => clearTimeout(timer));
  } else {
    spawn();
  }
  return done;
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
