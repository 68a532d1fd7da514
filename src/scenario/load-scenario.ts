import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { LaunchproofError } from '../errors.ts';
import { formatIssues } from './format-issues.ts';
import { type Scenario, scenarioSchema } from './schema.ts';

export interface LoadedScenario {
  scenario: Scenario;
  /** The absolute path the scenario came from. */
  file: string;
}

/**
 * Loads a user's `.ts` (or `.js`) scenario from any folder with no build step of theirs:
 * 1. resolve the path against `cwd` and check that it is a file;
 * 2. import it through tsx, which compiles TypeScript on the fly;
 * 3. take the default export and validate it, collecting every problem with its path.
 */
export async function loadScenario(path: string, cwd = process.cwd()): Promise<LoadedScenario> {
  const file = resolve(cwd, path);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new LaunchproofError('LP_ERR_SCENARIO_NOT_FOUND', `scenario file not found: ${file}`, {
      hint: 'give the path of a .ts file whose default export is defineScenario({…})',
    });
  }

  let module: { default?: unknown };
  try {
    module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (error) {
    throw new LaunchproofError(
      'LP_ERR_SCENARIO_LOAD',
      `scenario ${path} failed to load: ${firstLine(error)}`,
      {
        cause: error,
        hint: 'fix the error in the scenario file (run with --verbose for the stack)',
      },
    );
  }

  const exported = unwrapDefault(module);
  if (exported === undefined) {
    throw new LaunchproofError(
      'LP_ERR_SCENARIO_INVALID',
      `scenario ${path} has no default export`,
      {
        hint: 'end the file with `export default defineScenario({ … })`',
      },
    );
  }
  return { scenario: validateScenario(exported, path), file };
}

/** Validates a scenario object; every problem becomes one line `path: expected …, received …`. */
export function validateScenario(value: unknown, label = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const problems = formatIssues(result.error);
  throw new LaunchproofError(
    'LP_ERR_SCENARIO_INVALID',
    `${label} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
    { details: problems },
  );
}

/** tsx may wrap a CommonJS-looking module's default in another `default`. */
function unwrapDefault(module: { default?: unknown }): unknown {
  const first = module.default;
  if (first && typeof first === 'object' && 'default' in first && !('flows' in first)) {
    return (first as { default?: unknown }).default;
  }
  return first;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
