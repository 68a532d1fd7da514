import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/commands/export.ts';
import { REPO } from './k6-harness.ts';

const BIN = join(REPO, 'bin', 'launchproof.js');
const FIXTURE = 'test/fixtures/export/guarded-chat.ts';
// Until src/cli/main.ts lists `export`, the test registers it as main.ts will (a preload).
const REGISTERED = readFileSync(join(REPO, 'src', 'cli', 'main.ts'), 'utf8').includes(
  'commands/export.ts',
);
const PRELOAD = REGISTERED
  ? []
  : ['--import', 'tsx/esm', '--import', join(REPO, 'test', 'export', 'register-export.ts')];

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/launchproof.js …` as a child process from the repository's root. */
function cli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...PRELOAD, BIN, ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

describe('launchproof export k6, end to end', () => {
  it('prints the script on stdout and each warning on stderr, exiting 0', async () => {
    const result = await cli(['export', 'k6', FIXTURE]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\/\/ k6 script exported by launchproof \d/);
    expect(result.stdout).toContain('export const options: Options = {');
    expect(result.stdout).toContain('export function flow_abuse(): void {');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('warning: ['))).toBe(true);
    expect(result.stderr).toContain('warning: [source-addresses] flow "abuse"');
    expect(result.stderr).toContain('warning: [latency-threshold] threshold latency');
    expect(result.stdout).not.toContain('sk-test-not-a-real-key');
    expect(result.stderr).not.toContain('sk-test-not-a-real-key');
  });

  it('writes the script whole to --out, leaving stdout empty and no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lp-export-'));
    dirs.push(dir);
    const out = join(dir, 'nested', 'guarded.k6.ts');
    const result = await cli([
      'export',
      'k6',
      FIXTURE,
      '--out',
      out,
      '--target',
      'http://127.0.0.1:4000/',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`wrote ${out}`);
    const script = await readFile(out, 'utf8');
    expect(script).toContain("lpTarget(__ENV.TARGET, 'http://127.0.0.1:4000')");
    expect(await readdir(join(dir, 'nested'))).toEqual(['guarded.k6.ts']);
  });

  it('exits 2 with a one-line reason for a missing scenario file', async () => {
    const result = await cli(['export', 'k6', 'test/fixtures/export/no-such-file.ts']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: scenario file not found');
    expect(result.stderr).not.toContain('    at ');
  });

  it('refuses an unknown export format and a missing scenario argument as usage errors', async () => {
    const io = {
      stdout: { write: () => true },
      stderr: { write: () => true },
      env: {},
      cwd: REPO,
      signal: new AbortController().signal,
      verbose: false,
    };
    const usage = (argv: string[]) =>
      exportCommand.run(argv, io).then(
        () => undefined,
        (error: unknown) => error,
      );
    await expect(usage(['jmeter', FIXTURE])).resolves.toMatchObject({
      code: 'LP_ERR_USAGE',
      message: 'unknown export format: expected "k6", received "jmeter"',
    });
    await expect(usage(['k6'])).resolves.toMatchObject({
      code: 'LP_ERR_USAGE',
      message: 'missing the scenario file',
    });
    await expect(usage(['k6', FIXTURE, 'extra.ts'])).resolves.toMatchObject({
      code: 'LP_ERR_USAGE',
    });
  });
});
