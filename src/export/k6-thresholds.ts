import type { Scenario } from '../scenario/schema.ts';
import { parseMetricKey } from '../thresholds/parse.ts';
import type { ExportWarning } from './export-warning.ts';

/** A threshold entry as k6's `options.thresholds` takes it. */
export type K6Threshold =
  | string
  | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

/** What the script measures, so that each threshold can be judged against it. */
export interface MeasuredMetrics {
  /** Custom metrics the script defines and adds to (`chat_ttft`, `ratelimited`, …). */
  custom: ReadonlySet<string>;
  /** Tag keys every sample carries besides k6's system tags (`flow`, flow and request tags). */
  tagKeys: ReadonlySet<string>;
  /** Streaming flows, whose requests xk6-sse reports without `http_req_failed`. */
  streamFlows: readonly string[];
}

/** Metrics k6 itself reports, with the meaning launchproof gives the same names. */
const K6_METRICS: ReadonlySet<string> = new Set([
  'http_reqs',
  'http_req_failed',
  'http_req_duration',
  'http_req_waiting',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_receiving',
  'iterations',
  'iteration_duration',
  'dropped_iterations',
  'checks',
  'vus',
  'vus_max',
  'data_sent',
  'data_received',
]);

/** k6's system tags that are on by default (`systemTags`), as the k6 docs list them. */
const K6_SYSTEM_TAGS: ReadonlySet<string> = new Set([
  'proto',
  'subproto',
  'status',
  'method',
  'url',
  'name',
  'group',
  'check',
  'error',
  'error_code',
  'tls_version',
  'scenario',
  'service',
  'expected_response',
]);

/** Tags the script adds to its own metrics only (k6's built-ins are tagged before the answer). */
const CUSTOM_ONLY_TAGS: ReadonlySet<string> = new Set(['status_class']);

/**
 * Carries a scenario's thresholds into k6's `options.thresholds`, unchanged where k6 has the
 * metric with the same meaning (the grammar is k6's own):
 * 1. `latency` becomes `http_req_duration` (k6 measures from the actual send), with a warning;
 * 2. a threshold on a metric the script neither gets from k6 nor defines is dropped with a
 *    warning, since k6 refuses to start on a threshold over an unknown metric;
 * 3. a sub-metric on a tag no sample of that metric carries would pass on no samples: it is
 *    dropped with a warning rather than kept as a threshold that cannot fail;
 * 4. `delayAbortEval` given in milliseconds is written as a k6 duration.
 */
export function mapThresholds(
  input: Scenario['thresholds'],
  measured: MeasuredMetrics,
): { thresholds: Record<string, K6Threshold[]>; warnings: ExportWarning[] } {
  const thresholds: Record<string, K6Threshold[]> = {};
  const warnings: ExportWarning[] = [];

  for (const [key, entries] of Object.entries(input)) {
    const { metricName, tags } = parseMetricKey(key);
    const expressions = entries.map(k6Entry);
    const written = expressions.map(expressionText).join(', ');

    const name = metricName === 'latency' ? 'http_req_duration' : metricName;
    const custom = measured.custom.has(name);
    if (!K6_METRICS.has(name) && !custom) {
      warnings.push({
        kind: 'threshold-dropped',
        message:
          `threshold ${key}: ${written} is dropped: the k6 script has no ${name} metric ` +
          '(k6 refuses to start on a threshold over an unknown metric)',
      });
      continue;
    }

    const unknownTags = Object.keys(tags).filter(
      (tag) =>
        !K6_SYSTEM_TAGS.has(tag) &&
        !measured.tagKeys.has(tag) &&
        !(custom && CUSTOM_ONLY_TAGS.has(tag)),
    );
    if (unknownTags.length > 0) {
      warnings.push({
        kind: 'threshold-dropped',
        message:
          `threshold ${key}: ${written} is dropped: no ${name} sample in k6 carries the tag ` +
          `${unknownTags.join(', ')}, so it could only pass on no samples`,
      });
      continue;
    }

    if (metricName === 'latency') {
      warnings.push({
        kind: 'latency-threshold',
        message:
          `threshold ${key}: ${written} is kept on http_req_duration: k6 measures from the ` +
          'actual send, so the coordinated-omission-free latency (from the intended send) is ' +
          'not what k6 checks; a saturated target looks faster there than it is',
      });
    }

    if (name === 'http_req_failed' && measured.streamFlows.length > 0) {
      warnings.push({
        kind: 'threshold-changed',
        message:
          `threshold ${key}: ${written} reads only non-streaming requests in k6: xk6-sse ` +
          `reports no http_req_failed, so flows ${measured.streamFlows.join(', ')} add no samples`,
      });
    }
    if (name === 'chat_ttft') {
      warnings.push({
        kind: 'threshold-changed',
        message:
          `threshold ${key}: ${written} reads chat_ttft as the script times it: from the actual ` +
          'send (launchproof times it from the intended send, so a queue or a slow generator ' +
          'is not hidden), in whole milliseconds',
      });
    } else if (name === 'chat_ttft_send' || name === 'chat_itl' || name === 'chat_duration') {
      warnings.push({
        kind: 'threshold-changed',
        message:
          `threshold ${key}: ${written} reads ${name} in whole milliseconds (the script's ` +
          'clock is Date.now; launchproof times in microseconds)',
      });
    }

    const rest = key.slice(key.indexOf(metricName) + metricName.length);
    const mappedKey = name === metricName ? key : name + rest;
    thresholds[mappedKey] = [...(thresholds[mappedKey] ?? []), ...expressions];
  }
  return { thresholds, warnings };
}

type Entry = Scenario['thresholds'][string][number];

function k6Entry(entry: Entry): K6Threshold {
  if (typeof entry === 'string') return entry;
  const out: K6Threshold = { threshold: entry.threshold };
  if (entry.abortOnFail !== undefined) out.abortOnFail = entry.abortOnFail;
  if (entry.delayAbortEval !== undefined) {
    out.delayAbortEval =
      typeof entry.delayAbortEval === 'number' ? `${entry.delayAbortEval}ms` : entry.delayAbortEval;
  }
  return out;
}

function expressionText(entry: K6Threshold): string {
  return typeof entry === 'string' ? entry : entry.threshold;
}
