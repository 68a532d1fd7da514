import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { type CliResult, spawnCli } from '../helpers/cli.ts';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'lp-abuse-'));
});
afterAll(() => rm(out, { recursive: true, force: true }));

/** Runs the CLI, killing it if it has not ended in 45 s: a hung run must not outlive the test. */
async function runCli(args: string[]): Promise<CliResult> {
  const { child, done } = spawnCli(args);
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

async function summaryIn(dir: string) {
  const [run] = await readdir(dir);
  const text = await readFile(join(dir, run as string, 'summary.json'), 'utf8');
  return summarySchema.parse(JSON.parse(text));
}

describe('launchproof run scenarios/abuse-session.ts', () => {
  it('exits 0 on the healthy embedded demo, every rate-limit verification passing', async () => {
    const dir = join(out, 'healthy');
    const result = await runCli(['run', 'scenarios/abuse-session.ts', '--ci', '--out', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('✓ rate-limit session: trip point');
    expect(result.stdout).toContain(
      '✓ rate-limit ip: bypass by session Authorization bearer token',
    );

    const summary = await summaryIn(dir);
    expect(summary.verdict).toBe('pass');
    expect(summary.verifications.map((v) => [v.name, v.ok])).toEqual([
      ['rate-limit session: trip point', true],
      ['rate-limit session: leaks', true],
      ['rate-limit session: headers', true],
      ['rate-limit ip: bypass by session Authorization bearer token', true],
      ['rate-limit ip: bypass by session header x-session-id', true],
    ]);
    // The sessions' bearer tokens never reach the results.
    const raw = JSON.stringify(summary);
    expect(raw).not.toMatch(/Bearer\s/);
  });

  it('exits 99 under session-only-limit, naming the rotated sessions that bypassed the IP limit', async () => {
    const dir = join(out, 'flawed');
    const result = await runCli([
      'run',
      'scenarios/abuse-session.ts',
      '--ci',
      '--out',
      dir,
      '--demo-flaw',
      'session-only-limit',
    ]);
    expect(result.code, result.stderr).toBe(99);
    expect(result.stdout).toContain(
      '✗ rate-limit ip: bypass by session Authorization bearer token',
    );
    expect(result.stdout).toContain(
      'BYPASS by 8 sessions (Authorization bearer token): 30 requests from one address (127.0.0.31)',
    );
    const summary = await summaryIn(dir);
    expect(summary.verdict).toBe('fail');
    expect(summary.verifications.find((v) => v.name === 'rate-limit session: trip point')?.ok).toBe(
      true,
    );
  });
});
