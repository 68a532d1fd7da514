export type MetricKind = 'trend' | 'counter' | 'rate' | 'gauge';

/** How a trend's recorded integers map to its reported unit. */
export type TrendUnit = 'ms' | 'tokens' | 'tokens/s';

export interface MetricDefinition {
  kind: MetricKind;
  description: string;
  /** For trends: the reported unit. Timings are recorded in microseconds, reported in ms. */
  unit?: TrendUnit;
}

/**
 * Every built-in metric. k6's names where the meaning is the same (so thresholds carry over),
 * ours beside them. `latency` is the coordinated-omission-free figure: from the intended send
 * time of an open-model request, not from when the generator got round to sending it.
 */
export const METRIC_CATALOG = {
  http_reqs: { kind: 'counter', description: 'requests completed or failed (k6)' },
  http_req_failed: {
    kind: 'rate',
    description: 'share of requests that failed or got an unexpected status (k6)',
  },
  http_req_duration: {
    kind: 'trend',
    unit: 'ms',
    description: 'from the actual send to the end of the response (k6)',
  },
  http_req_waiting: {
    kind: 'trend',
    unit: 'ms',
    description: 'from the actual send to the response headers (k6: time to first byte)',
  },
  latency: {
    kind: 'trend',
    unit: 'ms',
    description: 'from the intended send time to the end of the response (what users feel)',
  },
  iterations: { kind: 'counter', description: 'requests the schedule started (k6)' },
  dropped_iterations: {
    kind: 'counter',
    description: 'open-model sends skipped because the in-flight cap was reached (k6)',
  },
  checks: { kind: 'rate', description: 'share of per-response checks that passed (k6)' },
  ratelimited: { kind: 'rate', description: 'share of responses that were 429' },
  fallback: { kind: 'rate', description: 'share of responses carrying the fallback marker' },
  chat_ttft: {
    kind: 'trend',
    unit: 'ms',
    description: 'from the intended send time to the first non-empty content delta',
  },
  chat_ttft_send: {
    kind: 'trend',
    unit: 'ms',
    description: 'from the actual send to the first non-empty content delta',
  },
  chat_itl: { kind: 'trend', unit: 'ms', description: 'gaps between content deltas' },
  chat_duration: {
    kind: 'trend',
    unit: 'ms',
    description: 'from the actual send to the end of the stream',
  },
  chat_tokens: { kind: 'trend', unit: 'tokens', description: 'output tokens per response' },
  chat_tokens_per_sec: {
    kind: 'trend',
    unit: 'tokens/s',
    description: 'output tokens per second after the first token, per response',
  },
  chat_stream_failed: {
    kind: 'rate',
    description: 'share of chat streams that errored, stalled, broke off or sent bad JSON',
  },
  chat_abandoned: {
    kind: 'counter',
    description: 'chat streams the client left on purpose (stream.abandonAfter)',
  },
  provider_calls: { kind: 'counter', description: 'calls the model provider received' },
  provider_cost_usd: { kind: 'counter', description: 'provider spend in US dollars' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRIC_CATALOG;

/** Recorded integers per reported unit: microseconds per ms, milli-tokens per token/s. */
export const TREND_SCALE: Record<TrendUnit, number> = { ms: 1_000, tokens: 1, 'tokens/s': 1_000 };

export function metricDefinition(name: string): MetricDefinition | undefined {
  return (METRIC_CATALOG as Record<string, MetricDefinition>)[name];
}
