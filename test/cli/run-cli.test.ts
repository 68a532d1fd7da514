import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarySchema } from '../../src/report/summary-schema.ts';
import { REPO, runCli, spawnCli } from '../helpers/cli.ts';
import { delayed, startTestServer, type TestServer } from '../helpers/http-server.ts';

let server: TestServer;
let out: string;

beforeAll(async () => {
  server = await startTestServer(delayed(20));
  out = mkdtempSync(join(tmpdir(), 'lp-cli-'));
});
afterAll(() => server.close());

const fixture = (name: string) => join(REPO, 'test/fixtures/scenarios', name);

function onlySummary(dir: string) {
  const runs = readdirSync(dir);
  expect(runs).toHaveLength(1);
  const text = readFileSync(join(dir, runs[0] as string, 'summary.json'), 'utf8');
  return summarySchema.parse(JSON.parse(text));
}

describe('launchproof run, end to end', () => {
  it('exits 0 when every threshold holds, and writes a summary its own schema accepts', async () => {
    const dir = join(out, 'pass');
    const result = await runCli(['run', fixture('pass.ts'), '--target', server.url, '--out', dir]);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/latency\s+50\s/);
    expect(result.stdout).toContain('verdict  PASS');
    const summary = onlySummary(dir);
    expect(summary.scenario).toBe('cli-pass');
    expect(summary.verdict).toBe('pass');
    expect(summary.complete).toBe(true);
    expect(summary.metrics.http_reqs).toMatchObject({ kind: 'counter', count: 50 });
    expect(summary.checks).toEqual([
      { flow: 'visitors', name: 'status is 200', passes: 50, fails: 0 },
    ]);
    expect(readdirSync(join(dir, readdirSync(dir)[0] as string))).toContain('summary.json');
  });

  it('exits 99 when a threshold fails, naming it', async () => {
    const dir = join(out, 'fail');
    const result = await runCli(['run', fixture('fail.ts'), '--target', server.url, '--out', dir]);
    expect(result.code).toBe(99);
    expect(result.stdout).toMatch(/✗ latency p\(95\)<1\s+observed \d+\.\d+/);
    expect(onlySummary(dir).verdict).toBe('fail');
  });

  it('exits 2 on an invalid scenario and lists every problem by its path', async () => {
    const result = await runCli(['run', fixture('invalid.ts'), '--target', server.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('flows[1].load.rate: expected a positive number, received -5');
    expect(result.stderr).toContain('flows[1].load.duration: expected a duration');
    expect(result.stderr).toContain('flows[1].request');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on a scenario that throws while loading, a missing file, a bad flag or URL', async () => {
    const throws = await runCli(['run', fixture('throws.ts'), '--target', server.url]);
    expect(throws.code).toBe(2);
    expect(throws.stderr).toContain('the scenario exploded while loading');
    expect(throws.stderr).not.toMatch(/\n\s+at /);

    const missing = await runCli(['run', fixture('nope.ts')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/scenario file not found: .*nope\.ts/);

    const flag = await runCli(['run', fixture('pass.ts'), '--speed', '9']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown option --speed');

    const url = await runCli(['run', fixture('pass.ts'), '--target', 'ftp://x']);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('--target: expected an http:// or https:// URL');

    const rate = await runCli(['run', fixture('pass.ts'), '--rate', 'fast']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain('--rate: expected a number, received "fast"');
  });

  it('exits 2 on an unknown --http-client, and on --http-client with the autocannon engine', async () => {
    const bad = await runCli(['run', fixture('pass.ts'), '--http-client', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--http-client: expected one of "auto", "undici", received "fast"',
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const autocannon = await runCli([
      'run',
      fixture('closed-api.ts'),
      '--engine',
      'autocannon',
      '--http-client',
      'undici',
      '--target',
      server.url,
    ]);
    expect(autocannon.code).toBe(2);
    expect(autocannon.stderr).toContain('--http-client applies to the undici engine only');
  });

  it('sends through undici with --http-client undici, on every worker thread', async () => {
    // Which client wrote a request shows in its header order: undici puts `connection`
    // right after `host`, the fast client puts the scenario's headers there.
    const seen: Array<{ second: string | undefined; thread: string | undefined }> = [];
    const recording = await startTestServer((req, res) => {
      if (req.method === 'POST') {
        seen.push({ second: req.rawHeaders[2]?.toLowerCase(), thread: req.rawHeaders[3] });
      }
      res.end('ok');
    });
    try {
      const run = (client: string[]) =>
        runCli([
          'run',
          fixture('workers.ts'),
          '--target',
          recording.url,
          '--workers',
          '2',
          '--duration',
          '1s',
          '--out',
          join(out, `client-${client.join('') || 'default'}`),
          ...client,
        ]);
      const byDefault = await run([]);
      expect(byDefault.code, byDefault.stderr).toBe(0);
      expect(byDefault.stderr).toContain('2 worker threads');
      const fast = seen.splice(0);
      expect(fast.length).toBeGreaterThan(50);
      expect(new Set(fast.map((s) => s.second))).toEqual(new Set(['x-thread']));
      expect(new Set(fast.map((s) => s.thread)).size).toBe(2);

      const undici = await run(['--http-client', 'undici']);
      expect(undici.code, undici.stderr).toBe(0);
      expect(undici.stderr).toContain('2 worker threads');
      const viaUndici = seen.splice(0);
      expect(viaUndici.length).toBeGreaterThan(50);
      expect(new Set(viaUndici.map((s) => s.second))).toEqual(new Set(['connection']));
    } finally {
      await recording.close();
    }
  });

  it('exits 1 with one line naming the URL when the target is unreachable', async () => {
    const result = await runCli(['run', fixture('pass.ts'), '--target', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: target http://127.0.0.1:9 unreachable: connection refused',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('stops on SIGINT and still writes its summary, marked incomplete', async () => {
    const dir = join(out, 'interrupted');
    const { child, done } = spawnCli([
      'run',
      fixture('long.ts'),
      '--target',
      server.url,
      '--out',
      dir,
    ]);
    // Interrupt once the load has started (the "planned" line), not while the CLI boots.
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('planned')) setTimeout(resolve, 1_000);
      });
    });
    child.kill('SIGINT');
    const result = await done;
    expect(result.stderr).toContain('SIGINT: stopping');
    const summary = onlySummary(dir);
    expect(summary.complete).toBe(false);
    expect(summary.stopReason).toBe('signal');
    expect(summary.durationMs).toBeLessThan(10_000);
    expect(result.code).toBe(0);
  });

  it('loads a scenario from a folder outside the project, with no build step', async () => {
    const project = mkdtempSync(join(tmpdir(), 'lp-user-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(REPO, join(project, 'node_modules', 'launchproof'));
    writeFileSync(
      join(project, 'mine.ts'),
      readFileSync(fixture('pass.ts'), 'utf8').replace("'cli-pass'", "'mine'"),
    );
    const result = await runCli(['run', 'mine.ts', '--target', server.url, '--out', 'res'], {
      cwd: project,
    });
    expect(result.code).toBe(0);
    expect(onlySummary(join(project, 'res')).scenario).toBe('mine');
  });

  it('runs a closed-model flow through autocannon, and refuses a flow it cannot run', async () => {
    const dir = join(out, 'autocannon');
    const ok = await runCli([
      'run',
      fixture('closed-api.ts'),
      '--engine',
      'autocannon',
      '--target',
      server.url,
      '--out',
      dir,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const summary = onlySummary(dir);
    expect(summary.notes.join('\n')).toContain('autocannon');
    expect(summary.metrics.http_reqs).toMatchObject({ kind: 'counter' });

    const refused = await runCli([
      'run',
      fixture('pass.ts'),
      '--engine',
      'autocannon',
      '--target',
      server.url,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('flow "visitors" uses constant-arrival-rate, an open model');
  });

  it('adds a threshold set from --thresholds, and refuses an invalid one by its expression', async () => {
    const dir = join(out, 'thresholds');
    const strict = await runCli([
      'run',
      fixture('pass.ts'),
      '--target',
      server.url,
      '--out',
      dir,
      '--thresholds',
      fixture('strict-thresholds.ts'),
    ]);
    expect(strict.code).toBe(99);
    const summary = onlySummary(dir);
    expect(summary.thresholds.map((t) => `${t.metric} ${t.expression} ${t.ok}`)).toEqual([
      'latency p(95)<500 true',
      'http_req_failed rate<0.01 true',
      'latency{flow:visitors} p(99)<1 false',
    ]);

    const bad = await runCli([
      'run',
      fixture('pass.ts'),
      '--target',
      server.url,
      '--thresholds',
      fixture('bad-thresholds.ts'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid threshold "p95<500"');
  });

  it('closes the embedded demo and exits 2 when the run is refused after it started', async () => {
    const started = Date.now();
    const result = await runCli(['run', fixture('unknown-metric.ts')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown metric "latencyy"');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('documents every flag with its unit and default in --help', async () => {
    const result = await runCli(['run', '--help']);
    expect(result.code).toBe(0);
    for (const flag of [
      '--target',
      '--provider',
      '--thresholds',
      '--out',
      '--duration',
      '--rate',
      '--engine',
      '--http-client',
      '--seed',
      '--ci',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/--rate N[\s\S]*?unit: requests\/s[\s\S]*?--engine/);
    expect(result.stdout).toMatch(/--out DIR[\s\S]*?default: results\)[\s\S]*?--duration/);
  });
});
