import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  buildReportData,
  type ChartSection,
  LAUNCH_SLO_MS,
  type ReportData,
} from './chart-data.ts';
import { escapeHtml as h, jsonForScript } from './escape.ts';
import {
  findMetric,
  formatCount,
  formatFixed,
  formatMs,
  formatObserved,
  formatRate,
  formatSeconds,
  formatTrendValue,
} from './format.ts';
import type { MetricSummary, Summary } from './summary-schema.ts';

interface Assets {
  uplotJs: string;
  uplotCss: string;
  clientJs: string;
  css: string;
}

let cachedAssets: Assets | undefined;

/**
 * Renders `report.html`: one self-contained page that opens offline. uPlot, its stylesheet
 * and the page's own script are inlined (read from disk at render time), the chart data is an
 * embedded JSON block, and a Content-Security-Policy allows only those exact inline scripts
 * (by hash) and no network at all. Tables are rendered here; the script draws the charts.
 * Every string from the summary is HTML-escaped.
 */
export function renderHtmlReport(summary: Summary): string {
  const assets = loadAssets();
  const data = buildReportData(summary);
  const scripts = [assets.uplotJs, assets.clientJs];
  const hashes = scripts.map((s) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`);
  const csp = [
    "default-src 'none'",
    `script-src ${hashes.join(' ')}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; '); // constants and base64 only: nothing to escape in the attribute
  const passed = summary.verdict === 'pass';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(`launchproof · ${summary.scenario} · ${passed ? 'passed' : 'failed'}`)}</title>
<style>${inlineStyle(assets.uplotCss)}</style>
<style>${inlineStyle(assets.css)}</style>
</head>
<body>
<main>
${header(summary)}
${callouts(summary)}
${thresholdsSection(summary)}
${verificationsSection(summary)}
${latencySection(data)}
${spectrumSection(data)}
${chartSection(data, 'throughput', 'Throughput', `<p class="muted">Responses per second, stacked by status class; 429s and fallback answers are layers of their own (not counted again in 4xx or 2xx).</p>`)}
${providerSection(summary, data)}
${generatorSection(summary, data)}
${metricsSection(summary)}
${detailsSection(summary)}
<footer>Written by launchproof ${h(summary.tool.version)} from summary.json (schema ${summary.schemaVersion}). This file is self-contained and makes no network requests.</footer>
</main>
<script type="application/json" id="lp-data">${jsonForScript(data)}</script>
<script>${scripts[0]}</script>
<script>${scripts[1]}</script>
</body>
</html>
`;
}

function loadAssets(): Assets {
  if (cachedAssets !== undefined) return cachedAssets;
  const require = createRequire(import.meta.url);
  const read = (path: string | URL) => readFileSync(path, 'utf8');
  cachedAssets = {
    uplotJs: inlineScript(read(require.resolve('uplot/dist/uPlot.iife.min.js'))),
    uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
    clientJs: inlineScript(read(new URL('./assets/report-client.js', import.meta.url))),
    css: read(new URL('./assets/report.css', import.meta.url)),
  };
  return cachedAssets;
}

/** A script's text cannot hold `</script` or `<!--` inside an HTML script element. */
function inlineScript(text: string): string {
  return text.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
}

function inlineStyle(text: string): string {
  return text.replace(/<\/style/gi, '<\\/style');
}

function header(summary: Summary): string {
  const passed = summary.verdict === 'pass';
  const cls = passed ? 'pass' : 'fail';
  const facts: Array<[string, string]> = [
    ['target', summary.target],
    ['started', summary.startedAt],
    [
      'duration',
      `${formatSeconds(summary.durationMs)} of ${formatSeconds(summary.plannedDurationMs)} planned`,
    ],
    [
      'finished',
      summary.complete ? `yes (${summary.stopReason})` : `no: stopped by ${summary.stopReason}`,
    ],
    ['seed', String(summary.seed)],
    ['flows', summary.flows.map((f) => `${f.name} (${f.executor}, ${f.model})`).join(', ')],
  ];
  if (summary.scenarioFile !== undefined) facts.push(['scenario file', summary.scenarioFile]);
  const dl = facts.map(([k, v]) => `<div><dt>${h(k)}</dt><dd>${h(v)}</dd></div>`).join('');
  return `<header class="verdict ${cls}">
<span class="badge ${cls}">${passed ? 'pass' : 'fail'}</span>
<div><h1>${h(summary.scenario)}</h1>${summary.description === undefined ? '' : `<p>${h(summary.description)}</p>`}</div>
</header>
<dl class="facts">${dl}</dl>`;
}

function callouts(summary: Summary): string {
  const out: string[] = [];
  const g = summary.generator;
  if (g.saturated) {
    const reasons = g.reasons.map((r) => `<li>${h(r)}</li>`).join('');
    out.push(
      `<div class="callout fail" id="saturated"><strong>The load generator was saturated.</strong> ` +
        'Its own delays are inside the latency figures, so they overstate what the target did. ' +
        `Run with a lower rate or more workers before trusting them.${reasons === '' ? '' : `<ul>${reasons}</ul>`}</div>`,
    );
  }
  if (!summary.complete) {
    out.push(
      `<div class="callout warn"><strong>Incomplete run</strong> (stopped: ${h(summary.stopReason)}): ` +
        'the figures cover only the part that ran.</div>',
    );
  }
  if (summary.notes.length > 0) {
    out.push(
      `<div class="callout info"><strong>Notes</strong><ul>${summary.notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul></div>`,
    );
  }
  return out.join('\n');
}

function thresholdsSection(summary: Summary): string {
  if (summary.thresholds.length === 0)
    return '<h2>Thresholds</h2><p class="muted">No thresholds were set.</p>';
  const rows = summary.thresholds.map(
    (t) =>
      `<tr class="${t.ok ? 'passed' : 'failed'}"><td><code>${h(t.metric)}</code></td><td><code>${h(t.expression)}</code></td>` +
      `<td class="num">${h(formatObserved(summary, t))}</td><td>${resultBadge(t.ok)}</td>` +
      `<td>${h([t.abortOnFail ? 'abortOnFail' : '', t.note ?? ''].filter((x) => x !== '').join('; '))}</td></tr>`,
  );
  return `<h2>Thresholds</h2>
<table><thead><tr><th>metric</th><th>threshold</th><th class="num">observed</th><th>result</th><th>note</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function verificationsSection(summary: Summary): string {
  if (summary.verifications.length === 0)
    return '<h2>Verifications</h2><p class="muted">No verifications ran.</p>';
  const rows = summary.verifications.map((v) => {
    const evidence = v.evidence.map((line) => `<li>${h(line)}</li>`).join('');
    return (
      `<tr class="${v.ok ? 'passed' : 'failed'}"><td>${h(v.name)}</td><td>${h(v.subject ?? 'whole run')}</td>` +
      `<td>${resultBadge(v.ok)}</td><td>${evidence === '' ? '<span class="muted">no evidence recorded</span>' : `<ul class="evidence">${evidence}</ul>`}</td></tr>`
    );
  });
  return `<h2>Verifications</h2>
<table><thead><tr><th>verification</th><th>subject</th><th>result</th><th>evidence</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function resultBadge(ok: boolean): string {
  return `<span class="badge ${ok ? 'pass' : 'fail'}">${ok ? 'pass' : 'fail'}</span>`;
}

function latencySection(data: ReportData): string {
  return chartSection(
    data,
    'latency',
    'Latency over time',
    `<p class="muted">p50, p95 and p99 of each second, measured from each request's intended send time (<code>latency</code>), and time to first token (<code>chat_ttft</code>) for chat flows. The dashed line is the ${LAUNCH_SLO_MS} ms launch SLO.</p>`,
  );
}

function spectrumSection(data: ReportData): string {
  return chartSection(
    data,
    'spectrum',
    'Latency percentile spectrum',
    '<p class="muted">Whole-run percentiles on a log scale of 1/(1−p), as HdrHistogram\'s plotter draws them. <code>latency</code> counts from the intended send, <code>http_req_duration</code> from the actual send: where the curves part, the generator sent late and a send-time figure would hide the wait (coordinated omission).</p>',
  );
}

function chartSection(
  data: ReportData,
  section: ChartSection,
  title: string,
  intro: string,
): string {
  const charts = data.sections[section];
  if (charts.length === 0) return `<h2>${h(title)}</h2><p class="muted">No samples to chart.</p>`;
  return `<h2>${h(title)}</h2>${intro}\n${charts.map((c, i) => figure(data, section, i, c.title, c.type === 'time')).join('\n')}`;
}

function figure(
  data: ReportData,
  section: ChartSection,
  index: number,
  title: string,
  timed: boolean,
): string {
  const faults =
    timed && data.faultWindows.length > 0
      ? `<p class="faults"><span class="swatch"></span>shaded: ${data.faultWindows
          .map((w) => `${h(w.label)} (${formatFixed(w.startSec, 1)}–${formatFixed(w.endSec, 1)} s)`)
          .join(', ')}</p>`
      : '';
  return `<figure class="chart" data-chart="${section}:${index}"><figcaption>${h(title)}</figcaption><div class="plot"></div>${faults}</figure>`;
}

function providerSection(summary: Summary, data: ReportData): string {
  const calls = findMetric(summary, 'provider_calls');
  const cost = findMetric(summary, 'provider_cost_usd');
  const totals: string[] = [];
  if (calls?.kind === 'counter') totals.push(`${formatCount(calls.count)} provider calls`);
  if (cost?.kind === 'counter') totals.push(`US$${formatFixed(cost.count, 4)} spent`);
  const totalLine = totals.length > 0 ? `<p>Whole run: ${h(totals.join(', '))}.</p>` : '';
  if (data.sections.provider.length > 0) {
    return chartSection(data, 'provider', 'Provider calls and spend', totalLine);
  }
  return `<h2>Provider calls and spend</h2>${totalLine}<p class="muted" id="provider-unknown">Over time: provider counters not known (this run's per-second series carries no provider call or spend counts).</p>`;
}

function generatorSection(summary: Summary, data: ReportData): string {
  const g = summary.generator;
  const line =
    `<p>Achieved ${formatFixed(g.achievedRatePerSec, 2)} of ${formatFixed(g.plannedRatePerSec, 2)} requests/s planned ` +
    `(${formatCount(g.sent)} of ${formatCount(g.planned)} sent; ${formatCount(g.late)} late, ${formatCount(g.dropped)} dropped) ` +
    `on ${g.workers} worker${g.workers === 1 ? '' : 's'}. Send lag p50/p99/max ${[g.sendLagMs.p50, g.sendLagMs.p99, g.sendLagMs.max].map(formatMs).join(' / ')}; ` +
    `event-loop delay p50/p99/max ${[g.eventLoopDelayMs.p50, g.eventLoopDelayMs.p99, g.eventLoopDelayMs.max].map(formatMs).join(' / ')}; ` +
    `CPU ${formatFixed(g.cpuPercent, 0)}%.</p>`;
  const warning = g.saturated
    ? '<div class="callout fail"><strong>Saturated:</strong> the generator could not keep its schedule; see the warning at the top.</div>'
    : '<p class="muted">The generator kept up: its own delays do not distort the figures.</p>';
  return chartSection(data, 'generator', 'Generator health', `${line}${warning}`);
}

function metricsSection(summary: Summary): string {
  const entries = Object.entries(summary.metrics).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const byKind = <K extends MetricSummary['kind']>(kind: K) =>
    entries.filter((e): e is [string, Extract<MetricSummary, { kind: K }>] => e[1].kind === kind);
  const parts = ['<h2>Metrics</h2>'];
  const trends = byKind('trend');
  if (trends.length > 0) {
    const cols = ['count', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'] as const;
    const rows = trends.map(
      ([name, m]) =>
        `<tr><td><code>${h(name)}</code></td>${cols.map((c) => `<td class="num">${c === 'count' ? formatCount(m.count) : h(formatTrendValue(m[c], m.unit))}</td>`).join('')}</tr>`,
    );
    parts.push(
      `<h3>Trends</h3><table><thead><tr><th>metric</th>${cols.map((c) => `<th class="num">${c}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  const rates = byKind('rate');
  if (rates.length > 0) {
    const rows = rates.map(
      ([name, m]) =>
        `<tr><td><code>${h(name)}</code></td><td class="num">${formatRate(m.rate)}</td><td class="num">${formatCount(m.passes)}</td><td class="num">${formatCount(m.fails)}</td></tr>`,
    );
    parts.push(
      `<h3>Rates</h3><table><thead><tr><th>metric</th><th class="num">rate</th><th class="num">true</th><th class="num">false</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  const counters = byKind('counter');
  const gauges = byKind('gauge');
  if (counters.length + gauges.length > 0) {
    const rows = [
      ...counters.map(
        ([name, m]) =>
          `<tr><td><code>${h(name)}</code></td><td class="num">${formatFixed(m.count, Number.isInteger(m.count) ? 0 : 4)}</td><td class="num">${formatFixed(m.ratePerSec, 2)}/s</td></tr>`,
      ),
      ...gauges.map(
        ([name, m]) =>
          `<tr><td><code>${h(name)}</code></td><td class="num">${formatFixed(m.value, 2)}</td><td class="num">gauge</td></tr>`,
      ),
    ];
    parts.push(
      `<h3>Counters</h3><table><thead><tr><th>metric</th><th class="num">count</th><th class="num">rate</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  if (entries.length === 0) parts.push('<p class="muted">No metrics were recorded.</p>');
  return parts.join('\n');
}

function detailsSection(summary: Summary): string {
  const parts: string[] = [];
  if (summary.checks.length > 0) {
    const rows = summary.checks.map(
      (c) =>
        `<tr class="${c.fails > 0 ? 'failed' : 'passed'}"><td>${h(c.flow)}</td><td>${h(c.name)}</td><td class="num">${formatCount(c.passes)}</td><td class="num">${formatCount(c.fails)}</td></tr>`,
    );
    parts.push(
      `<h2>Checks</h2><table><thead><tr><th>flow</th><th>check</th><th class="num">passed</th><th class="num">failed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  parts.push('<h2>Request failures</h2>');
  if (summary.failures.length === 0) parts.push('<p class="muted">No request failed.</p>');
  else {
    const rows = summary.failures.map(
      (f) =>
        `<tr><td>${h(f.kind)}</td><td class="num">${formatCount(f.count)}</td><td>${h(f.flows.join(', '))}</td><td>${h(f.message)}</td></tr>`,
    );
    parts.push(
      `<table><thead><tr><th>kind</th><th class="num">count</th><th>flows</th><th>message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  const codes = Object.entries(summary.statusCodes).sort(([a], [b]) => (a < b ? -1 : 1));
  if (codes.length > 0) {
    const cells = codes.map(
      ([code, n]) => `<tr><td>${h(code)}</td><td class="num">${formatCount(n)}</td></tr>`,
    );
    parts.push(
      `<h3>Status codes</h3><table><thead><tr><th>status</th><th class="num">responses</th></tr></thead><tbody>${cells.join('')}</tbody></table>`,
    );
  }
  return parts.join('\n');
}
