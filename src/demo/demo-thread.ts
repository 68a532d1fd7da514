import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { DemoFlaw } from './flaws.ts';
import type { ResolvedDemoConfig } from './options.ts';

/** The embedded stack as the main thread sees it: addresses, flaws and settings. */
export interface EmbeddedStack {
  demoUrl: string;
  /** The provider's OpenAI base URL (with /v1). */
  providerBaseUrl: string;
  /** The provider's origin, where its control API lives. */
  providerUrl: string;
  flaws: readonly DemoFlaw[];
  config: ResolvedDemoConfig;
  close(): Promise<void>;
}

type FromStack =
  | {
      type: 'up';
      demoUrl: string;
      providerBaseUrl: string;
      providerUrl: string;
      config: ResolvedDemoConfig;
    }
  | { type: 'failed'; message: string };

/**
 * Starts the demo chatbot and its mock provider on a thread of their own, so the target's
 * work never runs on the generator's event loop (on a machine of two cores, each gets one).
 * Their addresses are on loopback, free ports, as with `startDemoStack`.
 */
export async function startEmbeddedStack(flaws: readonly DemoFlaw[]): Promise<EmbeddedStack> {
  const worker = new Worker(new URL('./demo-thread-entry.js', import.meta.url), {
    workerData: { flaws: [...flaws] },
  });
  const up = await new Promise<Extract<FromStack, { type: 'up' }>>((resolve, reject) => {
    worker.once('message', (message: FromStack) => {
      if (message.type === 'up') resolve(message);
      else reject(new Error(`the embedded demo failed to start: ${message.message}`));
    });
    worker.once('error', reject);
  });
  // Once up, the stack's thread must never keep the process alive on its own: whatever path
  // the run takes out, the process can end.
  worker.unref();

  let closed: Promise<void> | undefined;
  return {
    demoUrl: up.demoUrl,
    providerBaseUrl: up.providerBaseUrl,
    providerUrl: up.providerUrl,
    flaws,
    config: up.config,
    close() {
      closed ??= new Promise<void>((resolve) => {
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage({ type: 'close' });
        // A stack that does not close in time is ended with its thread.
        setTimeout(() => void worker.terminate(), 5_000).unref();
      });
      return closed;
    },
  };
}

if (parentPort !== null && (workerData as { flaws?: unknown } | null)?.flaws !== undefined) {
  const port = parentPort;
  const { startDemoStack } = await import('./demo-stack.ts');
  try {
    const stack = await startDemoStack({ flaws: (workerData as { flaws: DemoFlaw[] }).flaws });
    port.on('message', async (message: { type: string }) => {
      if (message.type !== 'close') return;
      await stack.close();
      port.close();
    });
    port.postMessage({
      type: 'up',
      demoUrl: stack.demo.url,
      providerBaseUrl: stack.providerUrl,
      providerUrl: stack.provider?.url ?? stack.providerUrl.replace(/\/v1$/, ''),
      config: stack.demo.config,
    } satisfies FromStack);
  } catch (error) {
    port.postMessage({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
    } satisfies FromStack);
  }
}
