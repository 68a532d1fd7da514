/**
 * The bench's node:http target, run as its own process: `target-server.ts <delayMs>`.
 * Answers `ok` after a fixed delay (or at once), times each answer from the request's arrival
 * to the end of its response on its own monotonic clock, and serves those timings at
 * `/__bench/stats` (reset by `/__bench/reset`; `/__bench/count` is the cheap count alone). Listens on 127.0.0.1 only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { READY_MARKER } from './process.ts';

const delayMs = Number(process.argv[2] ?? 0);
/** Timings kept for the stats endpoint; the accuracy cell sends far fewer. */
const MAX_TIMINGS = 200_000;
const timingsUs = new Float64Array(MAX_TIMINGS);
let timed = 0;
const BODY = Buffer.from('ok');

const nowUs = () => Number(process.hrtime.bigint() / 1_000n);

const server = createServer((req, res) => {
  if (req.url?.startsWith('/__bench/')) {
    if (req.url === '/__bench/reset') timed = 0;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/__bench/count' ? { count: timed } : stats()));
    return;
  }
  const arrivedUs = nowUs();
  req.resume();
  const answer = () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    res.end(BODY);
    if (timed < MAX_TIMINGS) timingsUs[timed++] = nowUs() - arrivedUs;
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.maxRequestsPerSocket = 0;

server.listen({ port: 0, host: '127.0.0.1', backlog: 4_096 }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${READY_MARKER} http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

function stats() {
  const sorted = timingsUs.slice(0, timed).sort();
  const at = (p: number) => sorted[Math.min(timed - 1, Math.floor((p / 100) * timed))] ?? 0;
  return { count: timed, p50Us: at(50), p99Us: at(99) };
}
