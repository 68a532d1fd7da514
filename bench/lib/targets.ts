import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Daemon,
  hasCommand,
  nodeScript,
  pinned,
  startDaemon,
  TARGET_CORE,
} from './process.ts';

/** How to get the peers and nginx on Debian, printed when one is missing. */
export const INSTALL_HINT = 'apt-get update && apt-get install -y nginx wrk';

/** A port that was free a moment ago on 127.0.0.1 (nginx cannot be told to pick one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function nginxPath(): string | undefined {
  if (hasCommand('nginx')) return 'nginx';
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    if (hasCommand(candidate)) return candidate;
  }
  return undefined;
}

/**
 * nginx with the bench's own configuration, in a temporary prefix: one process (no master,
 * so the pid we pin and signal is the one that serves), on 127.0.0.1 only, answering
 * `200 ok` to everything, no access log, keep-alive without a request limit.
 */
export async function startNginx(): Promise<Daemon | undefined> {
  const nginx = nginxPath();
  if (nginx === undefined) return undefined;
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'launchproof-bench-nginx-'));
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process off;',
      'worker_processes 1;',
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'error.log')} warn;`,
      'worker_rlimit_nofile 20000;',
      'events { worker_connections 16384; multi_accept on; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${join(prefix, 'body')};`,
      `  proxy_temp_path ${join(prefix, 'proxy')};`,
      `  fastcgi_temp_path ${join(prefix, 'fastcgi')};`,
      `  uwsgi_temp_path ${join(prefix, 'uwsgi')};`,
      `  scgi_temp_path ${join(prefix, 'scgi')};`,
      '  keepalive_requests 100000000;',
      '  keepalive_timeout 120s;',
      '  default_type text/plain;',
      `  server { listen 127.0.0.1:${port} backlog=4096; location / { return 200 'ok'; } }`,
      '}',
      '',
    ].join('\n'),
  );
  const [cmd, args] = pinned(TARGET_CORE, nginx, ['-p', prefix, '-c', conf]);
  const daemon = await startDaemon(cmd, args, `http://127.0.0.1:${port}/`);
  return {
    pid: daemon.pid,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await daemon.stop();
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

export interface NodeTargetOptions {
  /** Fixed delay before each answer, in ms (0: answer at once). */
  delayMs: number;
}

/**
 * A minimal node:http server in its own process on the target's core (bench/lib/
 * target-server.ts). It times its own service of each request, which is the reference the
 * accuracy cell compares each tool against.
 */
export function startNodeTarget(options: NodeTargetOptions): Promise<Daemon> {
  const [node, script] = nodeScript('lib/target-server.ts', [String(options.delayMs)]);
  const [cmd, args] = pinned(TARGET_CORE, node, script);
  return startDaemon(cmd, args);
}

/** The node target's own timing of the requests it served since the last reset, in µs. */
export interface ServiceStats {
  count: number;
  p50Us: number;
  p99Us: number;
}

export async function readServiceStats(target: Daemon): Promise<ServiceStats> {
  const response = await fetch(`${target.url}/__bench/stats`);
  return (await response.json()) as ServiceStats;
}

export async function resetServiceStats(target: Daemon): Promise<void> {
  const response = await fetch(`${target.url}/__bench/reset`);
  await response.arrayBuffer();
}

/** Requests the node target has answered since its last reset (cheap: no percentiles). */
export async function readServedCount(target: Daemon): Promise<number> {
  const response = await fetch(`${target.url}/__bench/count`);
  return ((await response.json()) as { count: number }).count;
}
