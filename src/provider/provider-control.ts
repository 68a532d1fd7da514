import { request } from 'undici';
import { LaunchproofError } from '../errors.ts';
import type { ProviderCounters } from './counters.ts';
import { type FaultRule, type FaultRuleInput, faultListSchema } from './fault-rules.ts';

/** How long a control call may take: the control API answers at once when it is up. */
const CONTROL_TIMEOUT_MS = 5_000;

/**
 * A client of the control API of a provider running in another process (`launchproof
 * provider`, or a demo's embedded one). Every failure is LP_ERR_PROVIDER, leading with the
 * method and URL.
 */
export class ProviderControl {
  readonly #url: string;

  /** `url` is the provider's root (`http://127.0.0.1:PORT`); a trailing `/v1` is ignored. */
  constructor(url: string) {
    this.#url = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  /** Replaces the faults in force; a rule the provider refuses is an error naming its path. */
  async setFaults(rules: readonly FaultRuleInput[]): Promise<void> {
    await this.#call('PUT', 'faults', { faults: rules });
  }

  async faults(): Promise<FaultRule[]> {
    const body = await this.#call('GET', 'faults');
    const parsed = faultListSchema.safeParse(body);
    if (!parsed.success) throw this.#error('GET', 'faults', 'the answer is not a fault list');
    return parsed.data.faults;
  }

  async counters(): Promise<ProviderCounters> {
    return (await this.#call('GET', 'counters')) as ProviderCounters;
  }

  async resetCounters(): Promise<void> {
    await this.#call('POST', 'counters/reset');
  }

  /** True when the control API answers its health route. */
  async healthy(): Promise<boolean> {
    try {
      await this.#call('GET', 'health');
      return true;
    } catch {
      return false;
    }
  }

  async #call(method: 'GET' | 'PUT' | 'POST', route: string, body?: unknown): Promise<unknown> {
    const url = `${this.#url}/__launchproof/${route}`;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw this.#error(method, route, `no answer (${reason})`, error);
    }

    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw this.#error(method, route, `status ${response.statusCode}, a body that is not JSON`);
    }
    if (response.statusCode >= 400) {
      const message = (parsed as { error?: { message?: string } } | undefined)?.error?.message;
      throw this.#error(method, route, `status ${response.statusCode}: ${message ?? text}`);
    }
    return parsed;
  }

  #error(method: string, route: string, what: string, cause?: unknown): LaunchproofError {
    return new LaunchproofError(
      'LP_ERR_PROVIDER',
      `${method} ${this.#url}/__launchproof/${route} failed: ${what}`,
      cause === undefined ? {} : { cause, hint: 'is the provider running at that URL?' },
    );
  }
}
