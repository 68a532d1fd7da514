import { type ProviderHandle, type ProviderOptions, startProvider } from '../provider/index.ts';
import { type DemoHandle, startDemo } from './demo-server.ts';
import type { DemoOptions } from './options.ts';

/** Options of `startDemoStack`: the demo's, with the provider's URL or its own options. */
export type DemoStackOptions = Omit<DemoOptions, 'providerUrl'> & {
  /** A running provider's base URL; when absent, a mock provider is started on loopback. */
  providerUrl?: string;
  /** Options of the mock provider started here (ignored with `providerUrl`). */
  provider?: ProviderOptions;
};

/** The demo and the provider it talks to. */
export interface DemoStack {
  demo: DemoHandle;
  /** The provider's base URL, including `/v1`. */
  providerUrl: string;
  /** The mock provider, when this stack started it. */
  provider?: ProviderHandle;
  /** Closes the demo, then the provider if this stack started it. */
  close(): Promise<void>;
}

/**
 * Starts the demo chatbot with its own mock provider on a free loopback port, or in front
 * of the provider at `providerUrl`. If the demo fails to start, the provider started for it
 * is closed before the error is thrown.
 */
export async function startDemoStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  const { provider: providerOptions, providerUrl: givenUrl, ...demoOptions } = options;
  const provider = givenUrl === undefined ? await startProvider({ ...providerOptions }) : undefined;
  const providerUrl = givenUrl ?? (provider as ProviderHandle).baseUrl;

  let demo: DemoHandle;
  try {
    demo = await startDemo({ ...demoOptions, providerUrl });
  } catch (error) {
    await provider?.close();
    throw error;
  }

  let closed: Promise<void> | undefined;
  return {
    demo,
    providerUrl: demo.config.providerUrl,
    ...(provider === undefined ? {} : { provider }),
    close() {
      closed ??= (async () => {
        await demo.close();
        await provider?.close();
      })();
      return closed;
    },
  };
}
