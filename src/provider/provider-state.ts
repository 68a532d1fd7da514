import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { CounterSet } from './counters.ts';
import type { FaultRule } from './fault-rules.ts';
import type { ResolvedProviderOptions } from './provider-options.ts';
import type { TokenScheduler } from './token-scheduler.ts';

/** What every request handler of one provider shares. */
export interface ProviderState {
  options: ResolvedProviderOptions;
  faults: FaultRule[];
  counters: CounterSet;
  scheduler: TokenScheduler;
  /** Answers in progress, each with the way to end it when the provider closes. */
  live: Map<ServerResponse, () => void>;
  closing: boolean;
  /** Proxy mode: the connection pool to the upstream. */
  upstream: Dispatcher | undefined;
  /** Index of the next chat call, the key of its seeded draws. */
  nextCallIndex: number;
  /** Serial of the next answer, the key of its `x-request-id`. */
  nextRequestSerial: number;
}
