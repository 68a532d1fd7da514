import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/command.ts';
import { reportCommand } from '../../src/cli/commands/report.ts';
import { renderHistogramLog } from '../../src/report/hdr-log.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { readRunSummary } from '../../src/report/read-summary.ts';
import { writeRunOutputs } from '../../src/report/write-outputs.ts';
import { buildFixtureRun, writeRunFolder } from '../fixtures/summaries/build-summary.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lp-outputs-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function captureIo(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    env: {},
    cwd: root,
    signal: new AbortController().signal,
    verbose: false,
  };
}

describe('writeRunOutputs', () => {
  it('writes the report, JUnit, Markdown, interval log and one .hgrm per timing, whole', async () => {
    const { summary, intervals } = await buildFixtureRun('fail');
    const dir = await writeRunFolder(root, 'launch-smoke-run', summary);

    const paths = await writeRunOutputs(dir, summary, intervals);

    const names = [
      'report.html',
      'junit.xml',
      'summary.md',
      'latency.hlog',
      'latency.hgrm',
      'http_req_duration.hgrm',
      'chat_ttft.hgrm',
    ];
    expect(paths).toEqual(names.map((name) => join(dir, name)));
    expect((await readdir(dir)).sort()).toEqual([...names, 'summary.json'].sort());
    await expect(readFile(join(dir, 'junit.xml'), 'utf8')).resolves.toBe(renderJunit(summary));
    await expect(readFile(join(dir, 'summary.md'), 'utf8')).resolves.toBe(renderMarkdown(summary));
    await expect(readFile(join(dir, 'report.html'), 'utf8')).resolves.toBe(
      renderHtmlReport(summary),
    );
    const hlog = await readFile(join(dir, 'latency.hlog'), 'utf8');
    expect(hlog).toBe(renderHistogramLog(intervals, Date.parse(summary.startedAt)));
    expect(hdr.listTags(hlog).sort()).toEqual(['chat_ttft', 'http_req_duration', 'latency']);
    const hgrm = await readFile(join(dir, 'latency.hgrm'), 'utf8');
    // A decoded histogram knows its max only to its bucket: 3,445.786 ms reads back as 3,446.783.
    expect(hgrm).toContain('#[Max     =     3446.783, Total count    =          300]');
  });

  it('names .hgrm files safely when a histogram key carries tags or path characters', async () => {
    const { summary, intervals } = await buildFixtureRun('pass');
    const encoded = summary.histograms.latency as string;
    const tagged = {
      ...summary,
      histograms: { 'latency{flow:visitors}': encoded, '../escape': encoded },
      metrics: { ...summary.metrics, '../escape': summary.metrics.latency! },
    };

    const paths = await writeRunOutputs(root, tagged, intervals);

    expect(paths.slice(4).map((p) => p.slice(root.length + 1))).toEqual([
      'latency_flow_visitors_.hgrm',
      '__escape.hgrm',
    ]);
  });
});

describe('readRunSummary', () => {
  it('reads a run folder, or its summary.json directly', async () => {
    const { summary } = await buildFixtureRun('pass');
    const dir = await writeRunFolder(root, 'run', summary);

    await expect(readRunSummary(dir)).resolves.toEqual({
      summary,
      dir,
      file: join(dir, 'summary.json'),
    });
    await expect(readRunSummary(join(dir, 'summary.json'))).resolves.toMatchObject({ dir });
  });

  it('names the folder when summary.json is missing', async () => {
    await expect(readRunSummary(join(root, 'nowhere'))).rejects.toMatchObject({
      code: 'LP_ERR_RESULTS_INVALID',
      message: `no summary.json in ${join(root, 'nowhere')}`,
    });
  });

  it('names the file when summary.json is not JSON (a torn write)', async () => {
    await writeFile(join(root, 'summary.json'), '{"schemaVersion": 1, "scen');
    await expect(readRunSummary(root)).rejects.toMatchObject({
      code: 'LP_ERR_RESULTS_INVALID',
      message: expect.stringMatching(
        new RegExp(`^${join(root, 'summary.json')} is not valid JSON: `),
      ),
    });
  });

  it('names the file and the first schema problem by its field path', async () => {
    const { summary } = await buildFixtureRun('pass');
    const broken = {
      ...summary,
      verdict: 'maybe',
      generator: { ...summary.generator, saturated: 'no' },
    };
    await writeFile(join(root, 'summary.json'), JSON.stringify(broken));

    const error = await readRunSummary(root).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'LP_ERR_RESULTS_INVALID',
      message: `${join(root, 'summary.json')} is not a valid summary.json: verdict: expected one of "pass", "fail", received "maybe"`,
      details: ['generator.saturated: expected boolean, received "no"'],
    });
  });
});

describe('launchproof report', () => {
  it('re-renders report.html and the other summary outputs, prints the path, keeps latency.hlog', async () => {
    const { summary, intervals } = await buildFixtureRun('fail');
    const dir = await writeRunFolder(root, 'run', summary);
    await writeRunOutputs(dir, summary, intervals);
    const hlogBefore = await stat(join(dir, 'latency.hlog'));
    await rm(join(dir, 'report.html'));
    await writeFile(join(dir, 'junit.xml'), 'stale');
    const io = captureIo();

    const code = await reportCommand.run(['run'], io);

    expect(code).toBe(0);
    expect(io.out.join('')).toBe(`${join(dir, 'report.html')}\n`);
    expect(io.err.join('')).toContain('latency.hlog left as written');
    await expect(readFile(join(dir, 'report.html'), 'utf8')).resolves.toBe(
      renderHtmlReport(summary),
    );
    await expect(readFile(join(dir, 'junit.xml'), 'utf8')).resolves.toBe(renderJunit(summary));
    expect((await stat(join(dir, 'latency.hlog'))).mtimeMs).toBe(hlogBefore.mtimeMs);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses anything but one run folder, with LP_ERR_USAGE', async () => {
    await expect(reportCommand.run([], captureIo())).rejects.toMatchObject({
      code: 'LP_ERR_USAGE',
    });
    await expect(reportCommand.run(['a', 'b'], captureIo())).rejects.toMatchObject({
      code: 'LP_ERR_USAGE',
    });
  });

  it('reports a folder without summary.json as LP_ERR_RESULTS_INVALID', async () => {
    await expect(reportCommand.run(['empty'], captureIo())).rejects.toMatchObject({
      code: 'LP_ERR_RESULTS_INVALID',
      message: `no summary.json in ${join(root, 'empty')}`,
    });
  });
});
