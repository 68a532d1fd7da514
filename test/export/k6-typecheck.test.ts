import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportK6 } from '../../src/export/index.ts';
import { loadScenario } from '../../src/scenario/load-scenario.ts';
import { REPO, typecheckScripts } from './k6-harness.ts';

const SHIPPED = join(REPO, 'scenarios');
const FIXTURES = join(REPO, 'test', 'fixtures', 'export');

/** Every .ts file in a folder, found now: others add scenarios while this suite exists. */
function scenarioFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => join(dir, name));
}

async function exportFile(file: string) {
  const { scenario } = await loadScenario(file);
  const { script } = await exportK6(scenario, { scenarioFile: file, requestLimit: 200 });
  return { name: basename(file, '.ts'), script };
}

describe('type-checking exported scripts against @types/k6', () => {
  it('passes tsc --strict for the export of every shipped scenario and every fixture', async () => {
    const shipped = scenarioFiles(SHIPPED);
    const fixtures = scenarioFiles(FIXTURES);
    expect(fixtures.length).toBeGreaterThanOrEqual(2);

    const scripts = [];
    for (const file of [...shipped, ...fixtures]) {
      const exported = await exportFile(file);
      scripts.push({ ...exported, name: `${basename(join(file, '..'))}-${exported.name}` });
    }
    const result = await typecheckScripts(scripts);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
    expect(scripts.map((s) => s.name)).toEqual([
      ...shipped.map((f) => `scenarios-${basename(f, '.ts')}`),
      ...fixtures.map((f) => `export-${basename(f, '.ts')}`),
    ]);
  });

  it('fails tsc on a script that misuses a k6 API, so the check above can fail', async () => {
    const { script } = await exportFile(join(FIXTURES, 'chat-mix.ts'));
    const broken = script.replace(
      'const iteration = exec.scenario.iterationInTest;',
      'const iteration = exec.scenario.iterationInTest; sleep("1s");',
    );
    expect(broken).not.toBe(script);
    const result = await typecheckScripts([{ name: 'broken', script: broken }]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('TS2345');
  });
});
