import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/command.ts';
import { providerCommand } from '../../src/cli/commands/provider.ts';
import { chatBody, rawChat } from './raw-client.ts';

const PROXY_LINE =
  /^mock provider listening on http:\/\/127\.0\.0\.1:\d+, proxying to http:\/\/127\.0\.0\.1:9\/v1\n$/;

function testIo(): { io: CommandIo; out: string[]; abort: AbortController } {
  const out: string[] = [];
  const abort = new AbortController();
  const io: CommandIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => out.push(text) },
    env: {},
    cwd: process.cwd(),
    signal: abort.signal,
    verbose: false,
  };
  return { io, out, abort };
}

/** Opens a fresh TCP connection (not a pooled one) and tells how it went. */
function connectError(port: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

async function waitForLine(out: string[]): Promise<string> {
  const deadline = Date.now() + 5_000;
  while (out.length === 0) {
    if (Date.now() > deadline) throw new Error('the command printed nothing');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return out.join('');
}

describe('launchproof provider', () => {
  it('prints where it listens, serves with its flags, and stops with exit 0 on abort', async () => {
    const { io, out, abort } = testIo();
    const running = providerCommand.run(
      [
        '--port',
        '0',
        '--seed',
        '3',
        '--ttft',
        '20ms',
        '--token-rate',
        '500',
        '--fault',
        '{"kind":"server-error","status":503,"stream":false}',
      ],
      io,
    );

    const line = await waitForLine(out);
    expect(line).toMatch(/^mock provider listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const url = (line.match(/http:\/\/\S+/) as RegExpMatchArray)[0];
    const streamed = await rawChat(`${url}/v1`, chatBody({ stream: true }));
    const plain = await rawChat(`${url}/v1`, chatBody());
    expect(streamed.status).toBe(200);
    expect(streamed.firstContentMs).toBeGreaterThanOrEqual(18);
    expect(plain.status).toBe(503);

    abort.abort();
    expect(await running).toBe(0);
    expect(await connectError(new URL(url).port)).toBe('ECONNREFUSED');
  });

  it('says it is proxying, without credentials in the printed URL', async () => {
    const { io, out, abort } = testIo();
    const running = providerCommand.run(['--upstream', 'http://user:secret@127.0.0.1:9/v1'], io);

    const line = await waitForLine(out);
    abort.abort();
    await running;

    expect(line).toMatch(PROXY_LINE);
    expect(line).not.toContain('secret');
  });

  it('refuses bad flags with LP_ERR_USAGE naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'eighty'], /^--port: /],
      [['--ttft', 'soon'], /^--ttft: /],
      [['--token-rate', '0'], /^--token-rate: /],
      [['--fault', '{"kind":"stall","afterTokens":-2}'], /^--fault\[0\]\.afterTokens: /],
      [['--fault', 'not json'], /^--fault\[0\]: expected a fault rule as JSON/],
      [['--upstream', 'ftp://x'], /^--upstream: /],
      [['--nope'], /unknown option --nope/],
    ];
    for (const [argv, message] of cases) {
      const { io } = testIo();
      await expect(providerCommand.run(argv, io)).rejects.toMatchObject({
        code: 'LP_ERR_USAGE',
        message: expect.stringMatching(message),
      });
    }
  });
});
