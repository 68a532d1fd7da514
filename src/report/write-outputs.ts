import { join } from 'node:path';
import { METRIC_CATALOG, type MetricDefinition } from '../metrics/metric-catalog.ts';
import type { IntervalHistogram } from '../metrics/time-series.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { renderHistogramLog, renderPercentileDistribution } from './hdr-log.ts';
import { renderHtmlReport } from './html-report.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import type { Summary } from './summary-schema.ts';

/** File names beside `summary.json` in a run folder. */
export const OUTPUT_FILES = {
  html: 'report.html',
  junit: 'junit.xml',
  markdown: 'summary.md',
  hdrLog: 'latency.hlog',
} as const;

/**
 * Writes every reporter's file into a run folder, each whole (temp file, then rename):
 * `report.html`, `junit.xml`, `summary.md`, `latency.hlog` from the per-second intervals, and
 * one `<metric>.hgrm` per timing histogram of the summary. The caller writes `summary.json`
 * first. Returns the paths written, in that order.
 */
export async function writeRunOutputs(
  dir: string,
  summary: Summary,
  intervals: readonly IntervalHistogram[],
): Promise<string[]> {
  const written = await writeSummaryOutputs(dir, summary);
  const hlog = join(dir, OUTPUT_FILES.hdrLog);
  await writeFileAtomic(hlog, renderHistogramLog(intervals, Date.parse(summary.startedAt)));
  return [...written.slice(0, 3), hlog, ...written.slice(3)];
}

/**
 * Writes the outputs that `summary.json` alone can rebuild: the HTML report, JUnit, Markdown
 * and the `.hgrm` files (not `latency.hlog`, whose per-second histograms the summary does not
 * hold). Used by `launchproof report`. Returns the paths written.
 */
export async function writeSummaryOutputs(dir: string, summary: Summary): Promise<string[]> {
  const files: Array<[string, string]> = [
    [OUTPUT_FILES.html, renderHtmlReport(summary)],
    [OUTPUT_FILES.junit, renderJunit(summary)],
    [OUTPUT_FILES.markdown, renderMarkdown(summary)],
  ];
  for (const [metric, encoded] of Object.entries(summary.histograms)) {
    if (!isTiming(summary, metric)) continue;
    files.push([`${fileSafe(metric)}.hgrm`, renderPercentileDistribution(encoded)]);
  }

  const paths: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeFileAtomic(path, text);
    paths.push(path);
  }
  return paths;
}

/** A histogram is a timing (microseconds, reported in ms) by its summary, else the catalog. */
function isTiming(summary: Summary, metric: string): boolean {
  const reported = Object.hasOwn(summary.metrics, metric) ? summary.metrics[metric] : undefined;
  if (reported !== undefined) return reported.kind === 'trend' && reported.unit === 'ms';
  const base = metric.split('{')[0] as string;
  if (!Object.hasOwn(METRIC_CATALOG, base)) return false;
  const known: MetricDefinition = METRIC_CATALOG[base as keyof typeof METRIC_CATALOG];
  return known.unit === 'ms';
}

/** Metric names may carry `{tag:value}`: keep file names to a portable, traversal-free set. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}
