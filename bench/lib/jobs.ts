/** What the bench asks of each tool's runner, and what each runner reports back. */

/** Timings in milliseconds. */
export interface Timing {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** One launchproof run, as bench/runners/launchproof-runner.ts builds it. */
export interface EngineJob {
  target: string;
  /** The flow's `load`, as a scenario file writes it. */
  load: Record<string, unknown>;
  request: { method?: string; path: string; headers?: Record<string, string>; json?: unknown };
  connections?: number;
  pipelining?: number;
  /** An OpenAI chat stream (the mock provider's). */
  stream?: boolean;
  /** Worker threads, when the engine has them. */
  workers?: number;
  /** Offsets from the runner's start at which to sample RSS. */
  rssAtMs?: number[];
  /**
   * At each RSS mark, also force a full garbage collection (node --expose-gc) and read the
   * live heap: RSS alone counts garbage V8 has not yet collected.
   */
  gcAtMarks?: boolean;
  /**
   * Also time `chat_ttft` exactly for the requests intended this long after t0 or later (the
   * streams cell's steady window), from every response record.
   */
  steadyFromMs?: number;
  /** Write a CPU profile of runScenario (`.cpuprofile`, Chrome's format) to this path. */
  profileTo?: string;
  /** The engine's HTTP client (default: the engine's own default, the fast client). */
  httpClient?: 'auto' | 'undici';
}

export interface EngineOutcome {
  requests: number;
  durationMs: number;
  ratePerSec: number;
  latency: Timing | undefined;
  duration: Timing | undefined;
  ttft: Timing | undefined;
  /** `chat_ttft` of the requests intended from `steadyFromMs` on (ms), when asked. */
  steadyTtft?: Timing;
  /** `chat_ttft` per second of the run (ms). */
  ttftSeconds: Array<{ t: number; count: number; p50: number; p99: number }>;
  failed: number;
  statusCodes: Record<string, number>;
  generator: {
    planned: number;
    sent: number;
    dropped: number;
    late: number;
    plannedRatePerSec: number;
    achievedRatePerSec: number;
    sendLagP99Ms: number;
    sendLagMaxMs: number;
    loopDelayP99Ms: number;
    cpuPercent: number;
    saturated: boolean;
    reasons: string[];
    workers: number;
  };
  failures: string[];
  /** User + system CPU of the runner during runScenario, µs. */
  cpuUs: number;
  /** Of which in the kernel (system time), µs. */
  cpuSystemUs: number;
  /** CPU of each whole second of the run, µs (start-up and summary fall in the first and last). */
  cpuSecondsUs: number[];
  rss: Array<{ atMs: number; bytes: number; liveHeapBytes?: number }>;
  /** Times the kernel took the core from the runner during the run (another process ran). */
  involuntaryContextSwitches: number;
}

/** One autocannon run, as bench/runners/autocannon-runner.ts gives it to autocannon. */
export interface AutocannonJob {
  url: string;
  connections: number;
  pipelining: number;
  durationSec: number;
  /** Requests per second over all connections (autocannon's `overallRate`). */
  overallRate?: number;
}

export interface PeerOutcome {
  requests: number;
  durationMs: number;
  ratePerSec: number;
  /** The tool's own latency figures (ms). */
  latency: { p50: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  /** CPU of the tool's process during the run, µs (undefined when it cannot be read). */
  cpuUs: number | undefined;
  /** CPU of each whole second of the run, µs (empty when it cannot be read). */
  cpuSecondsUs: number[];
}
