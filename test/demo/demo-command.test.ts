import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/command.ts';
import { demoCommand } from '../../src/cli/commands/demo.ts';
import { DEMO_FLAWS } from '../../src/demo/index.ts';
import { LaunchproofError } from '../../src/errors.ts';
import { startProvider } from '../../src/provider/index.ts';
import { eventually } from './helpers.ts';

function testIo(): { io: CommandIo; out: () => string; stop: () => void } {
  let out = '';
  const controller = new AbortController();
  const io: CommandIo = {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: () => true },
    env: {},
    cwd: process.cwd(),
    signal: controller.signal,
    verbose: false,
  };
  return { io, out: () => out, stop: () => controller.abort() };
}

/** The first URL printed on the line that starts with `label`. */
function printedUrl(output: string, label: string): string | undefined {
  const line = output.split('\n').find((text) => text.startsWith(label));
  return /(http:\/\/\S+)/.exec(line ?? '')?.[1];
}

describe('launchproof demo', () => {
  it('starts the demo with its own provider and the flaws asked, then stops on the signal', async () => {
    const { io, out, stop } = testIo();
    const running = demoCommand.run(['--port', '0', '--flaw', 'trust-xff', '--flaw', 'slow'], io);

    expect(await eventually(() => out().includes('stop with Ctrl+C'), 10_000)).toBe(true);
    const demoUrl = printedUrl(out(), 'demo chatbot');
    const providerUrl = printedUrl(out(), 'provider');
    expect(demoUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(providerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(out()).toContain('mock, started here');

    const health = await fetch(`${demoUrl}/health`);
    expect(await health.json()).toMatchObject({ flaws: ['trust-xff', 'slow'] });
    const models = await fetch(`${providerUrl}/models`);
    expect(models.status).toBe(200);

    stop();
    expect(await running).toBe(0);
    await expect(fetch(`${demoUrl}/health`)).rejects.toThrow();
    await expect(fetch(`${providerUrl}/models`)).rejects.toThrow();
  });

  it('uses a running provider given with --provider and leaves it running', async () => {
    const provider = await startProvider({ ttftMs: 5, tokensPerSec: 1_000, completionTokens: 3 });
    const { io, out, stop } = testIo();
    try {
      const running = demoCommand.run(['--provider', provider.url], io);
      expect(await eventually(() => out().includes('stop with Ctrl+C'), 10_000)).toBe(true);
      expect(printedUrl(out(), 'provider')).toBe(provider.baseUrl);
      expect(out()).toContain('(running)');

      const chat = await fetch(`${printedUrl(out(), 'demo chatbot')}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hello' }),
      });
      await chat.text();
      expect(provider.counters().calls).toBe(1);

      stop();
      expect(await running).toBe(0);
      expect((await fetch(`${provider.baseUrl}/models`)).status).toBe(200);
    } finally {
      await provider.close();
    }
  });

  it('rejects an unknown flaw with LP_ERR_USAGE naming the valid ones', async () => {
    const { io } = testIo();
    const error = await demoCommand.run(['--flaw', 'no-brakes'], io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LaunchproofError);
    expect((error as LaunchproofError).code).toBe('LP_ERR_USAGE');
    const message = (error as LaunchproofError).message;
    expect(message).toContain('"no-brakes"');
    for (const flaw of DEMO_FLAWS) expect(message).toContain(`"${flaw}"`);
  });

  it('rejects a bad port and a bad provider URL with LP_ERR_USAGE', async () => {
    const { io } = testIo();
    for (const argv of [
      ['--port', 'eighty'],
      ['--provider', 'not a url'],
    ]) {
      const error = await demoCommand.run(argv, io).catch((e: unknown) => e);
      expect((error as LaunchproofError).code).toBe('LP_ERR_USAGE');
    }
  });
});
