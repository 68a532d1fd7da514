import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/command.ts';
import { compareCommand } from '../../src/cli/commands/compare.ts';
import { main, registerCommand } from '../../src/cli/main.ts';
import { compareSummaries, renderComparisonMarkdown } from '../../src/report/compare.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { buildFixtureRun, writeRunFolder } from '../fixtures/summaries/build-summary.ts';

let root: string;
let passing: Summary;
let failing: Summary;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lp-compare-'));
  passing = (await buildFixtureRun('pass')).summary;
  failing = (await buildFixtureRun('fail')).summary;
  // main.ts belongs to the CLI's owner; until it lists compare, register it for these runs.
  registerCommand('compare', { summary: compareCommand.summary, load: async () => compareCommand });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    env: {},
    cwd: root,
    signal: new AbortController().signal,
    verbose: false,
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

let folders = 0;
/** Writes a run folder for `summary` and returns its name relative to root. */
async function run(summary: Summary): Promise<string> {
  const name = `run-${++folders}`;
  await writeRunFolder(root, name, summary);
  return name;
}

/** A copy of `summary` with the p95 and p99 of `metric` multiplied by `factor`. */
function slower(summary: Summary, metric: string, factor: number): Summary {
  const copy = structuredClone(summary);
  const m = copy.metrics[metric];
  if (m?.kind !== 'trend') throw new Error(`${metric} is not a trend`);
  m.p95 *= factor;
  m.p99 *= factor;
  return copy;
}

/** A copy of `summary` whose http_req_failed rate is `rate`. */
function withErrorRate(summary: Summary, rate: number): Summary {
  const copy = structuredClone(summary);
  copy.metrics.http_req_failed = { kind: 'rate', rate, passes: Math.round(rate * 300), fails: 300 };
  return copy;
}

describe('launchproof compare', () => {
  it('exits 0 and reports no regression for an unchanged pair', async () => {
    const result = await cli('compare', await run(passing), await run(passing));

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no regression');
    expect(result.stdout).not.toContain('REGRESSION');
    expect(result.stdout).toMatch(/^latency +p95 +279\.81 ms +279\.81 ms +±0\.00 ms \(±0\.0%\)$/m);
  });

  it('exits 99 when the p95 and p99 of latency grew by 20%, naming both', async () => {
    const result = await cli(
      'compare',
      await run(passing),
      await run(slower(passing, 'latency', 1.2)),
    );

    expect(result.code).toBe(99);
    expect(result.stdout).toContain('latency p95 grew by 20.0%, from 279.81 ms to 335.77 ms');
    expect(result.stdout).toContain('latency p99 grew by 20.0%, from 294.14 ms to 352.97 ms');
    expect(result.stdout).toContain('2 regressions:');
  });

  it('exits 0 for the same growth when --max-increase allows 25%', async () => {
    const result = await cli(
      'compare',
      await run(passing),
      await run(slower(passing, 'latency', 1.2)),
      '--max-increase',
      '25',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('timing p95/p99 up more than 25.0%');
  });

  it('counts growth of exactly the allowance as no regression, and a hair more as one', () => {
    const rules = { maxIncreasePercent: 10, maxErrorRateIncreasePoints: 0.5 };
    expect(compareSummaries(passing, slower(passing, 'latency', 1.1), rules).regressions).toEqual(
      [],
    );
    expect(
      compareSummaries(passing, slower(passing, 'latency', 1.1001), rules).regressions,
    ).toHaveLength(2);
  });

  it('treats an error rate up 0.6 points as a regression and up 0.4 points as none', async () => {
    const base = await run(withErrorRate(passing, 0.01));

    const up6 = await cli('compare', base, await run(withErrorRate(passing, 0.016)));
    const up4 = await cli('compare', base, await run(withErrorRate(passing, 0.014)));
    const allowed = await cli(
      'compare',
      base,
      await run(withErrorRate(passing, 0.016)),
      '--max-error-rate-increase',
      '1',
    );

    expect(up6.code).toBe(99);
    expect(up6.stdout).toContain('http_req_failed rose by 0.60 points, from 1.00% to 1.60%');
    expect(up4.code).toBe(0);
    expect(allowed.code).toBe(0);
  });

  it('exits 99 when a verification that passed in the baseline fails now', async () => {
    const current = structuredClone(passing);
    const [first] = current.verifications;
    if (first) first.ok = false;

    const result = await cli('compare', await run(passing), await run(current));

    expect(result.code).toBe(99);
    expect(result.stdout).toContain(
      'verification rate limit per IP (abuser) passed in the baseline and fails now',
    );
  });

  it('does not call a verification that was already failing a regression', async () => {
    const both = structuredClone(passing);
    const [first] = both.verifications;
    if (first) first.ok = false;
    expect(compareSummaries(both, both).regressions).toEqual([]);
  });

  it('exits 0 when the run got faster, showing the drop as a negative change', async () => {
    const result = await cli(
      'compare',
      await run(slower(passing, 'latency', 1.5)),
      await run(passing),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^latency +p95 +419\.71 ms +279\.81 ms +−139\.90 ms \(−33\.3%\)$/m,
    );
  });

  it('finds every regression of a failing run against a passing baseline', () => {
    const comparison = compareSummaries(passing, failing);

    expect(comparison.regressions).toEqual([
      'chat_ttft p95 grew by 784.8%, from 280.06 ms to 2,478.08 ms',
      'chat_ttft p99 grew by 844.3%, from 289.54 ms to 2,734.08 ms',
      'http_req_duration p95 grew by 844.9%, from 279.81 ms to 2,643.97 ms',
      'http_req_duration p99 grew by 881.2%, from 293.89 ms to 2,883.58 ms',
      'http_req_failed rose by 6.33 points, from 0.00% to 6.33%',
      // (3,010.559 − 279.807) / 279.807 = 9.759
      'latency p95 grew by 975.9%, from 279.81 ms to 3,010.56 ms',
      'latency p99 grew by 1,004.3%, from 294.14 ms to 3,248.13 ms',
      'latency{flow:visitors} p95 grew by 976.5%, from 285.18 ms to 3,069.95 ms',
      'latency{flow:visitors} p99 grew by 1,010.0%, from 294.66 ms to 3,270.66 ms',
      'threshold latency: p(95)<500 passed in the baseline and fails now',
      'threshold latency{flow:visitors}: p(99)<1500 passed in the baseline and fails now',
      'threshold http_req_failed: rate<0.01 passed in the baseline and fails now',
      'verification rate limit per IP (abuser) passed in the baseline and fails now',
      'verification fallback on provider stall (visitors) passed in the baseline and fails now',
    ]);
    expect(comparison.warnings).toEqual([
      "the run's load generator was saturated: its latency figures are not reliable",
    ]);
    expect(renderComparisonMarkdown(comparison)).toMatchSnapshot();
  });

  it('writes the Markdown table with --markdown FILE and prints it with --format markdown', async () => {
    const baseline = await run(passing);
    const current = await run(failing);

    const written = await cli('compare', baseline, current, '--markdown', 'out/compare.md');
    const printed = await cli('compare', baseline, current, '--format', 'markdown');

    expect(written.code).toBe(99);
    expect(printed.code).toBe(99);
    const file = await readFile(join(root, 'out', 'compare.md'), 'utf8');
    expect(file).toBe(printed.stdout);
    expect(file).toContain(
      '| latency | p95 | 279.81 ms | 3,010.56 ms | +2,730.75 ms (+975.9%) | **regression** |',
    );
    expect(written.stdout).toContain('REGRESSION');
  });

  it('refuses two runs of different scenarios with LP_ERR_COMPARE (exit 2)', async () => {
    const other = { ...passing, scenario: 'burst-chat' };

    const result = await cli('compare', await run(passing), await run(other));

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'error: cannot compare runs of different scenarios: the baseline ran "launch-smoke", the run "burst-chat"',
    );
    expect(() => compareSummaries(passing, other)).toThrow(
      expect.objectContaining({ code: 'LP_ERR_COMPARE' }),
    );
  });

  it('names the missing summary.json (LP_ERR_RESULTS_INVALID, exit 1)', async () => {
    const result = await cli('compare', await run(passing), 'no-such-run');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: no summary.json in ${join(root, 'no-such-run')}`);
  });

  it('refuses a bad flag value or a missing run folder as usage errors (exit 2)', async () => {
    const a = await run(passing);

    const badNumber = await cli('compare', a, a, '--max-increase', 'ten');
    const oneRun = await cli('compare', a);

    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('--max-increase');
    expect(oneRun.code).toBe(2);
    expect(oneRun.stderr).toContain('compare takes two run folders');
  });
});
