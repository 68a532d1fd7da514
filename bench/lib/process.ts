import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The line a child prints its result on: the marker, a space, then one line of JSON. */
export const RESULT_MARKER = 'BENCH-RESULT';
/** The line a long-lived child prints once it listens: the marker, a space, its URL. */
export const READY_MARKER = 'BENCH-READY';

/** The generator's core and the target's: two different ones, so neither starves the other. */
export const GENERATOR_CORE = 0;
export const TARGET_CORE = 1;

/** Whether `name` runs here (looked up once per name). */
export function hasCommand(name: string): boolean {
  const known = commandCache.get(name);
  if (known !== undefined) return known;
  let found = false;
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    found = true;
  } catch {
    found = false;
  }
  commandCache.set(name, found);
  return found;
}
const commandCache = new Map<string, boolean>();

/** `cmd args` pinned to one core with `taskset -c` when it is installed, as is otherwise. */
export function pinned(core: number, cmd: string, args: readonly string[]): [string, string[]] {
  if (!hasCommand('taskset')) return [cmd, [...args]];
  return ['taskset', ['-c', String(core), cmd, ...args]];
}

/** Node with tsx registered, running one of the bench's TypeScript scripts. */
export function nodeScript(
  relativeToBench: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): [string, string[]] {
  const script = fileURLToPath(new URL(`../${relativeToBench}`, import.meta.url));
  return [process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args]];
}

export interface ChildOutcome<T> {
  result: T;
  stderr: string;
}

/**
 * Runs a child to its end and returns the JSON it printed after RESULT_MARKER. A child that
 * outlives `timeoutMs` is killed (by its own pid) and the call fails: every cell is bounded.
 */
export function runChild<T>(
  cmd: string,
  args: readonly string[],
  timeoutMs: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<ChildOutcome<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-8_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(`${RESULT_MARKER} `));
      if (line === undefined) {
        const why = signal === 'SIGKILL' ? `killed after ${timeoutMs} ms` : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(' ')}: no result (${why})\n${stderr.trim()}`));
        return;
      }
      resolve({ result: JSON.parse(line.slice(RESULT_MARKER.length + 1)) as T, stderr });
    });
    onSpawn?.(child);
  });
}

/** Prints a child's result where `runChild` looks for it. */
export function printResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARKER} ${JSON.stringify(result)}\n`);
}

export interface Daemon {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a long-lived child (a target, the provider) and waits for its READY_MARKER line,
 * which carries the URL it listens on. `stop` sends SIGTERM to that child alone (SIGCONT
 * first, in case a cell left it paused) and waits for it to go.
 */
export function startDaemon(
  cmd: string,
  args: readonly string[],
  readyUrl?: string,
): Promise<Daemon> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let ready = false;
    const fail = (why: string) => {
      if (ready) return;
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n${stderr.trim()}`));
    };
    const timer = setTimeout(() => fail('not ready after 15 s'), 15_000);
    const onReady = (url: string) => {
      ready = true;
      clearTimeout(timer);
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      resolve({
        pid: child.pid as number,
        url,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGCONT');
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const line = stdout.split('\n').find((l) => l.startsWith(`${READY_MARKER} `));
      if (!ready && line !== undefined) onReady(line.slice(READY_MARKER.length + 1).trim());
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-8_000);
    });
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code) => fail(`exited early (${code})`));
    if (readyUrl !== undefined) {
      // A program that cannot print our marker (nginx): ready once its port answers.
      void waitForHttp(readyUrl, 10_000).then(
        () => onReady(readyUrl),
        (error: Error) => fail(error.message),
      );
    }
  });
}

/** Resolves once `url` answers any HTTP status; rejects after `withinMs`. */
export async function waitForHttp(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not answer within ${withinMs} ms (${last})`);
}

/** The pid of a process that `pinned` may have wrapped: taskset execs, so it is the same. */
export function signal(pid: number, name: NodeJS.Signals): void {
  process.kill(pid, name);
}

/** Samples this process's CPU once a second; `stop` returns each whole second's µs. */
export function sampleCpuSeconds(): { stop(): number[] } {
  const seconds: number[] = [];
  let last = process.cpuUsage();
  const timer = setInterval(() => {
    const now = process.cpuUsage();
    seconds.push(now.user - last.user + (now.system - last.system));
    last = now;
  }, 1_000);
  return {
    stop() {
      clearInterval(timer);
      return seconds;
    },
  };
}
