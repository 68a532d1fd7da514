import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { runCli } from '../helpers/cli.ts';

function readSummary(dir: string) {
  const [run] = readdirSync(dir);
  const text = readFileSync(join(dir, run as string, 'summary.json'), 'utf8');
  return summarySchema.parse(JSON.parse(text));
}

function launchReady(...flaws: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'lp-start-'));
  const args = ['run', 'scenarios/launch-ready.ts', '--out', out];
  for (const flaw of flaws) args.push('--demo-flaw', flaw);
  return runCli(args).then((result) => ({ result, summary: readSummary(out) }));
}

describe('the launch-ready suite against the embedded demo (npm start)', () => {
  it('passes on the healthy demo, every verification with its evidence', async () => {
    const { result, summary } = await launchReady();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('embedded demo at http://127.0.0.1:');
    expect(summary.verdict).toBe('pass');
    expect(summary.metrics.chat_ttft).toMatchObject({ kind: 'trend' });
    expect(summary.metrics.chat_tokens).toMatchObject({ kind: 'trend', unit: 'tokens' });
    expect(summary.checks.every((check) => check.fails === 0)).toBe(true);
    const names = summary.verifications.map((v) => v.name);
    for (const name of [
      'rate-limit ip: trip point',
      'rate-limit ip: bypass by x-forwarded-for',
      'fallback engages',
      'no retry storm',
    ]) {
      expect(names).toContain(name);
    }
    expect(summary.verifications.every((v) => v.ok && v.evidence.length > 0)).toBe(true);
  });

  it('fails with exit 99 when history needs no token and oversized input is taken', async () => {
    const { result, summary } = await launchReady('no-auth', 'no-input-limit');
    expect(result.code).toBe(99);
    const auth = summary.checks.find((check) => check.name === 'history needs a session token');
    expect(auth).toMatchObject({ passes: 0 });
    const limits = summary.checks.find((c) => c.name === 'oversized input is refused');
    expect(limits).toMatchObject({ passes: 0 });
    expect(summary.verifications.every((v) => v.ok)).toBe(true);
  });

  it('fails with exit 99 naming X-Forwarded-For when the limit trusts it', async () => {
    const { result, summary } = await launchReady('trust-xff');
    expect(result.code).toBe(99);
    const bypass = summary.verifications.find((v) => v.name.includes('bypass'));
    expect(bypass?.ok).toBe(false);
    expect(bypass?.evidence.join('\n')).toMatch(/BYPASS by X-Forwarded-For/);
    const trip = summary.verifications.find((v) => v.name === 'rate-limit ip: trip point');
    expect(trip?.ok).toBe(true);
  });
});
