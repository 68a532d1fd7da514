import { isLaunchproofError } from '../errors.ts';
import { type Command, type CommandIo, EXIT } from './command.ts';
import { renderOptionsHelp } from './options.ts';
import { TOOL_VERSION } from './version.ts';

interface CommandEntry {
  summary: string;
  load(): Promise<Command>;
}

/** Commands load on demand, so `launchproof provider` does not pay for the engine. */
const COMMANDS: Record<string, CommandEntry> = {
  run: {
    summary: 'run a scenario against a target and write its results',
    load: async () => (await import('./commands/run.ts')).runCommand as unknown as Command,
  },
  demo: {
    summary: 'start the demo chatbot target (with its own mock provider)',
    load: async () => (await import('./commands/demo.ts')).demoCommand as unknown as Command,
  },
  provider: {
    summary: 'start the mock LLM provider, or a fault proxy in front of a real one',
    load: async () =>
      (await import('./commands/provider.ts')).providerCommand as unknown as Command,
  },
  report: {
    summary: "re-render a run's report.html and CI outputs from its summary.json",
    load: async () => (await import('./commands/report.ts')).reportCommand as unknown as Command,
  },
  export: {
    summary: 'write a scenario as a self-contained k6 script (export k6 <scenario.ts>)',
    load: async () => (await import('./commands/export.ts')).exportCommand as unknown as Command,
  },
  compare: {
    summary: 'compare a run against a baseline run; exit 99 on a regression',
    load: async () => (await import('./commands/compare.ts')).compareCommand as unknown as Command,
  },
};

/** Adds a command to the registry (later parts register `report`, `compare`, `export`). */
export function registerCommand(name: string, entry: CommandEntry): void {
  COMMANDS[name] = entry;
}

/**
 * The CLI's entry: picks the command, renders help, and turns every error into a message and
 * an exit code: 2 for what the user can fix in their input, 1 for the rest. A stack trace is
 * printed only with --verbose.
 */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(renderTopHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`launchproof ${TOOL_VERSION}\n`);
    return EXIT.ok;
  }

  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr.write(`error: unknown command "${name}"\nhint: ${commandList()}\n`);
    return EXIT.usage;
  }

  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(renderCommandHelp(command));
      return EXIT.ok;
    }
    return await command.run(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CommandIo): number {
  if (isLaunchproofError(error)) {
    const lines = [`error: ${error.message}`, ...error.details.map((line) => `  ${line}`)];
    if (error.hint) lines.push(`hint: ${error.hint}`);
    if (io.verbose && error.cause instanceof Error && error.cause.stack)
      lines.push(error.cause.stack);
    io.stderr.write(`${lines.join('\n')}\n`);
    return error.isUsage ? EXIT.usage : EXIT.error;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`error: internal error: ${message}\n`);
  if (io.verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  else io.stderr.write('hint: run again with --verbose for the stack trace\n');
  return EXIT.error;
}

function renderTopHelp(): string {
  return [
    'launchproof: load and resilience testing for AI chatbot APIs',
    '',
    'usage: launchproof <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(10)} ${entry.summary}`),
    '',
    'exit codes: 0 passed, 99 a threshold or verification failed, 2 bad usage or scenario,',
    '            1 anything else (for example the target unreachable)',
    '',
    'run `launchproof <command> --help` for its options',
    '',
  ].join('\n');
}

function renderCommandHelp(command: Command): string {
  const positionals = command.positionals
    .map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`))
    .join(' ');
  return [
    `launchproof ${command.name}: ${command.summary}`,
    '',
    `usage: launchproof ${command.name} ${positionals}${positionals ? ' ' : ''}[options]`,
    ...(command.positionals.length > 0
      ? ['', ...command.positionals.map((p) => `  ${p.name.padEnd(14)} ${p.description}`)]
      : []),
    '',
    'options:',
    renderOptionsHelp(command.options),
    '',
  ].join('\n');
}

function commandList(): string {
  return `commands are ${Object.keys(COMMANDS).join(', ')}; see launchproof --help`;
}

/** Runs main against the real process: signals, streams and the exit code. */
export async function runProcess(): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        `\n${signal}: stopping; results will still be written (again to force)\n`,
      );
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const argv = process.argv.slice(2);
  const code = await main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    verbose: argv.includes('--verbose'),
  });
  process.exitCode = code;
}
