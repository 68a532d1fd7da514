import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tsImport } from 'tsx/esm/api';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TYPES = join(REPO, 'node_modules', '@types');
const SSE_DECLARATION = join(REPO, 'test', 'fixtures', 'k6', 'xk6-sse.d.ts');
const TSC = join(REPO, 'node_modules', '.bin', 'tsc');

/**
 * Type-checks k6 scripts as k6 users would with @types/k6: strict, ES2020 (what k6's runtime
 * offers), k6's modules from this repo's @types/k6, and an ambient declaration of k6/x/sse.
 * Returns tsc's exit code and output.
 */
export async function typecheckScripts(
  scripts: ReadonlyArray<{ name: string; script: string }>,
): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lp-k6-tsc-'));
  try {
    for (const { name, script } of scripts) await writeFile(join(dir, `${name}.ts`), script);
    await copyFile(SSE_DECLARATION, join(dir, 'xk6-sse.d.ts'));
    const tsconfig = {
      compilerOptions: {
        target: 'ES2020',
        lib: ['ES2020'],
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [TYPES],
        types: ['k6'],
        paths: { k6: [join(TYPES, 'k6', 'index.d.ts')], 'k6/*': [join(TYPES, 'k6', '*')] },
      },
      include: ['*.ts'],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    try {
      const { stdout } = await promisify(execFile)(TSC, ['-p', dir], { cwd: dir });
      return { code: 0, output: stdout };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One SSE event as xk6-sse hands it to the `event` handler. */
export interface StubEvent {
  id: string;
  name: string;
  data: string;
}

/** What a stubbed k6 saw the script do, and how it answers. */
export interface K6Stub {
  iteration: number;
  vu: number;
  requests: Array<{ method: string; url: string; body: unknown; params: Record<string, unknown> }>;
  metrics: Array<{ name: string; value: number | boolean; tags: Record<string, string> }>;
  checks: Array<{ name: string; ok: boolean }>;
  sleeps: number[];
  /** The answer of the next request: status, headers, body text or SSE events. */
  answer: { status: number; headers: Record<string, string>; body: string; events: StubEvent[] };
}

const STUB_MODULES: Record<string, string> = {
  'index.js': `const k6 = () => globalThis.__k6;
export function check(value, checkers) {
  let all = true;
  for (const [name, fn] of Object.entries(checkers)) {
    const ok = Boolean(fn(value));
    k6().checks.push({ name, ok });
    all = all && ok;
  }
  return all;
}
export function sleep(seconds) { k6().sleeps.push(seconds); }
`,
  'data.js': `export class SharedArray {
  constructor(name, callback) { return Object.freeze(callback()); }
}
`,
  'execution.js': `const k6 = () => globalThis.__k6;
export default {
  scenario: { get iterationInTest() { return k6().iteration; } },
  vu: { get idInTest() { return k6().vu; } },
};
`,
  'encoding.js': `export default {
  b64decode(text, variant, format) {
    const bytes = Buffer.from(text, 'base64');
    return format === 's' ? bytes.toString('utf8') : bytes.buffer;
  },
};
`,
  'http.js': `const k6 = () => globalThis.__k6;
export default {
  expectedStatuses(...statuses) { return { statuses }; },
  request(method, url, body, params) {
    k6().requests.push({ method, url, body, params });
    const answer = k6().answer;
    return {
      status: answer.status,
      headers: answer.headers,
      body: params.responseType === 'none' ? null : answer.body,
      error: '',
      timings: { duration: 12.5 },
    };
  },
};
`,
  'metrics.js': `const k6 = () => globalThis.__k6;
class Metric {
  constructor(name) { this.name = name; }
  add(value, tags) { k6().metrics.push({ name: this.name, value, tags: tags || {} }); }
}
export class Rate extends Metric {}
export class Trend extends Metric {}
export class Counter extends Metric {}
`,
  'x/sse.js': `const k6 = () => globalThis.__k6;
export default {
  open(url, params, setup) {
    k6().requests.push({ method: params.method, url, body: params.body, params });
    const handlers = { event: [], error: [], open: [] };
    setup({ on(name, handler) { handlers[name].push(handler); }, close() {} });
    const answer = k6().answer;
    for (const event of answer.events) for (const handler of handlers.event) handler(event);
    return { url, status: answer.status, headers: answer.headers, error: '' };
  },
};
`,
};

/**
 * Loads an exported script under Node with k6's modules stubbed (no network): the stubs
 * record what the script sends, adds and checks, and answer from `stub.answer`. The script's
 * own code (readers, checks, tags, data) is what runs. Returns its exports and a cleanup.
 */
export async function loadWithStubK6(
  script: string,
  env: Record<string, string> = {},
): Promise<{ exports: Record<string, unknown>; stub: K6Stub; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lp-k6-run-'));
  const k6 = join(dir, 'node_modules', 'k6');
  await mkdir(join(k6, 'x'), { recursive: true });
  const exportsMap: Record<string, string> = { '.': './index.js' };
  for (const file of Object.keys(STUB_MODULES)) {
    await writeFile(join(k6, file), STUB_MODULES[file] as string);
    if (file !== 'index.js') exportsMap[`./${file.replace(/\.js$/, '')}`] = `./${file}`;
  }
  exportsMap['./options'] = './index.js';
  await writeFile(
    join(k6, 'package.json'),
    JSON.stringify({ name: 'k6', type: 'module', exports: exportsMap }),
  );
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const file = join(dir, 'script.ts');
  await writeFile(file, script);

  const stub: K6Stub = {
    iteration: 0,
    vu: 1,
    requests: [],
    metrics: [],
    checks: [],
    sleeps: [],
    answer: { status: 200, headers: {}, body: '', events: [] },
  };
  const globals = globalThis as { __k6?: K6Stub; __ENV?: Record<string, string> };
  globals.__k6 = stub;
  globals.__ENV = { TARGET: 'http://127.0.0.1:9', ...env };
  let exports: Record<string, unknown>;
  try {
    exports = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<
      string,
      unknown
    >;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    exports,
    stub,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Splits a recorded SSE body into events the way the SSE spec (and xk6-sse on LF) does. */
export function sseEvents(body: string): StubEvent[] {
  const events: StubEvent[] = [];
  let name = '';
  let id = '';
  let data: string[] = [];
  let sawData = false;
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (sawData) events.push({ id, name, data: data.join('\n') });
      name = '';
      data = [];
      sawData = false;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data.push(value);
      sawData = true;
    } else if (field === 'event') name = value;
    else if (field === 'id') id = value;
  }
  return events;
}
