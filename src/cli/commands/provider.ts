import { once } from 'node:events';
import { z } from 'zod';
import { LaunchproofError } from '../../errors.ts';
import { faultRuleSchema, startProvider } from '../../provider/index.ts';
import { isDuration, parseDurationMs } from '../../util/duration.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../command.ts';
import { parseOptions, stringOption } from '../options.ts';

const FAULT_EXAMPLE = '{"kind":"stall","afterTokens":5,"fraction":0.2}';

const faultJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `expected a fault rule as JSON such as ${FAULT_EXAMPLE}`,
      });
      return z.NEVER;
    }
  })
  .pipe(faultRuleSchema);

const options = {
  port: stringOption({
    description: 'port to listen on; 0 picks a free one',
    valueName: 'N',
    defaultText: '0',
    schema: z
      .string()
      .regex(/^\d+$/, 'expected a port number')
      .default('0')
      .transform(Number)
      .pipe(z.number().int().max(65_535)),
  }),
  host: stringOption({
    description: 'interface to listen on',
    valueName: 'HOST',
    defaultText: '127.0.0.1',
    schema: z.string().min(1).default('127.0.0.1'),
  }),
  upstream: stringOption({
    description:
      'proxy mode: forward /v1/* to this OpenAI-compatible URL and apply the faults on the way',
    valueName: 'URL',
    schema: z.url({ protocol: /^https?$/ }).optional(),
  }),
  seed: stringOption({
    description: 'seed of every draw (faulted calls, answer text, timing)',
    valueName: 'N',
    defaultText: '1',
    schema: z
      .string()
      .regex(/^-?\d+$/, 'expected an integer')
      .default('1')
      .transform(Number),
  }),
  ttft: stringOption({
    description: 'time to first token, a k6-style duration such as 200ms',
    valueName: 'D',
    defaultText: '200ms',
    schema: z
      .string()
      .refine(isDuration, "expected a duration such as '200ms' or '1s'")
      .default('200ms')
      .transform((text) => parseDurationMs(text)),
  }),
  'token-rate': stringOption({
    description: 'pace of tokens after the first',
    valueName: 'N',
    unit: 'tokens/s',
    defaultText: '50',
    schema: z.string().default('50').transform(Number).pipe(z.number().positive()),
  }),
  fault: stringOption({
    description: `a fault rule as JSON, for example ${FAULT_EXAMPLE}`,
    valueName: 'JSON',
    multiple: true,
    schema: z.array(faultJson).default([]),
  }),
};

/**
 * `launchproof provider`: runs the mock OpenAI-compatible provider (or, with --upstream, the
 * fault proxy) until the first SIGINT or SIGTERM. Faults can be changed while it runs
 * through its control API under /__launchproof/.
 */
export const providerCommand: Command<typeof options> = {
  name: 'provider',
  summary: 'run the mock LLM provider, or a fault proxy in front of a real one',
  positionals: [],
  options,
  async run(argv, io) {
    const { options: flags, positionals } = parseOptions('provider', argv, options);
    if (positionals.length > 0) {
      throw new LaunchproofError(
        'LP_ERR_USAGE',
        `unexpected argument ${JSON.stringify(positionals[0])}: provider takes no arguments`,
        { hint: 'see launchproof provider --help' },
      );
    }

    const provider = await startProvider({
      host: flags.host,
      port: flags.port,
      seed: flags.seed,
      ttftMs: flags.ttft,
      tokensPerSec: flags['token-rate'],
      faults: flags.fault,
      ...(flags.upstream === undefined ? {} : { upstream: flags.upstream }),
    });
    const proxying =
      flags.upstream === undefined ? '' : `, proxying to ${withoutCredentials(flags.upstream)}`;
    io.stdout.write(`mock provider listening on ${provider.url}${proxying}\n`);

    if (!io.signal.aborted) await once(io.signal, 'abort');
    await provider.close();
    return EXIT.ok;
  },
};

/** A URL as it may be printed: user and password, if any, removed. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
