/**
 * Runs autocannon through its programmatic API, in a process of its own (pinned by the
 * caller): `autocannon-runner.ts '<AutocannonJob JSON>'`, and prints one PeerOutcome line.
 * No progress rendering: autocannon pays only for its load loop, as launchproof's runner does.
 */
import autocannon from 'autocannon';
import type { AutocannonJob, PeerOutcome } from '../lib/jobs.ts';
import { printResult, sampleCpuSeconds } from '../lib/process.ts';

const job = JSON.parse(process.argv[2] ?? '{}') as AutocannonJob;

const cpuSeconds = sampleCpuSeconds();
const cpuBefore = process.cpuUsage();
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  pipelining: job.pipelining,
  // autocannon's duration is in seconds.
  duration: job.durationSec,
  ...(job.overallRate !== undefined ? { overallRate: job.overallRate } : {}),
});
const cpu = process.cpuUsage(cpuBefore);
const cpuSecondsUs = cpuSeconds.stop();

const durationMs = result.duration * 1_000;
const outcome: PeerOutcome = {
  requests: result.requests.total,
  durationMs,
  ratePerSec: result.requests.total / result.duration,
  latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
  cpuUs: cpu.user + cpu.system,
  cpuSecondsUs,
};
printResult(outcome);
