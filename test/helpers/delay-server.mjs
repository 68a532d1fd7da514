// A node:http server in a process of its own, so that the generator under test does not
// share its event loop: answers 200 after the delay (ms) given as the first argument, and
// prints its port on the first line of stdout.
import { createServer } from 'node:http';

const delayMs = Number(process.argv[2] ?? 20);
const server = createServer((req, res) => {
  req.resume();
  setTimeout(() => res.end('ok'), delayMs);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
