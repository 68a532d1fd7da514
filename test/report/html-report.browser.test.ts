import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import { renderJunit } from '../../src/report/junit.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { buildFixtureRun } from '../fixtures/summaries/build-summary.ts';

// Debian's chromium package, never a downloaded browser. Off CI a missing browser skips
// these tests (and says so); on CI it fails them, because .ci/run installs it first.
const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = (process.env.CI ?? '') !== '' && process.env.CI !== 'false';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const OUTPUT_DIR = resolve('test-output');

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `SKIPPED the HTML report browser test: Chromium is not installed at ${CHROMIUM} ` +
      '(apt-get install chromium to run it; with CI set it is required and fails instead).',
  );
}

interface PageFindings {
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  dialogs: string[];
}

interface ChartPixels {
  id: string;
  canvases: number;
  coloredPixels: number;
  error: string | null;
}

/** The page's globals these tests touch, typed by hand: the project compiles without the DOM lib. */
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): PageList<PageCanvas>;
}
interface PageList<T> extends Iterable<T> {
  length: number;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(...box: number[]): { data: Uint8ClampedArray } } | null;
}
interface PageGlobals {
  document: { title: string; querySelectorAll(selector: string): PageList<PageElement> };
  DOMParser: new () => {
    parseFromString(
      text: string,
      type: string,
    ): {
      getElementsByTagName(name: string): PageList<{ textContent: string | null }>;
    };
  };
  __pwned?: number;
  __launchproofCharts: Array<{ id: string; plot: { data: Array<Array<number | null>> } }>;
}

interface PlotState {
  id: string;
  series: number;
  points: number;
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the HTML report in headless Chromium', () => {
  let context: BrowserContext;
  let workDir: string;
  let profileDir: string;
  let failing: Summary;
  let passing: Summary;

  beforeAll(async () => {
    failing = (await buildFixtureRun('fail')).summary;
    passing = (await buildFixtureRun('pass')).summary;
    expect(existsSync(CHROMIUM), `Chromium is required on CI at ${CHROMIUM}`).toBe(true);
    workDir = await mkdtemp(join(tmpdir(), 'lp-report-'));
    profileDir = await mkdtemp(join(tmpdir(), 'lp-chromium-profile-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      offline: true,
    });
    await mkdir(OUTPUT_DIR, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('draws every chart of a failing run offline, with no console or page errors', async () => {
    const summary = failing;
    const { page, findings } = await openReport(
      context,
      workDir,
      'fail.html',
      renderHtmlReport(summary),
    );

    const charts = await chartPixels(page);
    const expected = await page.locator('[data-chart]').count();
    // latency × 2 flows, chat_ttft, 2 spectra, throughput, 2 generator charts
    expect(expected).toBe(8);
    expect(charts).toHaveLength(expected);
    for (const chart of charts) {
      expect(chart.error, chart.id).toBeNull();
      expect(chart.canvases, chart.id).toBe(1);
      expect(chart.coloredPixels, `${chart.id} drew its series`).toBeGreaterThan(200);
    }
    const plots = await plotStates(page);
    expect(plots.map((p) => p.id)).toHaveLength(expected);
    for (const plot of plots) {
      expect(plot.series, plot.id).toBeGreaterThanOrEqual(1);
      expect(plot.points, `${plot.id} has data points`).toBeGreaterThan(plot.series * 5);
    }
    expect(findings.consoleErrors).toEqual([]);
    expect(findings.pageErrors).toEqual([]);
    expect(findings.requests.filter((url) => !url.startsWith('file://'))).toEqual([]);

    await page.screenshot({ path: join(OUTPUT_DIR, 'report.png'), fullPage: true });
    await page.close();
  });

  it('shows the verdict, the saturation warning and every evidence line as text', async () => {
    const summary = failing;
    const { page } = await openReport(
      context,
      workDir,
      'fail-text.html',
      renderHtmlReport(summary),
    );

    await expect(page.locator('header.verdict .badge').textContent()).resolves.toBe('fail');
    await expect(page.locator('#saturated').isVisible()).resolves.toBe(true);
    await expect(page.locator('#provider-unknown').textContent()).resolves.toContain(
      'provider counters not known',
    );
    const body = (await page.locator('body').textContent()) ?? '';
    for (const v of summary.verifications)
      for (const line of v.evidence) expect(body).toContain(line);
    for (const t of summary.thresholds) expect(body).toContain(t.expression);
    await page.close();
  });

  it('runs none of the hostile strings in the summary as markup or script', async () => {
    const summary = failing;
    const { page, findings } = await openReport(
      context,
      workDir,
      'hostile.html',
      renderHtmlReport(summary),
    );

    const state = await page.evaluate(() => ({
      pwned: (globalThis as unknown as PageGlobals).__pwned ?? null,
      images: (globalThis as unknown as PageGlobals).document.querySelectorAll('img').length,
      bolds: (globalThis as unknown as PageGlobals).document.querySelectorAll('td b, li b').length,
      title: (globalThis as unknown as PageGlobals).document.title,
    }));
    expect(state).toEqual({
      pwned: null,
      images: 0,
      bolds: 0,
      title: 'launchproof · launch-smoke · failed',
    });
    expect(findings.dialogs).toEqual([]);
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('<img src=x onerror="window.__pwned=1">');
    expect(body).toContain('</script><script>window.__pwned=1</script>');
    await page.close();
  });

  it("parses junit.xml with the browser's XML parser: no error, one case per outcome", async () => {
    const summary = failing;
    const page = await context.newPage();
    const parsed = await page.evaluate((xml) => {
      const { DOMParser } = globalThis as unknown as PageGlobals;
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      return {
        errors: doc.getElementsByTagName('parsererror').length,
        cases: doc.getElementsByTagName('testcase').length,
        failures: [...doc.getElementsByTagName('failure')].map((f) => f.textContent),
      };
    }, renderJunit(summary));
    expect(parsed.errors).toBe(0);
    expect(parsed.cases).toBe(summary.thresholds.length + summary.verifications.length);
    expect(parsed.failures).toContain(summary.verifications[0]?.evidence.join('\n'));
    await page.close();
  });

  it('draws a passing run without a saturation warning', async () => {
    const summary = passing;
    const { page, findings } = await openReport(
      context,
      workDir,
      'pass.html',
      renderHtmlReport(summary),
    );

    const charts = await chartPixels(page);
    expect(charts.length).toBe(8);
    for (const chart of charts) expect(chart.coloredPixels, chart.id).toBeGreaterThan(200);
    await expect(page.locator('header.verdict .badge').textContent()).resolves.toBe('pass');
    await expect(page.locator('#saturated').count()).resolves.toBe(0);
    expect([...findings.consoleErrors, ...findings.pageErrors]).toEqual([]);

    await page.screenshot({ path: join(OUTPUT_DIR, 'report-pass.png'), fullPage: true });
    await page.close();
  });
});

if (!HAVE_CHROMIUM && !IN_CI) {
  describe('the HTML report in headless Chromium', () => {
    it.skip(`is skipped: Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`, () => {});
  });
}

async function openReport(
  context: BrowserContext,
  dir: string,
  name: string,
  html: string,
): Promise<{ page: Page; findings: PageFindings }> {
  const path = join(dir, name);
  await writeFile(path, html);
  const page = await context.newPage();
  const findings: PageFindings = { consoleErrors: [], pageErrors: [], requests: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      findings.consoleErrors.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => findings.pageErrors.push(error.message));
  page.on('request', (request) => findings.requests.push(request.url()));
  page.on('dialog', (dialog) => {
    findings.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  await page.waitForFunction(() => '__launchproofCharts' in globalThis, undefined, {
    timeout: 10_000,
  });
  return { page, findings };
}

/** Per chart: its canvases and how many pixels are coloured (series, not grey axes or grid). */
function chartPixels(page: Page): Promise<ChartPixels[]> {
  return page.evaluate(() =>
    [...(globalThis as unknown as PageGlobals).document.querySelectorAll('[data-chart]')].map(
      (figure) => {
        const canvases = figure.querySelectorAll('canvas');
        let colored = 0;
        for (const canvas of canvases) {
          const ctx = canvas.getContext('2d');
          if (ctx === null) continue;
          const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
          for (let i = 0; i < data.length; i += 4) {
            const [r, g, b, a] = [
              data[i] ?? 0,
              data[i + 1] ?? 0,
              data[i + 2] ?? 0,
              data[i + 3] ?? 0,
            ];
            // Opaque and coloured: series strokes and stacked fills, not the faint fault shading
            // (alpha about 33), its grey label, or the grey axes and grid.
            if (a > 150 && Math.max(r, g, b) - Math.min(r, g, b) > 40) colored++;
          }
        }
        const failed = figure.querySelector('.plot')?.textContent ?? '';
        return {
          id: figure.dataset.chart ?? '',
          canvases: canvases.length,
          coloredPixels: colored,
          error: failed.startsWith('This chart could not be drawn') ? failed : null,
        };
      },
    ),
  );
}

/** Per uPlot instance the page made: its data series (x excluded) and non-null points. */
function plotStates(page: Page): Promise<PlotState[]> {
  return page.evaluate(() => {
    const drawn = (globalThis as unknown as PageGlobals).__launchproofCharts;
    return drawn.map(({ id, plot }) => ({
      id,
      series: plot.data.length - 1,
      points: plot.data
        .slice(1)
        .reduce((n, column) => n + column.filter((v) => v != null).length, 0),
    }));
  });
}
