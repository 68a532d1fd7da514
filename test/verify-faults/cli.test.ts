import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { runCli } from '../helpers/cli.ts';

/** The summary.json of the one run written under `dir`. */
async function summaryIn(dir: string) {
  const [run] = await readdir(dir);
  if (run === undefined) throw new Error(`no results folder under ${dir}`);
  return summarySchema.parse(JSON.parse(await readFile(join(dir, run, 'summary.json'), 'utf8')));
}

describe('launchproof run scenarios/provider-timeout.ts (the real CLI)', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'lp-faults-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  // The two runs are about 20 s each and light (8 chats/s): they go side by side.
  it('exits 0 on the healthy demo and 99 when the demo has no fallback', async () => {
    const healthyOut = join(out, 'healthy');
    const flawedOut = join(out, 'no-fallback');
    const [healthy, flawed] = await Promise.all([
      runCli(['run', 'scenarios/provider-timeout.ts', '--ci', '--out', healthyOut]),
      runCli([
        'run',
        'scenarios/provider-timeout.ts',
        '--ci',
        '--out',
        flawedOut,
        '--demo-flaw',
        'no-fallback',
      ]),
    ]);

    expect(healthy.code, `${healthy.stdout}\n${healthy.stderr}`).toBe(0);
    expect(healthy.stdout).toContain('✓ fallback engages');
    expect(healthy.stdout).toContain('✓ circuit opens');
    const passing = await summaryIn(healthyOut);
    expect(passing.verdict).toBe('pass');
    expect(passing.faultWindows.map((w) => w.label)).toEqual([
      'provider-timeout: hang (all calls)',
    ]);
    expect(passing.metrics['fallback{fault:provider-timeout,phase:during}']).toMatchObject({
      rate: 1,
    });

    expect(flawed.code, `${flawed.stdout}\n${flawed.stderr}`).toBe(99);
    expect(flawed.stdout).toContain('✗ fallback engages');
    const failing = await summaryIn(flawedOut);
    const engages = failing.verifications.find((v) => v.name === 'fallback engages');
    expect(engages?.ok).toBe(false);
    expect(engages?.evidence[0]).toMatch(/^0 of \d+ answers/);
  }, 90_000);
});
