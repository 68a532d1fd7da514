import type { DemoFlaw, DemoStack, DemoStackOptions } from '../../src/demo/index.ts';
import { startDemoStack } from '../../src/demo/index.ts';
import { runScenario } from '../../src/engine/run-scenario.ts';
import { ProviderControl } from '../../src/provider/index.ts';
import type { Summary, Verification } from '../../src/report/summary-schema.ts';
import { type ScenarioInput, scenarioSchema } from '../../src/scenario/schema.ts';
import { extensionsFor } from '../../src/verify/index.ts';

/**
 * The demo's safeguards on a short clock: a 300 ms provider timeout and idle timeout, a
 * breaker that looks at the last 0.5 s, and flaws that bite within two seconds. Its per-IP
 * limit is lifted: these runs send from one address and test the provider path only.
 */
export const SHORT_DEMO: DemoStackOptions = {
  providerTimeoutMs: 300,
  streamIdleTimeoutMs: 300,
  ipRateLimit: { max: 100_000, windowMs: 60_000 },
  breaker: { volumeThreshold: 3, rollingCountTimeoutMs: 500, resetTimeoutMs: 1_500 },
  flawTuning: { slowFallbackDelayMs: 1_500, retryStormAttempts: 8, slowPerRequestMs: 15 },
  provider: { ttftMs: 20, tokensPerSec: 200, completionTokens: 10 },
};

/** The chat request and stream settings every test flow shares. */
export const CHAT_FLOW = {
  request: { method: 'POST', path: '/api/chat', json: { message: 'What does an audit cost?' } },
  stream: { format: 'vercel-ai', idleTimeout: '1s' },
  fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
} as const;

export interface DemoRun {
  summary: Summary;
  /** The verifications of one name, in order (one per fault window for most). */
  checks(name: string): Verification[];
}

/**
 * Runs a scenario through `runScenario` against a demo stack started with `flaws` and
 * `demo` on top of SHORT_DEMO, with the same extensions `launchproof run` would build, and
 * closes the stack whatever happens.
 */
export async function runAgainstDemo(
  input: ScenarioInput,
  flaws: DemoFlaw[] = [],
  demo: DemoStackOptions = {},
): Promise<DemoRun> {
  const stack: DemoStack = await startDemoStack({ ...SHORT_DEMO, ...demo, flaws });
  try {
    const scenario = scenarioSchema.parse(input);
    const target = stack.demo.url;
    const provider = new ProviderControl(
      (stack.provider as NonNullable<DemoStack['provider']>).url,
    );
    const extensions = extensionsFor(scenario, {
      target,
      provider,
      demo: { flaws: stack.demo.flaws, config: stack.demo.config },
    });
    const { summary } = await runScenario(scenario, { target, extensions });
    return {
      summary,
      checks: (name) => summary.verifications.filter((v) => v.name === name),
    };
  } finally {
    await stack.close();
  }
}

/** True when every verification of that name passed (and there was at least one). */
export function passed(run: DemoRun, name: string): boolean {
  const found = run.checks(name);
  return found.length > 0 && found.every((v) => v.ok);
}

/** A readable dump of a run's verifications, for failure messages. */
export function explain(run: DemoRun): string {
  return run.summary.verifications
    .map(
      (v) => `${v.ok ? 'PASS' : 'FAIL'} ${v.name} ${v.subject ?? ''}\n  ${v.evidence.join('\n  ')}`,
    )
    .join('\n');
}

/**
 * Sends a few chats through a fresh stack and a short run, so that the first timed test does
 * not also pay for loading and compiling the engine, the demo and the SDK it calls.
 */
export async function warmUp(): Promise<void> {
  await runAgainstDemo({
    name: 'warm-up',
    flows: [
      {
        name: 'chat',
        ...CHAT_FLOW,
        load: { executor: 'constant-arrival-rate', rate: 20, duration: '500ms' },
      },
    ],
    faults: [{ at: '200ms', for: '200ms', fault: { kind: 'hang' } }],
    resilience: { fallbackEngages: { minShare: 0 } },
  });
}
