import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type RunEvent, runScenario } from '../../src/engine/run-scenario.ts';
import { runCli } from '../helpers/cli.ts';
import { delayed, startTestServer, type TestServer } from '../helpers/http-server.ts';
import { scenario } from '../helpers/scenario.ts';

const STARVED = fileURLToPath(new URL('./fixtures/starved.ts', import.meta.url));
const OUT = fileURLToPath(new URL('../../test-output/bench-guard', import.meta.url));

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

async function server() {
  const started = await startTestServer(delayed(1));
  servers.push(started);
  return started;
}

/** Busy-waits for `ms`: the CPU-burning request builder of a starved generator. */
function burn(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Spin.
  }
}

describe('the generator watching itself', () => {
  it('marks a run whose request builder burns the CPU as saturated, and says why', async () => {
    const target = await server();
    const warnings: string[] = [];
    const { summary } = await runScenario(
      scenario({
        name: 'starved',
        flows: [
          {
            name: 'starved',
            load: { executor: 'constant-arrival-rate', rate: 100, duration: '1500ms' },
            request: () => {
              burn(20);
              return { path: '/' };
            },
          },
        ],
      }),
      {
        target: target.url,
        onEvent: (event: RunEvent) => {
          if (event.type === 'warning') warnings.push(event.message);
        },
      },
    );

    const generator = summary.generator;
    expect(generator.saturated).toBe(true);
    // 150 sends at 20 ms each take 3 s: the schedule's last sends leave about 1.5 s late.
    expect(generator.sendLagMs.p99).toBeGreaterThan(500);
    expect(generator.reasons.some((r) => r.startsWith('send lag p99'))).toBe(true);
    expect(generator.reasons.some((r) => r.startsWith('event-loop delay p99'))).toBe(true);
    expect(warnings).toEqual(generator.reasons);
    expect(summary.notes).toContain(`figures may be unreliable: ${generator.reasons.join('; ')}`);
  });

  it('finds nothing to say about a light, healthy run', async () => {
    const target = await server();
    const warnings: string[] = [];
    const { summary } = await runScenario(
      scenario({
        name: 'healthy',
        flows: [
          {
            name: 'healthy',
            load: { executor: 'constant-arrival-rate', rate: 50, duration: '1500ms' },
            request: { path: '/' },
          },
        ],
      }),
      {
        target: target.url,
        onEvent: (event: RunEvent) => {
          if (event.type === 'warning') warnings.push(event.message);
        },
      },
    );

    expect(summary.generator.sent).toBe(75);
    expect(summary.generator.saturated).toBe(false);
    expect(summary.generator.reasons).toEqual([]);
    expect(warnings).toEqual([]);
    expect(summary.notes.some((note) => note.startsWith('figures may be unreliable'))).toBe(false);
  });

  it('prints the saturation warning on the console of a starved `launchproof run`', async () => {
    const target = await server();
    const { code, stderr } = await runCli(['run', STARVED, '--target', target.url, '--out', OUT]);

    expect(code).toBe(0);
    const lines = stderr.split('\n').filter((line) => line.startsWith('warning: send lag p99'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/the generator fell behind its schedule/);
  });
});
