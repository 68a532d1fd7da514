import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ExportWarning, exportK6, formatExportWarning } from '../../src/export/index.ts';
import { loadScenario, validateScenario } from '../../src/scenario/load-scenario.ts';
import type { ScenarioInput } from '../../src/scenario/schema.ts';
import { REPO } from './k6-harness.ts';

const GUARDED = join(REPO, 'test', 'fixtures', 'export', 'guarded-chat.ts');

function kinds(warnings: readonly ExportWarning[], flow?: string): string[] {
  return warnings.filter((w) => flow === undefined || w.flow === flow).map((w) => w.kind);
}

describe('naming what k6 cannot express', () => {
  let script: string;
  let warnings: ExportWarning[];

  beforeAll(async () => {
    const { scenario } = await loadScenario(GUARDED);
    ({ script, warnings } = await exportK6(scenario));
  });

  it('warns about source addresses and maps the latency thresholds with a warning', () => {
    expect(warnings).toContainEqual(
      expect.objectContaining({
        kind: 'source-addresses',
        flow: 'abuse',
        message: expect.stringContaining("'loopback'"),
      }),
    );
    const latency = warnings.filter((w) => w.kind === 'latency-threshold');
    expect(latency.map((w) => w.message)).toEqual([
      expect.stringContaining('threshold latency: p(95)<500, p(99)<900'),
      expect.stringContaining('threshold latency{flow:abuse}: p(90)<400'),
    ]);
    expect(script).toContain("http_req_duration: ['p(95)<500', 'p(99)<900']");
    expect(script).toContain("'http_req_duration{flow:abuse}': ['p(90)<400']");
    expect(script).not.toMatch(/^\s+latency/m);
  });

  it('names the hook, the closed-over check and the dropped threshold', () => {
    expect(kinds(warnings, 'abuse')).toEqual(
      expect.arrayContaining(['launchproof-only', 'check-untranslatable']),
    );
    expect(warnings).toContainEqual(
      expect.objectContaining({
        kind: 'check-untranslatable',
        message: expect.stringContaining('`REFUSAL`'),
      }),
    );
    const dropped = warnings.filter((w) => w.kind === 'threshold-dropped').map((w) => w.message);
    expect(dropped).toEqual([expect.stringContaining('http_req_duration{status_class:2xx}')]);
    expect(script).toContain("ratelimited: ['rate>0.5']");
    // The fallback marker is measured in the script, so its threshold carries over.
    expect(script).toContain("fallback: ['rate<0.05']");
    expect(script).toContain("'limited or ok': ");
    expect(script).not.toContain("'not refused'");
  });

  it('keeps the bearer token out of the script and says how to pass it', () => {
    expect(script).not.toContain('sk-test-not-a-real-key');
    expect(script).toContain('"secret":["authorization"]');
    expect(warnings).toContainEqual(
      expect.objectContaining({
        kind: 'request',
        message: expect.stringContaining('LP_HEADER_AUTHORIZATION'),
      }),
    );
  });

  it('writes every warning into the header of the script', () => {
    const header = script.slice(0, script.indexOf('\nimport '));
    const flat = header.replace(/\n\/\/ {0,3}/g, ' ');
    for (const warning of warnings) expect(flat).toContain(formatExportWarning(warning));
  });

  it('names scenario keys that only launchproof runs, such as a fault timeline', async () => {
    const input: ScenarioInput = {
      name: 'with-faults',
      faults: [{ at: '1s', for: '2s', fault: { kind: 'stall', afterTokens: 5 } }],
      flows: [
        {
          name: 'chat',
          load: { executor: 'constant-arrival-rate', rate: 1, duration: '3s' },
          request: { path: '/' },
        },
      ],
    } as ScenarioInput;
    const exported = await exportK6(validateScenario(input));
    expect(exported.warnings).toContainEqual(
      expect.objectContaining({
        kind: 'launchproof-only',
        message: expect.stringContaining('scenario.faults'),
      }),
    );
  });

  it('has nothing to say about a scenario k6 runs as it is', async () => {
    const plain = validateScenario({
      name: 'plain',
      thresholds: { http_req_failed: ['rate<0.01'], 'http_req_duration{kind:http}': ['p(95)<500'] },
      flows: [
        {
          name: 'health',
          load: { executor: 'constant-arrival-rate', rate: 5, duration: '10s' },
          request: { path: '/health' },
          checks: { 'status is 200': { status: 200 } },
        },
      ],
    });
    const exported = await exportK6(plain);
    expect(exported.warnings).toEqual([]);
    expect(exported.script).toContain('What k6 cannot express: nothing in this scenario.');
  });
});
