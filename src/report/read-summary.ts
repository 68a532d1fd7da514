import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LaunchproofError } from '../errors.ts';
import { formatIssue } from '../scenario/format-issues.ts';
import { type Summary, summarySchema } from './summary-schema.ts';

/** The file `launchproof run` writes first in every run folder. */
export const SUMMARY_FILE = 'summary.json';

const RUN_HINT = 'pass a run folder written by launchproof run (results/<scenario>-<time>/)';

/** A summary read back from disk, with where it came from. */
export interface RunSummary {
  summary: Summary;
  /** The run folder. */
  dir: string;
  /** The summary file itself. */
  file: string;
}

/**
 * Reads and validates a run's `summary.json`. `runPath` is a run folder, or the summary file
 * itself. A missing file, bad JSON or a summary the schema rejects is LP_ERR_RESULTS_INVALID,
 * naming the file and the first problem (the rest go to details).
 */
export async function readRunSummary(runPath: string): Promise<RunSummary> {
  const isFile = await stat(runPath).then(
    (s) => s.isFile(),
    () => false,
  );
  const dir = isFile ? dirname(runPath) : runPath;
  const file = isFile ? runPath : join(runPath, SUMMARY_FILE);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LaunchproofError(
      'LP_ERR_RESULTS_INVALID',
      missing ? `no ${SUMMARY_FILE} in ${dir}` : `could not read ${file}: ${reason(error)}`,
      { cause: error, hint: RUN_HINT },
    );
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LaunchproofError(
      'LP_ERR_RESULTS_INVALID',
      `${file} is not valid JSON: ${reason(error)}`,
      { cause: error, hint: 'the file may be truncated or edited by hand; rerun the scenario' },
    );
  }

  // reportInput lets each problem say what it received.
  const parsed = summarySchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    // formatIssue names an empty path after scenarios; here the root is the summary.
    const problems = parsed.error.issues.map((issue) =>
      formatIssue(issue).replace(/^\(scenario\)/, '(summary)'),
    );
    const versionIssue = parsed.error.issues.some((issue) => issue.path[0] === 'schemaVersion');
    throw new LaunchproofError(
      'LP_ERR_RESULTS_INVALID',
      `${file} is not a valid ${basename(SUMMARY_FILE)}: ${problems[0] ?? 'unknown problem'}`,
      {
        details: problems.slice(1),
        hint: versionIssue
          ? 'it was written by a different launchproof version; rerun the scenario with this one'
          : RUN_HINT,
      },
    );
  }
  return { summary: parsed.data, dir, file };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
