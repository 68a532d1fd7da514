import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  /** Remote address and arrival time (ms, performance.now) of every request seen. */
  seen: Array<{ address: string | undefined; atMs: number; path: string | undefined }>;
  close(): Promise<void>;
}

/** A real node:http server on 127.0.0.1, port 0, that records who called and when. */
export async function startTestServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const seen: TestServer['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ address: req.socket.remoteAddress, atMs: performance.now(), path: req.url });
    req.resume();
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers 200 after `delayMs`. */
export function delayed(delayMs: number, body = 'ok') {
  return (_req: IncomingMessage, res: ServerResponse) => {
    setTimeout(() => res.end(body), delayMs);
  };
}
