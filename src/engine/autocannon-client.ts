import type { EventEmitter } from 'node:events';
import type autocannon from 'autocannon';
import { LaunchproofError } from '../errors.ts';

/**
 * The parts of an autocannon 9 `Client` (lib/httpClient.js) its public API leaves out, and
 * the engine needs: `responseMax`/`reqsMade` to end a connection after the request it has
 * in flight (autocannon's own stop cuts it off), and the queue of requests awaiting an
 * answer, which autocannon 9 does not clear when a connection errors or the server closes
 * it, so that every later response would be timed from an older request's start.
 */
interface ClientInternals {
  destroy(): void;
  reqsMade: number;
  responseMax: number | undefined;
  destroyed: boolean;
  pipelinedRequests: { size(): number; terminateRequest(): unknown };
}

/** A client seen as the plain event emitter it is (the typings list only some events). */
export function clientEvents(client: autocannon.Client): EventEmitter {
  return client;
}

function internals(client: autocannon.Client): ClientInternals {
  const view = client as unknown as Partial<ClientInternals>;
  const queue = view.pipelinedRequests;
  if (
    typeof view.reqsMade !== 'number' ||
    typeof queue?.size !== 'function' ||
    typeof queue.terminateRequest !== 'function'
  ) {
    throw new LaunchproofError(
      'LP_ERR_ENGINE',
      'the installed autocannon does not have the client internals launchproof relies on',
      { hint: 'install autocannon 9 (npm install autocannon@9)' },
    );
  }
  return view as ClientInternals;
}

/** Fails fast, before any load, when autocannon's client is not the shape relied on. */
export function checkClientShape(client: autocannon.Client): void {
  internals(client);
}

/**
 * Ends the connection once its request in flight is answered (or times out): autocannon
 * destroys a client whose `reqsMade` reaches `responseMax` instead of sending again, and
 * treats 0 as "no limit", hence at least 1.
 */
export function retireClient(client: autocannon.Client): void {
  const view = internals(client);
  if (view.destroyed) return;
  view.responseMax = Math.max(1, view.reqsMade);
}

/**
 * Drops the queue entries of requests that will never be answered. Called as a connection
 * sends its next request, when (one request in flight at a time) the queue must be empty;
 * returns how many stale entries were removed.
 */
export function dropStaleRequests(client: autocannon.Client): number {
  const queue = internals(client).pipelinedRequests;
  let dropped = 0;
  while (queue.size() > 0) {
    queue.terminateRequest();
    dropped++;
  }
  return dropped;
}

/** Closes the client's connection and stops it sending (autocannon's own `destroy`). */
export function destroyClient(client: autocannon.Client): void {
  const view = client as unknown as Partial<ClientInternals>;
  view.destroy?.call(client);
}
