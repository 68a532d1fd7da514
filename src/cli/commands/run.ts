import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { z } from 'zod';
import { type EmbeddedStack, startEmbeddedStack } from '../../demo/demo-thread.ts';
import { DEMO_FLAWS, type DemoFlaw } from '../../demo/index.ts';
import { assertAutocannonCompatible } from '../../engine/autocannon-compat.ts';
import { runWithAutocannon } from '../../engine/autocannon-engine.ts';
import { type RunEvent, runScenario } from '../../engine/run-scenario.ts';
import { planWorkers } from '../../engine/workers/plan-workers.ts';
import { runWithWorkers } from '../../engine/workers/run-workers.ts';
import { LaunchproofError } from '../../errors.ts';
import { ProviderControl } from '../../provider/index.ts';
import { appendStepSummary, renderMarkdown } from '../../report/markdown.ts';
import { summarySchema } from '../../report/summary-schema.ts';
import { writeRunOutputs } from '../../report/write-outputs.ts';
import { loadScenario } from '../../scenario/load-scenario.ts';
import { applyOverrides } from '../../scenario/overrides.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { parseDurationMs } from '../../util/duration.ts';
import { renderCostPlan } from '../../verify/cost-plan.ts';
import { extensionsFor } from '../../verify/index.ts';
import { type Command, type CommandIo, EXIT } from '../command.ts';
import { flagOption, numberText, parseOptions, stringOption } from '../options.ts';
import { renderProgress, renderSummaryTable, renderWarnings } from '../run-output.ts';
import { painter, terminalStyle } from '../terminal.ts';
import { TOOL_VERSION } from '../version.ts';

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
  .transform((url) => url.replace(/\/+$/, ''));

const options = {
  target: stringOption({
    description:
      'base URL of the chatbot API under test; without it, the embedded demo and its mock ' +
      'provider start on loopback',
    valueName: 'URL',
    schema: httpUrl.optional(),
    defaultText: 'the embedded demo',
  }),
  provider: stringOption({
    description:
      "a running mock provider's URL (launchproof provider), for fault timelines and counters",
    valueName: 'URL',
    schema: httpUrl.optional(),
  }),
  thresholds: stringOption({
    description:
      'a .ts, .js or .json file whose default export is a thresholds record, added to the ' +
      "scenario's",
    valueName: 'FILE',
    schema: z.string().min(1).optional(),
  }),
  out: stringOption({
    description: 'folder that receives one results folder per run',
    valueName: 'DIR',
    schema: z.string().min(1).default('results'),
    defaultText: 'results',
  }),
  duration: stringOption({
    description: "overrides every flow's duration (ramps are scaled to it)",
    valueName: 'D',
    unit: "k6 duration, e.g. '30s'",
    schema: z
      .string()
      .transform((text, ctx) => {
        try {
          const ms = parseDurationMs(text);
          if (ms > 0) return ms;
        } catch {}
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration such as '30s', received "${text}"`,
        });
        return z.NEVER;
      })
      .optional(),
  }),
  rate: stringOption({
    description: 'overrides the arrival rate of open-model flows (ramps are scaled to peak at it)',
    valueName: 'N',
    unit: 'requests/s',
    schema: numberText('a number')
      .refine((n) => n > 0, { error: 'expected a positive number' })
      .optional(),
  }),
  engine: stringOption({
    description: 'the HTTP engine',
    valueName: 'NAME',
    schema: z.enum(['undici', 'autocannon']).default('undici'),
    defaultText: 'undici',
  }),
  'http-client': stringOption({
    description:
      'the HTTP client of the undici engine: auto sends http:// targets through the fast ' +
      'client and https:// through undici; undici sends everything through undici',
    valueName: 'NAME',
    schema: z.enum(['auto', 'undici']).optional(),
    defaultText: 'auto',
  }),
  seed: stringOption({
    description: "overrides the scenario's seed (same seed, same requests and schedule)",
    valueName: 'N',
    schema: numberText('a whole number').optional(),
  }),
  workers: stringOption({
    description:
      'worker threads that share the load (each identity lives in one); by default one per ' +
      'core, capped by what the plan needs',
    valueName: 'N',
    schema: numberText('a whole number')
      .refine((n) => n >= 1, { error: 'expected at least 1' })
      .optional(),
    defaultText: 'cores, capped by the plan',
  }),
  'demo-flaw': stringOption({
    description: `starts the embedded demo with a flaw (${DEMO_FLAWS.join(', ')})`,
    valueName: 'NAME',
    multiple: true,
    schema: z.array(z.enum(DEMO_FLAWS)).default([]),
  }),
  ci: flagOption('CI mode: no live progress, a plain line every 10 s, every output written'),
  verbose: flagOption('print stack traces of internal errors'),
  help: flagOption('show this help', 'h'),
} as const;

/** `launchproof run`: load, validate, run, write results, exit by the verdict. */
export const runCommand: Command<typeof options> = {
  name: 'run',
  summary: 'run a scenario against a target and write its results',
  positionals: [
    { name: 'scenario.ts', description: 'the scenario file (a defineScenario default export)' },
  ],
  options,
  async run(argv, io) {
    const { options: opts, positionals } = parseOptions('run', argv, options);
    const file = positionals[0];
    if (file === undefined) {
      throw new LaunchproofError('LP_ERR_USAGE', 'missing the scenario file', {
        hint: 'launchproof run scenarios/smoke.ts [--target URL]',
      });
    }
    if (positionals.length > 1) {
      throw new LaunchproofError('LP_ERR_USAGE', `unexpected argument "${positionals[1]}"`, {
        hint: 'launchproof run takes one scenario file',
      });
    }
    if (opts.engine === 'autocannon' && opts.workers !== undefined && opts.workers > 1) {
      throw new LaunchproofError('LP_ERR_USAGE', '--workers applies to the undici engine only', {
        hint: 'leave out --workers with --engine autocannon',
      });
    }
    if (opts.engine === 'autocannon' && opts['http-client'] !== undefined) {
      throw new LaunchproofError(
        'LP_ERR_USAGE',
        '--http-client applies to the undici engine only',
        {
          hint: 'leave out --http-client with --engine autocannon',
        },
      );
    }

    const loaded = await loadScenario(file, io.cwd);
    const extraThresholds = opts.thresholds
      ? await loadThresholdsFile(opts.thresholds, io.cwd)
      : undefined;
    const overrides = {
      ...(opts.duration !== undefined ? { durationMs: opts.duration } : {}),
      ...(opts.rate !== undefined ? { ratePerSec: opts.rate } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    };
    const scenario = applyOverrides(loaded.scenario, overrides);

    if (opts.engine === 'autocannon') assertAutocannonCompatible(scenario);

    const style = terminalStyle(io.stderr, io.env, opts.ci);
    const paint = painter(style);
    let stack: EmbeddedStack | undefined;
    let target = opts.target ?? scenario.target;
    if (target === undefined) {
      stack = await startEmbeddedStack(opts['demo-flaw'] as DemoFlaw[]);
      target = stack.demoUrl;
      io.stderr.write(
        `embedded demo at ${target}${flawList(opts['demo-flaw'])}, ` +
          `mock provider at ${stack.providerBaseUrl}\n`,
      );
    } else if (opts['demo-flaw'].length > 0) {
      throw new LaunchproofError('LP_ERR_USAGE', '--demo-flaw applies only to the embedded demo', {
        hint: 'leave out --target to run against the embedded demo',
      });
    }

    // From here on the embedded stack is running: every way out must close it.
    try {
      const providerUrl = opts.provider ?? stack?.providerUrl;
      const extensions = extensionsFor(scenario, {
        target,
        provider: providerUrl === undefined ? undefined : new ProviderControl(providerUrl),
        demo: stack === undefined ? undefined : { flaws: stack.flaws, config: stack.config },
      });
      io.stderr.write(`running ${scenario.name} against ${target}\n`);
      const costPlan = renderCostPlan(scenario);
      if (costPlan !== undefined) io.stderr.write(`${costPlan}\n`);
      const progress = progressPrinter(io, style.live);
      if (opts.engine === 'autocannon') assertAutocannonCompatible(scenario, extensions);
      const plan =
        opts.engine === 'autocannon'
          ? { count: 1, note: undefined }
          : planWorkers(scenario, opts.workers, extensions.length > 0);
      const runOptions = {
        target,
        scenarioFile: file,
        signal: io.signal,
        extraThresholds,
        extensions,
        toolVersion: TOOL_VERSION,
        onEvent: (event: RunEvent) => progress.event(event),
        ...(plan.note === undefined ? {} : { notes: [plan.note] }),
        ...(opts['http-client'] === undefined ? {} : { httpClient: opts['http-client'] }),
      };
      if (plan.count > 1) io.stderr.write(`${plan.count} worker threads\n`);
      let reasons: readonly string[] = [];
      let result: Awaited<ReturnType<typeof runScenario>>;
      try {
        result =
          opts.engine === 'autocannon'
            ? await runWithAutocannon(scenario, runOptions)
            : plan.count > 1
              ? await runWithWorkers(scenario, {
                  ...runOptions,
                  file: loaded.file,
                  cwd: io.cwd,
                  overrides,
                  workers: plan.count,
                })
              : await runScenario(scenario, runOptions);
        reasons = result.summary.generator.reasons;
      } finally {
        progress.finish(reasons);
      }

      const summary = summarySchema.parse(result.summary);
      const dir = await resultsFolder(
        resolve(io.cwd, opts.out),
        scenario.name,
        new Date(summary.startedAt),
      );
      // The summary first: whatever happens to the other outputs, the figures are kept.
      await writeFileAtomic(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      await writeRunOutputs(dir, summary, result.intervals);
      const stepSummary = await appendStepSummary(io.env, renderMarkdown(summary));
      if (stepSummary !== undefined) io.stderr.write(`appended the summary to ${stepSummary}\n`);

      io.stdout.write(`${renderSummaryTable(summary, paint)}\n`);
      io.stdout.write(`results  ${dir}\n`);
      return summary.verdict === 'pass' ? EXIT.ok : EXIT.thresholdsFailed;
    } finally {
      await stack?.close();
    }
  },
};

/**
 * A progress renderer: a live line on a TTY, a plain line every 10 s otherwise. Warnings
 * before the load starts print at once; later ones wait for the next event or the run's end
 * (`finish`), so the generator's saturation reasons, warned as the run ends, print as one line.
 */
function progressPrinter(
  io: CommandIo,
  live: boolean,
): { event: (event: RunEvent) => void; finish: (saturationReasons: readonly string[]) => void } {
  let lastPlainMs = 0;
  let lineOpen = false;
  let started = false;
  let held: string[] = [];
  const closeLine = () => {
    if (lineOpen) io.stderr.write('\n');
    lineOpen = false;
  };
  const flush = (saturationReasons: readonly string[] = []) => {
    if (held.length === 0) return;
    closeLine();
    for (const line of renderWarnings(held, saturationReasons)) io.stderr.write(`${line}\n`);
    held = [];
  };
  const event = (event: RunEvent) => {
    if (event.type !== 'warning') flush();
    switch (event.type) {
      case 'progress': {
        const text = renderProgress(event.progress);
        if (live) {
          io.stderr.write(`\r\u001b[2K${text}`);
          lineOpen = true;
        } else if (event.progress.elapsedMs - lastPlainMs >= 10_000) {
          lastPlainMs = event.progress.elapsedMs;
          io.stderr.write(`${text}\n`);
        }
        return;
      }
      case 'stopping':
        closeLine();
        if (event.reason !== 'finished') {
          io.stderr.write(`stopping: ${event.reason}${event.detail ? ` (${event.detail})` : ''}\n`);
        }
        return;
      case 'warning':
        held.push(event.message);
        if (!started) flush();
        return;
      case 'started':
        started = true;
        io.stderr.write(
          `${event.flows} flow(s), ${Math.round(event.plannedMs / 100) / 10}s planned` +
            `${event.plannedRequests > 0 ? `, about ${Math.round(event.plannedRequests)}` : ''}` +
            `${event.plannedRequests > 0 ? ' open-model requests' : ''}\n`,
        );
        return;
    }
  };
  return {
    event,
    finish(saturationReasons) {
      closeLine();
      flush(saturationReasons);
    },
  };
}

async function loadThresholdsFile(path: string, cwd: string): Promise<Record<string, unknown>> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) {
    throw new LaunchproofError('LP_ERR_USAGE', `thresholds file not found: ${file}`);
  }
  try {
    const module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as {
      default?: unknown;
    };
    const value = module.default;
    if (value === null || typeof value !== 'object') {
      throw new Error('its default export is not a thresholds record');
    }
    return value as Record<string, unknown>;
  } catch (error) {
    throw new LaunchproofError(
      'LP_ERR_THRESHOLD_INVALID',
      `thresholds file ${path} failed to load: ${firstLine(error)}`,
    );
  }
}

function flawList(flaws: readonly string[]): string {
  return flaws.length === 0 ? '' : ` (flaws: ${flaws.join(', ')})`;
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/** `results/<scenario>-<UTC time>`, made unique if two runs start in the same second. */
async function resultsFolder(root: string, scenario: string, startedAt: Date): Promise<string> {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  let dir = join(root, `${scenario}-${stamp}`);
  for (let n = 2; existsSync(dir); n++) dir = join(root, `${scenario}-${stamp}-${n}`);
  return dir;
}
