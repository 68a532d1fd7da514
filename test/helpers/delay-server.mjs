// A node:http server in a process of its own, so that the generator under test does not
// share its event loop: answers 200 after the delay (ms) given as the first argument, and
// prints its port on the first line of stdout.
//
// The delay is kept to within a few tens of microseconds. A bare `setTimeout(delay)` fires
// anywhere from 0.3 ms early to 1.5 ms late (libuv's whole-millisecond timers, measured
// against a cached loop time), and that error would be charged to the generator under test.
// So the timer is set one millisecond short and the last stretch is waited out a loop turn at
// a time (`setImmediate`), which leaves the loop free for other requests meanwhile.
//
// `GET /__timing` answers what the server itself measured, from each request's arrival to the
// moment its answer was written, so a test can set what the generator reports against the truth.
import { createServer } from 'node:http';

const delayMs = Number(process.argv[2] ?? 20);
const delayNs = BigInt(Math.round(delayMs * 1e6));
const heldMs = [];

function answerAt(res, dueNs, arrivedNs) {
  if (process.hrtime.bigint() < dueNs) {
    setImmediate(answerAt, res, dueNs, arrivedNs);
    return;
  }
  res.end('ok');
  heldMs.push(Number(process.hrtime.bigint() - arrivedNs) / 1e6);
}

const server = createServer((req, res) => {
  const arrivedNs = process.hrtime.bigint();
  req.resume();
  if (req.url === '/__timing') {
    const sorted = [...heldMs].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count: sorted.length, p50: at(0.5), p99: at(0.99) }));
    return;
  }
  setTimeout(answerAt, Math.max(0, delayMs - 1), res, arrivedNs + delayNs, arrivedNs);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
