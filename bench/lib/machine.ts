import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { hasCommand } from './process.ts';
import { nginxPath } from './targets.ts';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  nginx: string | undefined;
  wrk: string | undefined;
  autocannon: string;
  taskset: boolean;
  loadAverageStart: number;
  loadAverageEnd: number;
}

/** What the figures were measured on; the end load average is filled in at the end. */
export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    nginx: versionOf(nginxPath(), ['-v'], /nginx version: (\S+)/),
    wrk: hasCommand('wrk') ? versionOf('wrk', ['--version'], /^(wrk \S+)/m) : undefined,
    autocannon: autocannonVersion(),
    taskset: hasCommand('taskset'),
    loadAverageStart: loadavg()[0] ?? 0,
    loadAverageEnd: Number.NaN,
  };
}

function versionOf(cmd: string | undefined, args: string[], pattern: RegExp): string | undefined {
  if (cmd === undefined) return undefined;
  // nginx -v prints to stderr, and wrk --version exits 1 after printing: read both streams.
  const run = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  return pattern.exec(text)?.[1] ?? cmd;
}

function autocannonVersion(): string {
  const file = new URL('../../node_modules/autocannon/package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
