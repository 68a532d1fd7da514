import { resolve } from 'node:path';
import { z } from 'zod';
import { LaunchproofError } from '../../errors.ts';
import { exportK6, formatExportWarning } from '../../export/index.ts';
import { loadScenario } from '../../scenario/load-scenario.ts';
import { applyOverrides } from '../../scenario/overrides.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { isDuration, parseDurationMs } from '../../util/duration.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../command.ts';
import { flagOption, parseOptions, stringOption } from '../options.ts';
import { TOOL_VERSION } from '../version.ts';

const FORMATS = ['k6'] as const;
const USAGE = 'launchproof export k6 scenarios/sustained-chat.ts [--out script.ts]';

const options = {
  out: stringOption({
    description: 'file to write the script to (whole, through a temporary file); else stdout',
    valueName: 'FILE',
    schema: z.string().min(1).optional(),
  }),
  target: stringOption({
    description:
      "base URL baked into the script; else the scenario's target; else -e TARGET at run time",
    valueName: 'URL',
    schema: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .optional(),
  }),
  seed: stringOption({
    description: "overrides the scenario's seed (same seed, same requests)",
    valueName: 'N',
    schema: z.coerce.number({ error: 'expected a whole number' }).int().nonnegative().optional(),
  }),
  rate: stringOption({
    description: 'overrides the arrival rate of open-model flows, as launchproof run does',
    valueName: 'N',
    unit: 'requests/s',
    schema: z.coerce.number({ error: 'expected a number' }).positive().optional(),
  }),
  duration: stringOption({
    description:
      "overrides every flow's duration (ramps are scaled to it), as launchproof run does",
    valueName: 'D',
    unit: "k6 duration, e.g. '30s'",
    schema: z
      .string()
      .refine(isDuration, { message: "expected a duration such as '30s'" })
      .transform((text) => parseDurationMs(text))
      .refine((ms) => ms > 0, { message: 'expected a duration longer than 0s' })
      .optional(),
  }),
  'max-requests': stringOption({
    description: 'most requests pre-generated per flow; past it they cycle',
    valueName: 'N',
    defaultText: '10000',
    schema: z.coerce.number({ error: 'expected a whole number' }).int().positive().default(10_000),
  }),
  verbose: flagOption('print stack traces of internal errors'),
  help: flagOption('show this help', 'h'),
} as const;

/**
 * `launchproof export k6 <scenario.ts>`: writes one self-contained k6 script reproducing the
 * scenario, to stdout or `--out`, and prints on stderr, one line each, what k6 cannot express.
 */
export const exportCommand: Command<typeof options> = {
  name: 'export',
  summary: 'export a scenario as a k6 script (for distributed runs)',
  positionals: [
    { name: 'format', description: `the export format: ${FORMATS.join(', ')}` },
    { name: 'scenario.ts', description: 'the scenario file (a defineScenario default export)' },
  ],
  options,
  async run(argv, io) {
    const { options: opts, positionals } = parseOptions('export', argv, options);
    const [format, file, extra] = positionals;
    if (format === undefined) {
      throw new LaunchproofError('LP_ERR_USAGE', 'missing the export format', { hint: USAGE });
    }
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new LaunchproofError(
        'LP_ERR_USAGE',
        `unknown export format: expected ${FORMATS.map((f) => `"${f}"`).join(', ')}, received ${JSON.stringify(format)}`,
        { hint: USAGE },
      );
    }
    if (file === undefined) {
      throw new LaunchproofError('LP_ERR_USAGE', 'missing the scenario file', { hint: USAGE });
    }
    if (extra !== undefined) {
      throw new LaunchproofError('LP_ERR_USAGE', `unexpected argument ${JSON.stringify(extra)}`, {
        hint: 'launchproof export takes a format and one scenario file',
      });
    }

    const loaded = await loadScenario(file, io.cwd);
    const scenario = applyOverrides(loaded.scenario, {
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
      ...(opts.rate === undefined ? {} : { ratePerSec: opts.rate }),
      ...(opts.duration === undefined ? {} : { durationMs: opts.duration }),
    });
    const result = await exportK6(scenario, {
      scenarioFile: loaded.file,
      requestLimit: opts['max-requests'],
      toolVersion: TOOL_VERSION,
      ...(opts.target === undefined ? {} : { target: opts.target }),
    });

    for (const warning of result.warnings) {
      io.stderr.write(`warning: ${formatExportWarning(warning)}\n`);
    }
    if (opts.out === undefined) {
      io.stdout.write(result.script);
    } else {
      const path = resolve(io.cwd, opts.out);
      await writeFileAtomic(path, result.script);
      io.stderr.write(`wrote ${path} (${result.warnings.length} warning(s))\n`);
    }
    return EXIT.ok;
  },
};
