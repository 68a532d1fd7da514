import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReportData } from '../../src/report/chart-data.ts';
import { renderHtmlReport } from '../../src/report/html-report.ts';
import type { Summary } from '../../src/report/summary-schema.ts';
import { buildFixtureRun, HOSTILE } from '../fixtures/summaries/build-summary.ts';

let passing: Summary;
let failing: Summary;

beforeAll(async () => {
  passing = (await buildFixtureRun('pass')).summary;
  failing = (await buildFixtureRun('fail')).summary;
});

/** The text of every `<script>` element, in page order, with its opening tag. */
function scripts(html: string): Array<{ open: string; body: string }> {
  return [...html.matchAll(/(<script[^>]*>)([\s\S]*?)<\/script>/g)].map((m) => ({
    open: m[1] as string,
    body: m[2] as string,
  }));
}

describe('renderHtmlReport', () => {
  it('is one file: uPlot and the page script inline, no src, href or url() to anywhere', () => {
    const html = renderHtmlReport(passing);

    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
    const [data, uplot, client] = scripts(html);
    expect(data?.open).toBe('<script type="application/json" id="lp-data">');
    expect(uplot?.body).toContain('https://github.com/leeoniya/uPlot (v1.6.32)');
    expect(client?.body).toContain('window.__launchproofCharts');
  });

  it('allows by CSP exactly its two inline scripts, by hash, and no network at all', () => {
    const html = renderHtmlReport(passing);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    const executable = scripts(html).filter((s) => s.open === '<script>');
    const hashes = executable.map(
      (s) => `'sha256-${createHash('sha256').update(s.body).digest('base64')}'`,
    );

    expect(executable).toHaveLength(2);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src ${hashes.join(' ')};`);
  });

  it('escapes every hostile string: no markup from the summary survives as markup', () => {
    const html = renderHtmlReport(failing);
    const outsideScripts = html.replace(/<script[\s\S]*?<\/script>/g, '');

    expect(outsideScripts).not.toContain('<img');
    expect(outsideScripts).not.toContain('<b>');
    expect(outsideScripts).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    expect(outsideScripts).toContain(
      'smoke &lt;/title&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;',
    );
    // Only the page's own three script elements exist.
    expect(scripts(html)).toHaveLength(3);
  });

  it('embeds the chart data as JSON that cannot close its script block, and reads back whole', () => {
    const summary = structuredClone(failing);
    summary.faultWindows = [{ label: HOSTILE.failureMessage, startMs: 8_000, endMs: 14_000 }];
    const html = renderHtmlReport(summary);
    const block = scripts(html)[0]?.body ?? '';

    expect(block).not.toContain('<');
    expect(JSON.parse(block)).toEqual(JSON.parse(JSON.stringify(buildReportData(summary))));
    expect(JSON.parse(block).faultWindows[0].label).toBe(HOSTILE.failureMessage);
  });

  it('says so when a run has no samples to chart, rather than drawing empty charts', () => {
    const empty: Summary = { ...passing, series: [], histograms: {}, faultWindows: [] };
    const html = renderHtmlReport(empty);

    expect(html).not.toContain('data-chart=');
    expect(html.match(/No samples to chart\./g)).toHaveLength(4);
    expect(html).toContain('provider counters not known');
  });

  it('draws provider calls and spend once the series carries them', () => {
    // The schema has no per-second provider fields yet; rows that carry them are charted.
    const withProvider = structuredClone(passing);
    withProvider.series.forEach((row, i) => {
      Object.assign(row, { providerCalls: 9, providerCostUsd: i < 10 ? 0.01 : 0.02 });
    });

    const [chart] = buildReportData(withProvider).sections.provider;

    expect(chart?.series.map((s) => s.label)).toEqual(['provider calls', 'spend so far']);
    // 10 × 0.01 + 10 × 0.02 = 0.30 US$ by the end (the stepped chart repeats the last second).
    expect(chart?.series[1]?.values.at(-1)).toBeCloseTo(0.3, 10);
    expect(renderHtmlReport(withProvider)).not.toContain('provider counters not known');
  });
});

describe('buildReportData', () => {
  it('stacks throughput so the top layer is the total of each second', () => {
    const [chart] = buildReportData(passing).sections.throughput;
    const top = chart?.series[0]?.values ?? [];
    const totals = passing.series.map((row) =>
      Object.values(row.flows).reduce(
        (sum, f) => sum + Object.values(f.requests).reduce((a, b) => a + b, 0),
        0,
      ),
    );

    expect(top.slice(0, -1)).toEqual(totals);
    expect(chart?.series.map((s) => s.label)).toEqual([
      '429 rate-limited',
      'fallback answers',
      '2xx answered',
    ]);
    // Second 10 of the passing run: 10 fallback answers, 5 429s, no plain 2xx.
    expect(chart?.series.map((s) => s.raw?.[10])).toEqual([5, 10, 0]);
  });

  it('draws latency per flow and TTFT for the chat flow, each with the 500 ms line', () => {
    const charts = buildReportData(passing).sections.latency;

    expect(charts.map((c) => c.title)).toEqual([
      'latency of visitors',
      'chat_ttft of visitors',
      'latency of abuser',
    ]);
    for (const c of charts) expect(c.series.at(-1)?.values.every((v) => v === 500)).toBe(true);
  });

  it('puts latency and http_req_duration on one spectrum over a shared 1/(1−p) axis', () => {
    const [spectrum] = buildReportData(failing).sections.spectrum;

    expect(spectrum?.series.map((s) => s.label)).toEqual(['latency', 'http_req_duration']);
    const x = spectrum?.x ?? [];
    expect([...x].sort((a, b) => a - b)).toEqual(x);
    expect(x[0]).toBe(1);
    // Past the median, latency (from the intended send) sits above http_req_duration.
    const at = x.findIndex((v) => v >= 10);
    const [latency, duration] = spectrum?.series.map((s) => s.values[at] ?? 0) ?? [];
    expect(latency).toBeGreaterThan(duration ?? Infinity);
  });
});
