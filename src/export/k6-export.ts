import { basename } from 'node:path';
import type { Flow, Scenario } from '../scenario/schema.ts';
import type { ExportWarning } from './export-warning.ts';
import { formatExportWarning } from './export-warning.ts';
import { translateFunction } from './function-source.ts';
import { k6Duration, type LoadMapping, mapLoad } from './k6-load.ts';
import {
  type K6SseFormat,
  RUNTIME_CORE,
  RUNTIME_JSON_BODY,
  RUNTIME_READERS,
  RUNTIME_STREAM,
  readerConstant,
  runtimeTarget,
} from './k6-runtime.ts';
import { type K6Threshold, mapThresholds } from './k6-thresholds.ts';
import { DEFAULT_REQUEST_LIMIT, type FlowRequests, pregenerateRequests } from './pregenerate.ts';
import { literal, quote } from './ts-literal.ts';

/** The k6 release the scripts are written for (native TypeScript arrived in k6 v1.0). */
export const K6_VERSION = 'v1.0.0';
export const XK6_SSE_MODULE = 'github.com/phymbert/xk6-sse';

export interface K6ExportOptions {
  /** The base URL to bake in; else the scenario's `target`; else `-e TARGET=…` at run time. */
  target?: string;
  /** The scenario's file, named in the header. */
  scenarioFile?: string;
  /** Most requests pre-generated per flow (they cycle past it). Default 10,000. */
  requestLimit?: number;
  /** launchproof's version, named in the header. */
  toolVersion?: string;
}

/** One exported script and everything about the scenario it could not carry over. */
export interface K6Export {
  script: string;
  warnings: ExportWarning[];
}

/** How a flow's answer is read: through xk6-sse, or whole through k6/http. */
type StreamPlan =
  | { via: 'none' }
  | { via: 'sse'; reader: string | undefined }
  | { via: 'http'; format: 'text' | 'json' };

interface FlowPlan {
  flow: Flow;
  /** The exported function k6 runs for this flow, and the prefix of its constants. */
  exec: string;
  constant: string;
  /** The key in options.scenarios. */
  key: string;
  load: LoadMapping;
  data: FlowRequests;
  stream: StreamPlan;
  /** Check name to TypeScript source of a `LpCheck`. */
  checks: Array<[string, string]>;
  customReader: string | undefined;
  readsBody: boolean;
}

const SCENARIO_KEYS: ReadonlySet<string> = new Set([
  'name',
  'description',
  'seed',
  'target',
  'thresholds',
  'flows',
]);
const FLOW_KEYS: ReadonlySet<string> = new Set([
  'name',
  'load',
  'request',
  'identities',
  'checks',
  'tags',
  'stream',
  'expectedStatuses',
  'timeouts',
  'maxBodyBytes',
  'connections',
  'pipelining',
  'fallbackMarker',
  'onResponse',
]);
const STREAM_KEYS: ReadonlySet<string> = new Set([
  'format',
  'idleTimeout',
  'captureTextBytes',
  'abandonAfter',
]);

/** Headers whose values are credentials: read from the environment, never written out. */
const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
]);

const DEFAULT_TIMEOUTS = { connect: 10_000, headers: 60_000, body: 60_000 } as const;
const HTTP_CHECK_FIELDS = ['status', 'headers', 'body', 'json', 'durationMs'] as const;
const SSE_CHECK_FIELDS = ['status', 'headers', 'durationMs'] as const;
const RULE = '-'.repeat(86);

/**
 * Writes one self-contained k6 script that reproduces a scenario, and lists what it could
 * not carry over:
 * 1. each flow becomes a k6 scenario with the matching executor (`mapLoad`), tagged with the
 *    flow's tags and `flow`, so that sub-metric thresholds select the same samples;
 * 2. its requests are pre-generated with the scenario's seed (`pregenerateRequests`) and
 *    shipped in a SharedArray, taken by `exec.scenario.iterationInTest` so execution
 *    segments split them cleanly; credentials are left out and read from the environment;
 * 3. checks become k6 checks (declarative ones exactly, predicates as their own source when
 *    it is self-contained); streaming flows read SSE through xk6-sse and time chat_ttft;
 * 4. thresholds are copied in k6's grammar (`mapThresholds`);
 * 5. everything k6 cannot express is written at the top of the script and returned.
 */
export async function exportK6(
  scenario: Scenario,
  options: K6ExportOptions = {},
): Promise<K6Export> {
  const warnings: ExportWarning[] = [];
  const target = bakedTarget(options.target ?? scenario.target, warnings);

  for (const key of Object.keys(scenario)) {
    if (SCENARIO_KEYS.has(key) || (scenario as Record<string, unknown>)[key] === undefined)
      continue;
    warnings.push({
      kind: 'launchproof-only',
      message: `scenario.${key} runs only in launchproof (fault timelines, verifications): the k6 script leaves it out`,
    });
  }

  const plans: FlowPlan[] = [];
  const execNames = new Set<string>();
  for (const flow of scenario.flows) {
    plans.push(await planFlow(scenario, flow, execNames, options, warnings));
  }

  const tagKeys = new Set<string>(['flow', 'kind']);
  for (const plan of plans) {
    for (const key of Object.keys(plan.flow.tags)) tagKeys.add(key);
    for (const request of plan.data.requests) {
      for (const key of Object.keys(request?.tags ?? {})) tagKeys.add(key);
    }
  }
  const custom = new Set<string>(['ratelimited']);
  if (plans.some((plan) => plan.flow.fallbackMarker !== undefined)) custom.add('fallback');
  if (plans.some((plan) => plan.stream.via !== 'none' && streamMeasured(plan.stream))) {
    custom.add('chat_duration');
    custom.add('chat_stream_failed');
  }
  if (plans.some((plan) => hasTtft(plan.stream))) {
    custom.add('chat_ttft');
    custom.add('chat_ttft_send');
  }
  if (plans.some((plan) => plan.stream.via === 'sse' && plan.stream.reader !== undefined)) {
    custom.add('chat_itl');
  }
  const streamFlows = plans.filter((plan) => plan.stream.via === 'sse').map((p) => p.flow.name);
  const mapped = mapThresholds(scenario.thresholds, { custom, tagKeys, streamFlows });
  warnings.push(...mapped.warnings);

  const script = render(scenario, plans, mapped.thresholds, target, warnings, options);
  return { script, warnings };
}

// --- planning --------------------------------------------------------------------------------

async function planFlow(
  scenario: Scenario,
  flow: Flow,
  execNames: Set<string>,
  options: K6ExportOptions,
  warnings: ExportWarning[],
): Promise<FlowPlan> {
  const warn = (kind: ExportWarning['kind'], message: string) =>
    warnings.push({ kind, flow: flow.name, message });
  // Flow names may hold '.', which neither a function name nor a k6 scenario name may: both
  // take '_' instead, numbered when two flows would meet ('a.b' and 'a_b').
  const ident = flow.name.replace(/[^A-Za-z0-9_]/g, '_');
  let exec = `flow_${ident}`;
  for (let n = 2; execNames.has(exec); n++) exec = `flow_${ident}_${n}`;
  execNames.add(exec);

  const load = mapLoad(flow);
  warnings.push(...load.warnings);
  const data = await pregenerateRequests(
    scenario,
    flow,
    options.requestLimit ?? DEFAULT_REQUEST_LIMIT,
  );
  moveSecrets(data, warn);
  if (data.builderErrors !== undefined) {
    warn(
      'request',
      `the request builder threw at ${data.builderErrors.count} of ${data.requests.length} ` +
        `iterations (first: ${data.builderErrors.first}); in k6 those iterations send nothing, ` +
        'as in launchproof',
    );
  }

  for (const key of Object.keys(flow)) {
    if (FLOW_KEYS.has(key) || (flow as Record<string, unknown>)[key] === undefined) continue;
    warn('launchproof-only', `${key} runs only in launchproof: the k6 script leaves it out`);
  }
  flowWarnings(flow, warn);

  const stream = streamPlan(flow, warn);
  const customReader =
    stream.via === 'sse' && stream.reader === 'READ_CUSTOM'
      ? customReaderSource(flow, warn)
      : undefined;
  if (stream.via === 'sse' && stream.reader === 'READ_CUSTOM' && customReader === undefined) {
    stream.reader = undefined;
  }

  const fields = stream.via === 'sse' ? SSE_CHECK_FIELDS : HTTP_CHECK_FIELDS;
  const checks: Array<[string, string]> = [];
  let readsBody = false;
  for (const [name, check] of Object.entries(flow.checks)) {
    const source = checkSource(name, check, fields, warn);
    if (source === undefined) continue;
    checks.push([name, source.text]);
    readsBody ||= source.readsBody;
  }

  return {
    flow,
    exec,
    constant: exec.toUpperCase(),
    key: exec.slice('flow_'.length),
    load,
    data,
    stream,
    checks,
    customReader,
    readsBody:
      readsBody ||
      stream.via === 'http' ||
      flow.fallbackMarker?.jsonField !== undefined ||
      flow.fallbackMarker?.textPattern !== undefined,
  };
}

/** Warnings about parts of a flow that k6 runs differently or not at all. */
function flowWarnings(
  flow: Flow,
  warn: (kind: ExportWarning['kind'], message: string) => void,
): void {
  const sources = flow.identities.sourceAddresses;
  if (sources !== undefined) {
    const which = sources === 'loopback' ? "'loopback' (127.0.0.2 and up)" : sources.join(', ');
    warn(
      'source-addresses',
      `identities bind source addresses ${which}: k6 cannot bind one address per identity ` +
        '(its localIPs option hands addresses to VUs, not identities), so a per-IP limit ' +
        'sees the k6 machine as one client',
    );
  }
  if (flow.onResponse !== undefined) {
    warn(
      'launchproof-only',
      'onResponse does not run in k6: requests were pre-generated without what it would keep ' +
        'between requests (a session token, a conversation)',
    );
  }
  const timeouts = flow.timeouts;
  const changed = (['connect', 'headers', 'body'] as const).filter(
    (key) => timeouts[key] !== DEFAULT_TIMEOUTS[key],
  );
  if (changed.length > 0) {
    warn(
      'request',
      `timeouts.${changed.join(', timeouts.')} cannot be set in k6, which has one timeout per ` +
        `request (set to timeouts.request, ${k6Duration(timeouts.request)})`,
    );
  }
  if (flow.pipelining > 1)
    warn('request', 'pipelining is not available in k6: requests go one by one');
  if (flow.connections !== undefined) {
    warn(
      'request',
      'connections per identity cannot be capped in k6, which keeps connections per VU',
    );
  }
}

function streamPlan(
  flow: Flow,
  warn: (kind: ExportWarning['kind'], message: string) => void,
): StreamPlan {
  const stream = flow.stream;
  if (stream === undefined) return { via: 'none' };

  for (const key of Object.keys(stream)) {
    if (STREAM_KEYS.has(key) || (stream as Record<string, unknown>)[key] === undefined) continue;
    warn('launchproof-only', `stream.${key} runs only in launchproof: the k6 script leaves it out`);
  }
  if (stream.abandonAfter !== undefined) {
    warn(
      'stream',
      `stream.abandonAfter (${k6Duration(stream.abandonAfter)}) is not reproduced: xk6-sse ` +
        'blocks until the stream ends, so the script reads every answer whole',
    );
  }

  if (stream.format === 'text' || stream.format === 'json') {
    if (stream.format === 'text') {
      warn(
        'stream',
        'chat_ttft is not measured for a plain text stream: k6/http reads the body whole, so ' +
          'the first chunk cannot be timed',
      );
    }
    return { via: 'http', format: stream.format };
  }

  warn(
    'stream',
    `stream.idleTimeout (${k6Duration(stream.idleTimeout)}) is not reproduced: xk6-sse has no ` +
      'read timeout, so a stalled stream holds its VU until gracefulStop instead of failing',
  );
  if (typeof stream.format === 'function') return { via: 'sse', reader: 'READ_CUSTOM' };
  return { via: 'sse', reader: readerConstant(stream.format) };
}

function customReaderSource(
  flow: Flow,
  warn: (kind: ExportWarning['kind'], message: string) => void,
): string | undefined {
  const format = flow.stream?.format;
  if (typeof format !== 'function') return undefined;
  const translated = translateFunction(format, { allowedProperties: ['event', 'data', 'id'] });
  if (translated.ok) return translated.source;
  warn(
    'stream',
    `the custom stream format cannot be carried over (${translated.reason}): the script reads ` +
      'the stream without it, so this flow has no chat_ttft, chat_itl or chat_stream_failed',
  );
  return undefined;
}

type Check = Flow['checks'][string];

/** A check as the source of an `LpCheck`, or undefined (with a warning) when it cannot be. */
function checkSource(
  name: string,
  check: Check,
  fields: readonly string[],
  warn: (kind: ExportWarning['kind'], message: string) => void,
): { text: string; readsBody: boolean } | undefined {
  if (typeof check === 'function') {
    const translated = translateFunction(check, { allowedProperties: fields });
    if (!translated.ok) {
      warn('check-untranslatable', `check "${name}" is left out: ${translated.reason}`);
      return undefined;
    }
    return { text: translated.source, readsBody: /\.(body|json)\b/.test(translated.source) };
  }

  if (check.body !== undefined) {
    warn(
      'check-untranslatable',
      `check "${name}" is left out: its body schema (zod) cannot run in k6`,
    );
    return undefined;
  }
  const conditions: string[] = [];
  if (check.status !== undefined) {
    const allowed = Array.isArray(check.status) ? check.status : [check.status];
    conditions.push(
      allowed.length === 1
        ? `r.status === ${allowed[0]}`
        : `${JSON.stringify(allowed)}.includes(r.status)`,
    );
  }
  if (check.header !== undefined) {
    const header = `r.headers[${quote(check.header.name.toLowerCase())}]`;
    conditions.push(`${header} !== undefined`);
    const pattern = check.header.pattern;
    if (pattern !== undefined) conditions.push(`${regexLiteral(pattern)}.test(${header})`);
  }
  return {
    text: `(r) => ${conditions.length > 0 ? conditions.join(' && ') : 'true'}`,
    readsBody: false,
  };
}

function regexLiteral(pattern: RegExp): string {
  return `/${pattern.source}/${pattern.flags}`;
}

/** Moves credential headers out of the data: the script reads them from the environment. */
function moveSecrets(
  data: FlowRequests,
  warn: (kind: ExportWarning['kind'], message: string) => void,
): void {
  const seen = new Map<string, Set<string>>();
  for (const request of data.requests) {
    if (request === null) continue;
    for (const name of Object.keys(request.headers)) {
      if (!SECRET_HEADERS.has(name)) continue;
      const values = seen.get(name) ?? new Set<string>();
      values.add(request.headers[name] as string);
      seen.set(name, values);
      delete request.headers[name];
      request.secret = [...(request.secret ?? []), name];
    }
  }
  for (const [name, values] of seen) {
    const variable = `LP_HEADER_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const many = values.size > 1 ? ` (its ${values.size} different values become that one)` : '';
    warn(
      'request',
      `the ${name} header is not written into the script: run k6 with -e ${variable}=...${many}`,
    );
  }
}

function bakedTarget(target: string | undefined, warnings: ExportWarning[]): string | undefined {
  if (target === undefined) return undefined;
  const url = new URL(target);
  if (url.username !== '' || url.password !== '') {
    url.username = '';
    url.password = '';
    warnings.push({
      kind: 'request',
      message: 'the target URL carries credentials: they are left out of the script',
    });
  }
  return url.toString().replace(/\/+$/, '');
}

/** The tags of every sample of a flow, as the engine's FlowRuntime sets them. */
function flowTags(flow: Flow): Record<string, string> {
  return { kind: flow.stream ? 'chat' : 'http', ...flow.tags, flow: flow.name };
}

function streamMeasured(stream: StreamPlan): boolean {
  return stream.via === 'http' || (stream.via === 'sse' && stream.reader !== undefined);
}

function hasTtft(stream: StreamPlan): boolean {
  return (
    (stream.via === 'http' && stream.format === 'json') ||
    (stream.via === 'sse' && stream.reader !== undefined)
  );
}

// --- rendering -------------------------------------------------------------------------------

function render(
  scenario: Scenario,
  plans: readonly FlowPlan[],
  thresholds: Record<string, K6Threshold[]>,
  target: string | undefined,
  warnings: readonly ExportWarning[],
  options: K6ExportOptions,
): string {
  const sse = plans.some((plan) => plan.stream.via === 'sse');
  const streams = plans.some((plan) => plan.stream.via !== 'none');
  const http = plans.some((plan) => plan.stream.via !== 'sse');
  const checks = plans.some((plan) => plan.checks.length > 0);
  const sleeps = plans.some((plan) => thinkTime(plan.flow) !== undefined);
  const base64 = plans.some((plan) => plan.data.requests.some((r) => r?.bodyBase64 !== undefined));
  const formats = new Set<Exclude<K6SseFormat, 'custom'>>();
  for (const plan of plans) {
    const format = plan.flow.stream?.format;
    if (
      plan.stream.via === 'sse' &&
      typeof format === 'string' &&
      format !== 'text' &&
      format !== 'json'
    ) {
      formats.add(format);
    }
  }

  const out: string[] = [];
  out.push(header(scenario, plans, warnings, options, sse));
  const k6Names = [checks ? 'check' : undefined, sleeps ? 'sleep' : undefined].filter(Boolean);
  if (k6Names.length > 0) out.push(`import { ${k6Names.join(', ')} } from 'k6';`);
  out.push(`import { SharedArray } from 'k6/data';`);
  if (base64) out.push(`import encoding from 'k6/encoding';`);
  out.push(`import exec from 'k6/execution';`);
  if (http) out.push(`import http from 'k6/http';`);
  out.push(`import { ${streams ? 'Rate, Trend' : 'Rate'} } from 'k6/metrics';`);
  out.push(`import type { Options } from 'k6/options';`);
  if (sse) out.push(`import sse from 'k6/x/sse';`);
  out.push('');
  out.push(runtimeTarget(target));
  const secrets = [
    ...new Set(plans.flatMap((plan) => plan.data.requests.flatMap((r) => r?.secret ?? []))),
  ];
  out.push('/** Credential headers, read from the environment: never written into this file. */');
  out.push(`const SECRETS: Record<string, string> = lpSecrets(${literal(secrets.sort(), 0)});\n`);
  out.push(renderOptions(plans, thresholds));
  out.push(`/** Share of responses that were 429 (launchproof's ratelimited). */`);
  out.push(`const RATELIMITED = new Rate('ratelimited');`);
  if (plans.some((plan) => plan.flow.fallbackMarker !== undefined)) {
    out.push(
      `/** Share of answers carrying the flow's fallback marker (launchproof's fallback). */`,
    );
    out.push(`const FALLBACK = new Rate('fallback');`);
  }
  out.push('');
  for (const plan of plans) out.push(renderFlow(plan, base64));
  out.push(`// ${RULE}\n// Shared helpers\n`);
  out.push(RUNTIME_CORE);
  if (streams) out.push(RUNTIME_STREAM);
  for (const format of [...formats].sort()) out.push(RUNTIME_READERS[format]);
  if (plans.some((plan) => plan.stream.via === 'http' && plan.stream.format === 'json')) {
    out.push(RUNTIME_JSON_BODY);
  }
  out.push(`// ${RULE}\n// Pre-generated requests and identities (data, not code)\n`);
  for (const plan of plans) out.push(renderData(plan));
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function header(
  scenario: Scenario,
  plans: readonly FlowPlan[],
  warnings: readonly ExportWarning[],
  options: K6ExportOptions,
  sse: boolean,
): string {
  const lines: string[] = [];
  const from = options.scenarioFile === undefined ? '' : ` (${basename(options.scenarioFile)})`;
  lines.push(`k6 script exported by launchproof ${options.toolVersion ?? ''}`.trimEnd());
  lines.push(`from scenario "${scenario.name}"${from}, seed ${scenario.seed}.`);
  if (scenario.description !== undefined) lines.push(scenario.description);
  lines.push('');
  lines.push(`Needs: k6 ${K6_VERSION} or later (runs this TypeScript file as it is).`);
  if (sse) {
    lines.push(`Extensions: xk6-sse (${XK6_SSE_MODULE}) for the streaming flows, as k6/x/sse.`);
    lines.push('Build:  go install go.k6.io/xk6/cmd/xk6@latest');
    lines.push(`        xk6 build --with ${XK6_SSE_MODULE}   # writes ./k6`);
    lines.push('Run:    ./k6 run -e TARGET=https://your-chatbot.example script.ts');
  } else {
    lines.push('Extensions: none.');
    lines.push('Run:    k6 run -e TARGET=https://your-chatbot.example script.ts');
  }
  lines.push('Distributed runs (k6-operator, Grafana Cloud k6): see docs/distributed.md.');
  lines.push('');
  lines.push('Flows:');
  for (const plan of plans) {
    lines.push(...wrap(`  ${plan.flow.name}: ${plan.load.description}`, 86, '      '));
    lines.push(...wrap(`    ${requestsNote(plan)}`, 86, '      '));
    if (plan.stream.via === 'sse')
      lines.push('    streamed through xk6-sse; chat_ttft from the call that sends it');
  }
  lines.push('');
  if (warnings.length === 0) {
    lines.push('What k6 cannot express: nothing in this scenario.');
  } else {
    lines.push('What k6 cannot express (launchproof export prints the same on stderr):');
    for (const warning of warnings)
      lines.push(...wrap(`- ${formatExportWarning(warning)}`, 86, '  '));
  }
  const commented = lines.flatMap((line) => line.split(/\r\n|\r|\n|\u2028|\u2029/));
  return `${commented.map((line) => (line === '' ? '//' : `// ${line}`)).join('\n')}\n`;
}

function requestsNote(plan: FlowPlan): string {
  const { requests, plannedCount, plannedExact } = plan.data;
  if (typeof plan.flow.request !== 'function') return 'one fixed request';
  const planned = plannedExact ? `${plannedCount} planned` : `about ${plannedCount} expected`;
  const cycled = requests.length < plannedCount ? ', cycled' : '';
  return `${requests.length} requests pre-generated with the scenario's seed (${planned}${cycled})`;
}

function renderOptions(
  plans: readonly FlowPlan[],
  thresholds: Record<string, K6Threshold[]>,
): string {
  const scenarios: Record<string, Record<string, unknown>> = {};
  for (const plan of plans) {
    scenarios[plan.key] = {
      ...plan.load.config,
      exec: plan.exec,
      tags: flowTags(plan.flow),
    };
  }
  const options = {
    scenarios,
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)'],
  };
  return `export const options: Options = ${literal(options, 0)};\n`;
}

function renderFlow(plan: FlowPlan, base64: boolean): string {
  const { flow, constant } = plan;
  const c = (suffix: string) => `${constant}_${suffix}`;
  const lines: string[] = [];
  lines.push(`// ${RULE}`);
  lines.push(`// Flow "${flow.name}"`);
  lines.push('');
  if (plan.stream.via !== 'sse') {
    lines.push(
      `const ${c('EXPECTED')} = http.expectedStatuses(${flow.expectedStatuses.map((s) => literal(s, 0)).join(', ')});`,
    );
  }
  if (plan.checks.length > 0) {
    lines.push(`const ${c('CHECKS')} = lpChecks({`);
    for (const [name, source] of plan.checks) lines.push(`  ${quote(name)}: ${source},`);
    lines.push('});');
  }
  const marker = flow.fallbackMarker;
  if (marker !== undefined)
    lines.push(`const ${c('FALLBACK')}: LpFallbackMarker = ${markerLiteral(marker)};`);
  if (plan.customReader !== undefined) {
    lines.push(`/** The scenario's custom stream format, as written there. */`);
    lines.push(`const ${c('READ_CUSTOM')}: LpReader = ${plan.customReader};`);
  }
  lines.push('');

  const identity = plan.load.closed
    ? `${c('IDENTITIES')}[(exec.vu.idInTest - 1) % ${c('IDENTITIES')}.length]`
    : `${c('IDENTITIES')}[iteration % ${c('IDENTITIES')}.length]`;
  const body = base64
    ? "request.bodyBase64 !== undefined ? encoding.b64decode(request.bodyBase64, 'std') : request.body"
    : 'request.body';
  lines.push(`export function ${plan.exec}(): void {`);
  lines.push('  const iteration = exec.scenario.iterationInTest;');
  lines.push(`  const request = ${c('REQUESTS')}[iteration % ${c('REQUESTS')}.length];`);
  lines.push('  // As in launchproof, an iteration whose request builder threw sends nothing.');
  lines.push('  if (request === null || request === undefined) return;');
  lines.push(`  const headers = lpHeaders(request, ${identity});`);
  lines.push('  const tags = { ...request.tags, name: request.name };');

  if (plan.stream.via === 'sse') {
    const reader = plan.stream.reader === 'READ_CUSTOM' ? c('READ_CUSTOM') : plan.stream.reader;
    const text = base64
      ? "request.bodyBase64 !== undefined ? encoding.b64decode(request.bodyBase64, 'std', 's') : request.body"
      : 'request.body';
    lines.push(
      ...(reader === undefined ? [] : [`  const stream = new LpStream(${reader}, tags);`]),
    );
    lines.push('  const startMs = Date.now();');
    lines.push('  const params = { method: request.method, headers, tags };');
    lines.push(`  const body = ${text};`);
    lines.push('  const response = sse.open(');
    lines.push('    TARGET + request.path,');
    lines.push('    body === null ? params : { ...params, body },');
    lines.push('    (client) => {');
    if (reader !== undefined) {
      lines.push("      client.on('event', (event) => stream.event(event));");
      lines.push("      client.on('error', (error) => stream.fail(error.error()));");
    } else {
      lines.push("      client.on('error', () => undefined);");
    }
    lines.push('    },');
    lines.push('  );');
    lines.push('  const status = response.status || 0;');
    if (reader !== undefined) lines.push('  stream.finish(status, response.error);');
    lines.push('  const sample = lpSampleTags(tags, status);');
    lines.push('  RATELIMITED.add(status === 429, sample);');
    if (plan.checks.length > 0 || marker !== undefined) {
      lines.push("  const view = lpResponse(status, response.headers, '', Date.now() - startMs);");
    }
    if (marker !== undefined) {
      const [text, names] = reader === undefined ? ["''", '[]'] : ['stream.text', 'stream.names'];
      lines.push(
        `  if (status > 0) FALLBACK.add(lpIsFallback(${c('FALLBACK')}, view, ${text}, ${names}), sample);`,
      );
    }
    if (plan.checks.length > 0) lines.push(`  check(view, ${c('CHECKS')});`);
  } else {
    const responseType = plan.readsBody || plan.checks.length > 0 ? 'text' : 'none';
    lines.push(`  const response = http.request(request.method, TARGET + request.path, ${body}, {`);
    lines.push('    headers,');
    lines.push('    tags,');
    lines.push(`    timeout: '${k6Duration(flow.timeouts.request)}',`);
    lines.push(`    responseCallback: ${c('EXPECTED')},`);
    lines.push(`    responseType: '${responseType}',`);
    lines.push('  });');
    lines.push('  const status = response.status;');
    lines.push("  const text = typeof response.body === 'string' ? response.body : '';");
    lines.push('  const sample = lpSampleTags(tags, status);');
    lines.push('  RATELIMITED.add(status === 429, sample);');
    if (plan.stream.via === 'http') lines.push(...httpStreamLines(plan.stream.format));
    if (plan.checks.length > 0 || marker !== undefined) {
      lines.push(
        '  const view = lpResponse(status, response.headers, text, response.timings.duration);',
      );
    }
    if (marker !== undefined) {
      // The answer text where the engine reads a stream (json, text), else the body.
      const answer =
        plan.stream.via === 'http'
          ? plan.stream.format === 'json'
            ? "answer.text !== undefined ? answer.text : ''"
            : 'text'
          : 'undefined';
      lines.push(
        `  if (status > 0) FALLBACK.add(lpIsFallback(${c('FALLBACK')}, view, ${answer}, []), sample);`,
      );
    }
    if (plan.checks.length > 0) lines.push(`  check(view, ${c('CHECKS')});`);
  }

  const think = thinkTime(flow);
  if (think !== undefined) lines.push(`  sleep(${think});`);
  lines.push('}');
  lines.push('');
  return lines.join('\n');
}

/** Chat metrics of a `text` or `json` answer, read whole (the engine's rules, end-of-body times). */
function httpStreamLines(format: 'text' | 'json'): string[] {
  const lines = format === 'json' ? ['  const answer = lpJsonAnswer(text);'] : [];
  lines.push('  if (status > 0) {');
  if (format === 'json') {
    lines.push(
      "    CHAT_STREAM_FAILED.add(answer.error !== undefined || response.error !== '', sample);",
    );
    lines.push("    if (answer.text !== undefined && answer.text !== '') {");
    lines.push(
      '      // The whole answer arrives with the body: its first content is the end of it.',
    );
    lines.push('      CHAT_TTFT.add(response.timings.duration, sample);');
    lines.push('      CHAT_TTFT_SEND.add(response.timings.duration, sample);');
    lines.push('      CHAT_DURATION.add(response.timings.duration, sample);');
    lines.push('    }');
  } else {
    lines.push("    CHAT_STREAM_FAILED.add(response.error !== '', sample);");
    lines.push("    if (text !== '') CHAT_DURATION.add(response.timings.duration, sample);");
  }
  lines.push('  }');
  return lines;
}

function renderData(plan: FlowPlan): string {
  const c = (suffix: string) => `${plan.constant}_${suffix}`;
  const lines: string[] = [];
  const requests = plan.data.requests;
  lines.push(`/** Flow "${plan.flow.name}": ${requestsNote(plan)}. */`);
  lines.push(
    `const ${c('REQUESTS')} = new SharedArray<LpRequest | null>(${quote(`${plan.flow.name} requests`)}, () =>`,
  );
  lines.push('  [');
  for (const request of requests) lines.push(`    ${quote(JSON.stringify(request))},`);
  lines.push('  ].map((entry: string) => JSON.parse(entry)),');
  lines.push(');');
  lines.push(
    `const ${c('IDENTITIES')}: Array<Record<string, string>> = ${literal(plan.data.identityHeaders, 0)};`,
  );
  lines.push('');
  return lines.join('\n');
}

/** A fallback marker as a TypeScript object literal (its pattern as a regex literal). */
function markerLiteral(marker: NonNullable<Flow['fallbackMarker']>): string {
  const parts: string[] = [];
  if (marker.header !== undefined) parts.push(`header: ${quote(marker.header)}`);
  if (marker.jsonField !== undefined) parts.push(`jsonField: ${quote(marker.jsonField)}`);
  if (marker.event !== undefined) parts.push(`event: ${quote(marker.event)}`);
  if (marker.textPattern !== undefined)
    parts.push(`textPattern: ${regexLiteral(marker.textPattern)}`);
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

/** Seconds a virtual user sleeps after its answer (closed models), as a k6 expression. */
function thinkTime(flow: Flow): string | undefined {
  const load = flow.load;
  if (load.executor !== 'constant-vus' && load.executor !== 'ramping-vus') return undefined;
  const think = load.thinkTime;
  if (think === undefined) return undefined;
  if (typeof think === 'number') return think > 0 ? String(think / 1_000) : undefined;
  return `(${think.min} + Math.random() * ${think.max - think.min}) / 1000`;
}

/** Wraps a comment line near `width`, keeping its own indent and indenting what follows. */
function wrap(text: string, width: number, indent: string): string[] {
  const lead = /^ */.exec(text)?.[0] ?? '';
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    if (line.trim() !== '' && line.length + word.length + 1 > width) {
      lines.push(line);
      line = indent + word;
    } else {
      line = line.trim() === '' ? line + word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
