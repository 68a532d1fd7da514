import { resolve } from 'node:path';
import { z } from 'zod';
import { LaunchproofError } from '../../errors.ts';
import {
  compareSummaries,
  DEFAULT_REGRESSION_RULES,
  renderComparisonMarkdown,
  renderComparisonTable,
} from '../../report/compare.ts';
import { readRunSummary } from '../../report/read-summary.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { type Command, type CommandIo, EXIT } from '../command.ts';
import { numberText, parseOptions, stringOption } from '../options.ts';

const nonNegative = numberText('a number').refine((n) => n >= 0, {
  error: 'expected a number >= 0',
});

const options = {
  'max-increase': stringOption({
    description: "how much a timing's p95 or p99 may grow over the baseline before it regresses",
    valueName: 'N',
    unit: 'percent',
    schema: nonNegative.default(DEFAULT_REGRESSION_RULES.maxIncreasePercent),
    defaultText: String(DEFAULT_REGRESSION_RULES.maxIncreasePercent),
  }),
  'max-error-rate-increase': stringOption({
    description: 'how much http_req_failed may rise over the baseline before it regresses',
    valueName: 'N',
    unit: 'percentage points',
    schema: nonNegative.default(DEFAULT_REGRESSION_RULES.maxErrorRateIncreasePoints),
    defaultText: String(DEFAULT_REGRESSION_RULES.maxErrorRateIncreasePoints),
  }),
  format: stringOption({
    description: 'what to print: an aligned table, or Markdown',
    valueName: 'table|markdown',
    schema: z.enum(['table', 'markdown']).default('table'),
    defaultText: 'table',
  }),
  markdown: stringOption({
    description: 'also write the comparison as Markdown to this file',
    valueName: 'FILE',
    schema: z.string().min(1).optional(),
  }),
};

/**
 * `launchproof compare <baseline-run> <run>`: compares two runs of one scenario, prints the
 * table (or Markdown), and exits 99 when the run regressed against the baseline, 0 when not.
 */
export const compareCommand: Command<typeof options> = {
  name: 'compare',
  summary: 'compare a run against a baseline run of the same scenario; exit 99 on a regression',
  positionals: [
    { name: 'baseline-run', description: 'the run folder to compare against (holds summary.json)' },
    { name: 'run', description: 'the run folder to judge (holds summary.json)' },
  ],
  options,
  async run(argv: readonly string[], io: CommandIo): Promise<number> {
    const { options: opts, positionals } = parseOptions('compare', argv, options);
    if (positionals.length !== 2) {
      throw new LaunchproofError(
        'LP_ERR_USAGE',
        `compare takes two run folders, a baseline and a run; received ${positionals.length}`,
        { hint: 'launchproof compare results/<baseline-run> results/<run>' },
      );
    }

    const [baselinePath, runPath] = positionals.map((p) => resolve(io.cwd, p)) as [string, string];
    const baseline = await readRunSummary(baselinePath);
    const current = await readRunSummary(runPath);
    const comparison = compareSummaries(baseline.summary, current.summary, {
      maxIncreasePercent: opts['max-increase'],
      maxErrorRateIncreasePoints: opts['max-error-rate-increase'],
    });

    if (opts.markdown !== undefined) {
      const file = resolve(io.cwd, opts.markdown);
      await writeFileAtomic(file, renderComparisonMarkdown(comparison));
      io.stderr.write(`wrote ${file}\n`);
    }
    io.stdout.write(
      opts.format === 'markdown'
        ? renderComparisonMarkdown(comparison)
        : renderComparisonTable(comparison),
    );
    return comparison.regressions.length > 0 ? EXIT.thresholdsFailed : EXIT.ok;
  },
};
