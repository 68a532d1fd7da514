import { connect } from 'node:net';
import { LaunchproofError } from '../errors.ts';

const CONNECT_TIMEOUT_MS = 3_000;

/**
 * Opens (and closes) one TCP connection to the target before any load, so an unreachable
 * target ends the run at once with one line naming the URL and the reason.
 */
export function checkReachable(origin: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const url = new URL(origin);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');

  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(
        new LaunchproofError(
          'LP_ERR_TARGET_UNREACHABLE',
          `target ${origin} unreachable: ${reason}`,
          {
            hint: 'start the target first, or leave out --target to run against the embedded demo',
          },
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs} ms`));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      fail(error.code === 'ECONNREFUSED' ? 'connection refused' : (error.code ?? error.message));
    });
  });
}
