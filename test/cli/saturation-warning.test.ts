import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderWarnings, SATURATED_SUFFIX } from '../../src/cli/run-output.ts';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { REPO, runCli } from '../helpers/cli.ts';
import { delayed, startTestServer, type TestServer } from '../helpers/http-server.ts';

let server: TestServer;
let out: string;

beforeAll(async () => {
  server = await startTestServer(delayed(1));
  out = mkdtempSync(join(tmpdir(), 'lp-saturation-'));
});
afterAll(async () => {
  await server.close();
  rmSync(out, { recursive: true, force: true });
});

const LAG = 'send lag p99 812.0 ms is over 10 ms (120 of 150 sends): the generator fell behind';
const LOOP = 'event-loop delay p99 120.1 ms is over 50 ms: responses were timed late';
const SETUP = 'identity 3: session setup answered 500';

describe('renderWarnings', () => {
  it("puts the generator's saturation reasons on one line, where the first of them came", () => {
    expect(renderWarnings([SETUP, LAG, LOOP], [LAG, LOOP])).toEqual([
      `warning: ${SETUP}`,
      `warning: ${LAG}; ${LOOP}${SATURATED_SUFFIX}`,
    ]);
  });

  it('keeps every other warning on a line of its own', () => {
    expect(renderWarnings([SETUP, LAG], [])).toEqual([`warning: ${SETUP}`, `warning: ${LAG}`]);
    expect(renderWarnings([], [LAG])).toEqual([]);
  });
});

describe('launchproof run on a starved generator', () => {
  it('says in one line that the generator was saturated, though several reasons apply', async () => {
    const starved = join(REPO, 'test/bench-guard/fixtures/starved.ts');
    const { code, stderr } = await runCli(['run', starved, '--target', server.url, '--out', out]);

    expect(code).toBe(0);
    const [run] = readdirSync(out);
    const summary = summarySchema.parse(
      JSON.parse(readFileSync(join(out, run as string, 'summary.json'), 'utf8')),
    );
    const reasons = summary.generator.reasons;
    // Building each request burns 20 ms: the schedule slips and the loop is held alike.
    expect(reasons.length).toBeGreaterThanOrEqual(2);
    const warnings = stderr.split('\n').filter((line) => line.startsWith('warning: '));
    expect(warnings).toEqual([`warning: ${reasons.join('; ')}${SATURATED_SUFFIX}`]);
  });
});
