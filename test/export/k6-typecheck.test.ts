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
  it('passes tsc --strict for every shipped scenario and fixture, failing on a broken copy', async () => {
    const shipped = scenarioFiles(SHIPPED);
    const fixtures = scenarioFiles(FIXTURES);
    expect(fixtures.length).toBeGreaterThanOrEqual(2);

    const scripts = [];
    for (const file of [...shipped, ...fixtures]) {
      const exported = await exportFile(file);
      scripts.push({ ...exported, name: `${basename(join(file, '..'))}-${exported.name}` });
    }
    expect(scripts.map((s) => s.name)).toEqual([
      ...shipped.map((f) => `scenarios-${basename(f, '.ts')}`),
      ...fixtures.map((f) => `export-${basename(f, '.ts')}`),
    ]);

    // A copy that misuses a k6 API, checked in the same run (one tsc start, not two): it
    // must fail, which shows the check can, while every real export passes.
    const sample = scripts.find((s) => s.name === 'export-chat-mix')?.script ?? '';
    const broken = sample.replace(
      'const iteration = exec.scenario.iterationInTest;',
      'const iteration = exec.scenario.iterationInTest; sleep("1s");',
    );
    expect(broken).not.toBe(sample);

    const result = await typecheckScripts([...scripts, { name: 'broken', script: broken }]);
    const errors = result.output.split('\n').filter((line) => line.includes('error TS'));
    expect(result.code).not.toBe(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((line) => !line.startsWith('broken.ts('))).toEqual([]);
    expect(errors.some((line) => line.includes('TS2345'))).toBe(true);
  });
});
