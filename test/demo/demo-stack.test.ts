import { describe, expect, it } from 'vitest';
import { startDemo, startDemoStack } from '../../src/demo/index.ts';
import { LaunchproofError } from '../../src/errors.ts';
import { startProvider } from '../../src/provider/index.ts';

describe('starting the demo', () => {
  it('reports its settings without secrets', async () => {
    const stack = await startDemoStack({
      providerApiKey: 'sk-demo-secret-value',
      sessionSecret: 'a-session-secret-of-length',
      flaws: ['no-auth', 'no-auth'],
    });
    try {
      expect(stack.demo.flaws).toEqual(['no-auth']);
      expect(stack.demo.config.ipRateLimit).toEqual({ max: 20, windowMs: 60_000 });
      expect(stack.demo.config.sessionRateLimit).toEqual({ max: 10, windowMs: 60_000 });
      expect(stack.demo.config.providerTimeoutMs).toBe(2_000);
      expect(stack.providerUrl).toBe(stack.provider?.baseUrl);
      const shown = JSON.stringify(stack.demo.config);
      expect(shown).not.toContain('sk-demo-secret-value');
      expect(shown).not.toContain('a-session-secret-of-length');
    } finally {
      await stack.close();
    }
  });

  it('uses a given provider, adding /v1 to a bare origin, and does not close it', async () => {
    const provider = await startProvider();
    try {
      const stack = await startDemoStack({ providerUrl: provider.url });
      expect(stack.provider).toBeUndefined();
      expect(stack.providerUrl).toBe(provider.baseUrl);
      await stack.close();
      expect((await fetch(`${provider.baseUrl}/models`)).status).toBe(200);
    } finally {
      await provider.close();
    }
  });

  it('throws LP_ERR_DEMO naming the field for invalid options', async () => {
    const error = await startDemo({
      providerUrl: 'http://127.0.0.1:9/v1',
      ipRateLimit: { max: 0, windowMs: 1_000 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LaunchproofError);
    expect((error as LaunchproofError).code).toBe('LP_ERR_DEMO');
    expect((error as LaunchproofError).message).toContain('options.ipRateLimit.max');
  });

  it('throws LP_ERR_DEMO when the port is taken, and closes the provider it started', async () => {
    const first = await startDemoStack();
    try {
      const port = Number(new URL(first.demo.url).port);
      const error = await startDemoStack({ port }).catch((e: unknown) => e);
      expect((error as LaunchproofError).code).toBe('LP_ERR_DEMO');
      expect((error as LaunchproofError).message).toContain(`127.0.0.1:${port}`);
    } finally {
      await first.close();
    }
  });
});
