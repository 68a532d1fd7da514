import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./delay-server.mjs', import.meta.url));

/** What the server measured itself, from each request's arrival to its answer's writing (ms). */
export interface ServerTiming {
  count: number;
  p50: number;
  p99: number;
}

export interface ChildServer {
  url: string;
  /** The server's own account of the requests it answered so far. */
  timing(): Promise<ServerTiming>;
  close(): Promise<void>;
}

/** Starts `delay-server.mjs` in its own process on 127.0.0.1, port 0. */
export async function startChildServer(delayMs: number): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT, String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    timing: async () =>
      (await (await fetch(`http://127.0.0.1:${port}/__timing`)).json()) as ServerTiming,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
