import { basename, resolve } from 'node:path';
import { LaunchproofError } from '../../errors.ts';
import { readRunSummary } from '../../report/read-summary.ts';
import { OUTPUT_FILES, writeSummaryOutputs } from '../../report/write-outputs.ts';
import { type Command, type CommandIo, EXIT } from '../command.ts';
import { parseOptions } from '../options.ts';

const options = {};

/**
 * `launchproof report <run-dir>`: re-renders report.html and the other outputs summary.json
 * alone can rebuild (junit.xml, summary.md, the .hgrm files; latency.hlog stays as written),
 * and prints the report's path.
 */
export const reportCommand: Command<typeof options> = {
  name: 'report',
  summary: "re-render a run's report.html (and JUnit, Markdown, .hgrm) from its summary.json",
  positionals: [{ name: 'run-dir', description: 'the run folder (holds summary.json)' }],
  options,
  async run(argv: readonly string[], io: CommandIo): Promise<number> {
    const { positionals } = parseOptions('report', argv, options);
    if (positionals.length !== 1) {
      throw new LaunchproofError(
        'LP_ERR_USAGE',
        `report takes one run folder; received ${positionals.length}`,
        { hint: 'launchproof report results/<run>' },
      );
    }

    const { summary, dir } = await readRunSummary(resolve(io.cwd, positionals[0] as string));
    const written = await writeSummaryOutputs(dir, summary);
    const html = written.find((path) => basename(path) === OUTPUT_FILES.html) as string;
    const others = written.filter((path) => path !== html).map((path) => basename(path));
    io.stderr.write(`rewrote ${others.join(', ')}; ${OUTPUT_FILES.hdrLog} left as written\n`);
    io.stdout.write(`${html}\n`);
    return EXIT.ok;
  },
};
