import { z } from 'zod';
import {
  DEMO_FLAW_DESCRIPTIONS,
  DEMO_FLAWS,
  type DemoFlaw,
  isDemoFlaw,
  startDemoStack,
} from '../../demo/index.ts';
import { type Command, EXIT } from '../command.ts';
import { flagOption, parseOptions, stringOption } from '../options.ts';

// A message of our own: it names what was given, which zod's enum issue leaves out.
const flawName = z
  .string()
  .refine(isDemoFlaw, {
    error: (issue) =>
      `unknown flaw ${JSON.stringify(issue.input)}: expected one of ${DEMO_FLAWS.map((f) => `"${f}"`).join(', ')}`,
  })
  .transform((name) => name as DemoFlaw);

const options = {
  port: stringOption({
    description: 'port the demo listens on; 0 picks a free one',
    schema: z
      .string()
      .regex(/^\d+$/, 'expected a port number')
      .default('0')
      .transform(Number)
      .pipe(z.number().int().max(65_535)),
    valueName: 'N',
    defaultText: '0',
  }),
  host: stringOption({
    description: 'interface the demo listens on',
    schema: z.string().min(1).default('127.0.0.1'),
    valueName: 'HOST',
    defaultText: '127.0.0.1',
  }),
  flaw: stringOption({
    description: `break one safeguard: ${DEMO_FLAWS.join(', ')}`,
    schema: z.array(flawName).default([]),
    multiple: true,
    valueName: 'NAME',
  }),
  provider: stringOption({
    description: 'base URL of a running provider to use instead of starting a mock one',
    schema: z.url({ protocol: /^https?$/ }).optional(),
    valueName: 'URL',
    defaultText: 'a mock provider on a free loopback port',
  }),
  log: flagOption('log requests to stderr (Authorization, cookies and PII redacted)'),
};

/**
 * `launchproof demo`: starts the demo chatbot (and a mock provider unless `--provider` is
 * given), prints where they listen, and runs until interrupted.
 */
export const demoCommand: Command<typeof options> = {
  name: 'demo',
  summary: 'start the demo chatbot target, with switchable flaws',
  positionals: [],
  options,
  async run(argv, io) {
    const { options: parsed } = parseOptions('demo', argv, options);
    const flaws: DemoFlaw[] = parsed.flaw;

    const stack = await startDemoStack({
      host: parsed.host,
      port: parsed.port,
      flaws,
      ...(parsed.provider === undefined ? {} : { providerUrl: parsed.provider }),
      ...(parsed.log ? { logger: { level: 'info' as const, stream: io.stderr } } : {}),
    });

    const started = stack.provider === undefined ? 'running' : 'mock, started here';
    io.stdout.write(`demo chatbot   ${stack.demo.url}\n`);
    io.stdout.write(`provider       ${stack.providerUrl} (${started})\n`);
    io.stdout.write(`flaws          ${flaws.length === 0 ? 'none' : flaws.join(', ')}\n`);
    for (const flaw of flaws) io.stdout.write(`  ${flaw}: ${DEMO_FLAW_DESCRIPTIONS[flaw]}\n`);
    io.stdout.write('chat at POST /api/chat; stop with Ctrl+C\n');

    await untilAborted(io.signal);
    await stack.close();
    io.stdout.write('demo stopped\n');
    return EXIT.ok;
  },
};

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
