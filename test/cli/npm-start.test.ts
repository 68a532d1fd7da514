import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { runCli } from '../helpers/cli.ts';

function readSummary(dir: string) {
  const [run] = readdirSync(dir);
  return summarySchema.parse(
    JSON.parse(readFileSync(join(dir, run as string, 'summary.json'), 'utf8')),
  );
}

describe('the launch-ready suite against the embedded demo (npm start)', () => {
  it('passes on the healthy demo with chat metrics in the summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lp-start-'));
    const result = await runCli(['run', 'scenarios/launch-ready.ts', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('embedded demo at http://127.0.0.1:');
    const summary = readSummary(out);
    expect(summary.verdict).toBe('pass');
    expect(summary.metrics.chat_ttft).toMatchObject({ kind: 'trend' });
    expect(summary.metrics.chat_tokens).toMatchObject({ kind: 'trend', unit: 'tokens' });
    expect(summary.checks.every((check) => check.fails === 0)).toBe(true);
  });

  it('fails with exit 99 when the demo serves chat history without a token', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lp-start-'));
    const result = await runCli([
      'run',
      'scenarios/launch-ready.ts',
      '--out',
      out,
      '--demo-flaw',
      'no-auth',
      '--duration',
      '4s',
    ]);
    expect(result.code).toBe(99);
    const summary = readSummary(out);
    const auth = summary.checks.find((check) => check.name === 'history needs a session token');
    expect(auth?.passes).toBe(0);
    expect(auth?.fails).toBeGreaterThan(0);
  });

  it('fails with exit 99 when the demo takes an oversized message', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lp-start-'));
    const result = await runCli([
      'run',
      'scenarios/launch-ready.ts',
      '--out',
      out,
      '--demo-flaw',
      'no-input-limit',
      '--duration',
      '4s',
    ]);
    expect(result.code).toBe(99);
    const limits = readSummary(out).checks.find((c) => c.name === 'oversized input is refused');
    expect(limits?.passes).toBe(0);
  });
});
