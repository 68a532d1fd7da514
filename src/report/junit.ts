import { escapeXml } from './escape.ts';
import { formatObserved } from './format.ts';
import type { Summary } from './summary-schema.ts';

interface TestCase {
  name: string;
  classname: string;
  /** Present when the case failed. */
  failure?: { message: string; type: string; body: string };
  /** Evidence of a passing case, kept for the reader. */
  output?: string;
}

/**
 * Renders `junit.xml`: one `<testsuite>` for the thresholds and one for the verifications,
 * one `<testcase>` each. A failed case carries a `<failure>` whose message states the
 * observed value and whose body holds the evidence lines; a passing verification keeps its
 * evidence in `<system-out>`. Suites carry the run's facts as properties. Every string is
 * XML-escaped, and characters XML 1.0 cannot hold are replaced.
 */
export function renderJunit(summary: Summary): string {
  const prefix = `launchproof.${summary.scenario}`;
  const thresholdCases = summary.thresholds.map((t): TestCase => {
    const observed = formatObserved(summary, t);
    const name = `${t.metric}: ${t.expression}`;
    const base = { name, classname: `${prefix}.thresholds` };
    if (t.ok) return { ...base, output: `observed ${observed}` };
    const body = [`observed ${observed}, expected ${t.expression}`];
    if (t.note !== undefined) body.push(t.note);
    return {
      ...base,
      failure: {
        message: `${name} failed: observed ${observed}`,
        type: 'threshold',
        body: body.join('\n'),
      },
    };
  });
  const verificationCases = summary.verifications.map((v): TestCase => {
    const name = v.subject === undefined ? v.name : `${v.name} (${v.subject})`;
    const base = { name, classname: `${prefix}.verifications` };
    const evidence = v.evidence.join('\n');
    if (v.ok) return { ...base, output: evidence };
    return {
      ...base,
      failure: {
        message: `${name} failed${v.evidence[0] === undefined ? '' : `: ${v.evidence[0]}`}`,
        type: 'verification',
        body: evidence,
      },
    };
  });

  const all = [...thresholdCases, ...verificationCases];
  const seconds = (summary.durationMs / 1_000).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(prefix)}" tests="${all.length}" failures="${countFailed(all)}" ` +
      `errors="0" time="${seconds}">`,
  ];
  const properties = runProperties(summary);
  lines.push(
    ...suite(`${summary.scenario} thresholds`, thresholdCases, summary, seconds, properties),
  );
  lines.push(
    ...suite(`${summary.scenario} verifications`, verificationCases, summary, seconds, properties),
  );
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function suite(
  name: string,
  cases: readonly TestCase[],
  summary: Summary,
  seconds: string,
  properties: ReadonlyArray<[string, string]>,
): string[] {
  const timestamp = summary.startedAt.replace(/\.\d+Z$|Z$/, '');
  const lines = [
    `  <testsuite name="${escapeXml(name)}" tests="${cases.length}" failures="${countFailed(cases)}" ` +
      `errors="0" skipped="0" time="${seconds}" timestamp="${escapeXml(timestamp)}">`,
    '    <properties>',
    ...properties.map(
      ([key, value]) => `      <property name="${escapeXml(key)}" value="${escapeXml(value)}"/>`,
    ),
    '    </properties>',
  ];
  for (const c of cases) {
    const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(c.classname)}" time="0"`;
    if (c.failure === undefined && (c.output === undefined || c.output === '')) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (c.failure !== undefined) {
      lines.push(
        `      <failure message="${escapeXml(c.failure.message)}" type="${c.failure.type}">` +
          `${escapeXml(c.failure.body)}</failure>`,
      );
    }
    if (c.output !== undefined && c.output !== '') {
      lines.push(`      <system-out>${escapeXml(c.output)}</system-out>`);
    }
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines;
}

function runProperties(summary: Summary): Array<[string, string]> {
  return [
    ['scenario', summary.scenario],
    ['target', summary.target],
    ['seed', String(summary.seed)],
    ['verdict', summary.verdict],
    ['complete', String(summary.complete)],
    ['stopReason', summary.stopReason],
    ['generatorSaturated', String(summary.generator.saturated)],
  ];
}

function countFailed(cases: readonly TestCase[]): number {
  return cases.filter((c) => c.failure !== undefined).length;
}
