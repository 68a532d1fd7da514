import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportK6 } from '../../src/export/index.ts';
import { loadScenario } from '../../src/scenario/load-scenario.ts';
import { REPO } from './k6-harness.ts';

// Fixture scenarios only: shipped ones change while the suite grows, and their exports are
// type-checked (k6-typecheck.test.ts) rather than frozen. Update with `vitest -u`.
const FIXTURES = ['chat-mix', 'guarded-chat'];

describe('snapshots of exported scripts', () => {
  for (const name of FIXTURES) {
    it(`exports the ${name} fixture to the script on file`, async () => {
      const file = join(REPO, 'test', 'fixtures', 'export', `${name}.ts`);
      const { scenario } = await loadScenario(file);
      const { script } = await exportK6(scenario, { scenarioFile: file, toolVersion: 'snapshot' });
      await expect(script).toMatchFileSnapshot(
        join(REPO, 'test', 'fixtures', 'k6', `${name}.k6.snap`),
      );
    });
  }

  it('exports the same scenario to the same script every time', async () => {
    const file = join(REPO, 'test', 'fixtures', 'export', 'chat-mix.ts');
    const { scenario } = await loadScenario(file);
    const first = await exportK6(scenario);
    const second = await exportK6(scenario);
    expect(second.script).toBe(first.script);
  });
});
