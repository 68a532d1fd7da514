import type { IncomingMessage, ServerResponse } from 'node:http';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';

/** What the server saw of one request, in arrival order (n counts from 1). */
export interface Seen {
  n: number;
  path: string;
  headers: IncomingMessage['headers'];
  /** The status it answered, or undefined when it never answered. */
  status: number | undefined;
}

export interface CountingServer extends TestServer {
  requests: Seen[];
  /** Answered requests per status code, as strings (the summary's `statusCodes` keys). */
  byStatus(): Record<string, number>;
}

export interface Answering {
  /** The status for the n-th request; undefined leaves it unanswered. */
  status(seen: Omit<Seen, 'status'>): number | undefined;
  delayMs?: number;
  /** Ask the client to close the connection after this answer. */
  close?(seen: Omit<Seen, 'status'>): boolean;
}

/** A real node:http server on 127.0.0.1, port 0, that counts what it sees and answers. */
export async function startCountingServer(answering: Answering): Promise<CountingServer> {
  const requests: Seen[] = [];
  const server = await startTestServer((req: IncomingMessage, res: ServerResponse) => {
    const seen: Seen = {
      n: requests.length + 1,
      path: req.url ?? '',
      headers: req.headers,
      status: undefined,
    };
    requests.push(seen);
    const status = answering.status(seen);
    if (status === undefined) return;
    const answer = () => {
      seen.status = status;
      res.statusCode = status;
      if (answering.close?.(seen)) res.setHeader('connection', 'close');
      res.end(status === 200 ? '{"ok":true}' : '{"ok":false}');
    };
    if (answering.delayMs === undefined) answer();
    else setTimeout(answer, answering.delayMs);
  });
  return {
    ...server,
    requests,
    byStatus() {
      const out: Record<string, number> = {};
      for (const seen of requests) {
        if (seen.status !== undefined) out[seen.status] = (out[seen.status] ?? 0) + 1;
      }
      return out;
    },
  };
}
