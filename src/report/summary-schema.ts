import { z } from 'zod';

/** Bumped whenever a field changes meaning or goes away; additions keep the version. */
export const SUMMARY_SCHEMA_VERSION = 1;

const trendSummary = z.object({
  kind: z.literal('trend'),
  unit: z.enum(['ms', 'tokens', 'tokens/s']),
  count: z.number().int().nonnegative(),
  min: z.number(),
  mean: z.number(),
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  'p99.9': z.number(),
  max: z.number(),
});

const counterSummary = z.object({
  kind: z.literal('counter'),
  count: z.number(),
  ratePerSec: z.number(),
});

const rateSummary = z.object({
  kind: z.literal('rate'),
  rate: z.number().min(0).max(1),
  passes: z.number().int().nonnegative(),
  fails: z.number().int().nonnegative(),
});

const gaugeSummary = z.object({ kind: z.literal('gauge'), value: z.number() });

export const metricSummarySchema = z.discriminatedUnion('kind', [
  trendSummary,
  counterSummary,
  rateSummary,
  gaugeSummary,
]);

export const thresholdOutcomeSchema = z.object({
  metric: z.string(),
  expression: z.string(),
  observed: z.number().nullable(),
  ok: z.boolean(),
  abortOnFail: z.boolean(),
  note: z.string().optional(),
});

export const verificationSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  evidence: z.array(z.string()),
  /** Which flow or part of the scenario it speaks for, when not the whole run. */
  subject: z.string().optional(),
});

const secondPercentiles = z
  .object({
    count: z.number(),
    p50: z.number(),
    p95: z.number(),
    p99: z.number(),
    max: z.number(),
  })
  .nullable();

export const secondRowSchema = z.object({
  t: z.number().int().nonnegative(),
  flows: z.record(
    z.string(),
    z.object({
      requests: z.record(z.string(), z.number()),
      ratelimited: z.number(),
      fallback: z.number(),
      failures: z.number(),
      latency: secondPercentiles,
      duration: secondPercentiles,
      ttft: secondPercentiles,
    }),
  ),
  planned: z.number(),
  sent: z.number(),
  dropped: z.number(),
  inFlight: z.number(),
  sendLagP99Ms: z.number(),
  sendLagMaxMs: z.number(),
  loopDelayP99Ms: z.number(),
  cpuPercent: z.number(),
  /** Calls the mock provider got in this second, when its counters are known. */
  providerCalls: z.number().optional(),
  /** What those calls' tokens cost, in US dollars, when the provider's counters are known. */
  providerCostUsd: z.number().optional(),
});

const spread = z.object({ p50: z.number(), p99: z.number(), max: z.number() });

export const generatorSchema = z.object({
  plannedRatePerSec: z.number(),
  achievedRatePerSec: z.number(),
  planned: z.number(),
  sent: z.number(),
  late: z.number(),
  dropped: z.number(),
  sendLagMs: spread,
  eventLoopDelayMs: spread,
  cpuPercent: z.number(),
  saturated: z.boolean(),
  reasons: z.array(z.string()),
  workers: z.number().int().positive().default(1),
});

export const flowSummarySchema = z.object({
  name: z.string(),
  executor: z.string(),
  model: z.enum(['open', 'closed']),
  planned: z.number(),
  sent: z.number(),
  dropped: z.number(),
  identities: z.number().int().positive(),
  tags: z.record(z.string(), z.string()),
  stream: z.string().optional(),
});

/** A fault window of a timeline, in ms from the run's start (charts shade these). */
export const faultWindowSchema = z.object({
  label: z.string(),
  startMs: z.number(),
  endMs: z.number(),
});

/**
 * `summary.json`: everything a run found, in one versioned file that the reporters, `report`
 * and `compare` read back. Timings are milliseconds.
 */
export const summarySchema = z.object({
  schemaVersion: z.literal(SUMMARY_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('launchproof'), version: z.string() }),
  scenario: z.string(),
  description: z.string().optional(),
  scenarioFile: z.string().optional(),
  target: z.string(),
  seed: z.number().int(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  plannedDurationMs: z.number().nonnegative(),
  complete: z.boolean(),
  stopReason: z.enum(['finished', 'signal', 'threshold-abort']),
  verdict: z.enum(['pass', 'fail']),
  flows: z.array(flowSummarySchema),
  metrics: z.record(z.string(), metricSummarySchema),
  statusCodes: z.record(z.string(), z.number().int().nonnegative()),
  checks: z.array(
    z.object({ flow: z.string(), name: z.string(), passes: z.number(), fails: z.number() }),
  ),
  failures: z.array(
    z.object({
      kind: z.string(),
      count: z.number().int().positive(),
      message: z.string(),
      flows: z.array(z.string()),
    }),
  ),
  thresholds: z.array(thresholdOutcomeSchema),
  verifications: z.array(verificationSchema),
  generator: generatorSchema,
  /** Notes the reader must see: estimated figures, substitutions, caveats. */
  notes: z.array(z.string()),
  faultWindows: z.array(faultWindowSchema).default([]),
  /** One row per second of the run. */
  series: z.array(secondRowSchema),
  /** Whole-run HDR histograms (compressed base64, microseconds) for spectra and comparisons. */
  histograms: z.record(z.string(), z.string()),
});

export type Summary = z.infer<typeof summarySchema>;
export type MetricSummary = z.infer<typeof metricSummarySchema>;
export type Verification = z.infer<typeof verificationSchema>;
export type ThresholdOutcome = z.infer<typeof thresholdOutcomeSchema>;
