import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportK6 } from '../../src/export/index.ts';
import { pregenerateRequests } from '../../src/export/pregenerate.ts';
import { loadScenario, validateScenario } from '../../src/scenario/load-scenario.ts';
import type { Scenario, ScenarioInput } from '../../src/scenario/schema.ts';
import { createChatStreamReader } from '../../src/stream/index.ts';
import { type K6Stub, loadWithStubK6, REPO, sseEvents } from './k6-harness.ts';

const STREAMS = join(REPO, 'test', 'fixtures', 'streams');
const FIXTURE = join(REPO, 'test', 'fixtures', 'export', 'chat-mix.ts');

type Loaded = Awaited<ReturnType<typeof loadWithStubK6>>;

function flowFn(loaded: Loaded, name: string): () => void {
  const fn = loaded.exports[name];
  if (typeof fn !== 'function') throw new Error(`the script exports no function ${name}`);
  return fn as () => void;
}

function metric(stub: K6Stub, name: string) {
  return stub.metrics.filter((sample) => sample.name === name);
}

describe('the exported script at run time (k6 modules stubbed, the script itself real)', () => {
  let scenario: Scenario;
  let loaded: Loaded;

  beforeAll(async () => {
    scenario = (await loadScenario(FIXTURE)).scenario;
    loaded = await loadWithStubK6((await exportK6(scenario)).script);
  });
  afterAll(() => loaded.close());

  it('sends iteration i the request launchproof pre-generates for iteration i', async () => {
    const chat = scenario.flows.find((flow) => flow.name === 'chat');
    if (chat === undefined) throw new Error('no chat flow');
    const expected = await pregenerateRequests(scenario, chat);
    const { stub } = loaded;
    stub.answer = { status: 200, headers: {}, body: '', events: [] };
    for (let i = 0; i < 8; i++) {
      stub.iteration = i;
      flowFn(loaded, 'flow_chat')();
    }
    const sent = stub.requests.slice(-8);
    const requests = expected.requests;
    expect(sent.map((r) => r.body)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => requests[i % requests.length]?.body),
    );
    const first = sent[0];
    if (first === undefined) throw new Error('nothing sent');
    expect(first.url).toBe('http://127.0.0.1:9/api/chat');
    expect(first.params.tags).toEqual({ name: 'chat' });
    expect((first.params.headers as Record<string, string>)['content-type']).toBe(
      'application/json',
    );
  });

  it("gives a closed-model VU its identity's claimed address, as the engine does", () => {
    const { stub } = loaded;
    stub.answer = { status: 200, headers: {}, body: '', events: [] };
    const seen: string[] = [];
    for (const vu of [1, 2, 3]) {
      stub.vu = vu;
      stub.iteration = vu;
      flowFn(loaded, 'flow_browse_pages')();
      const headers = stub.requests.at(-1)?.params.headers as Record<string, string>;
      seen.push(headers['x-forwarded-for'] as string);
    }
    expect(seen).toEqual(['203.0.113.10', '203.0.113.11', '203.0.113.10']);
    expect(stub.sleeps.at(-1)).toBeGreaterThanOrEqual(0.5);
    expect(stub.sleeps.at(-1)).toBeLessThan(1.5);
  });

  it('runs declarative and predicate checks on the response, failing what fails', () => {
    const { stub } = loaded;
    stub.checks.length = 0;
    stub.answer = {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: '{"answers":[]}',
      events: [],
    };
    flowFn(loaded, 'flow_faq')();
    stub.answer = { status: 500, headers: {}, body: 'oops', events: [] };
    flowFn(loaded, 'flow_faq')();
    expect(stub.checks).toEqual([
      { name: 'has answers', ok: true },
      { name: 'status 2xx', ok: true },
      // A predicate that throws (the body is not JSON) fails, as in launchproof.
      { name: 'has answers', ok: false },
      { name: 'status 2xx', ok: false },
    ]);
  });

  it('tags ratelimited samples with status and status class, and counts a 429', () => {
    const { stub } = loaded;
    stub.metrics.length = 0;
    stub.answer = { status: 429, headers: {}, body: '', events: [] };
    flowFn(loaded, 'flow_faq')();
    expect(metric(stub, 'ratelimited')).toEqual([
      {
        name: 'ratelimited',
        value: true,
        tags: { name: 'faq', status: '429', status_class: '4xx' },
      },
    ]);
  });

  it('times chat_ttft at the first non-empty delta and passes the stream checks', () => {
    const { stub } = loaded;
    stub.metrics.length = 0;
    stub.checks.length = 0;
    const body = readFileSync(join(STREAMS, 'vercel-ai-usage.sse'), 'utf8');
    stub.answer = {
      status: 200,
      headers: { 'Content-Type': 'text/event-stream' },
      body: '',
      events: sseEvents(body),
    };
    flowFn(loaded, 'flow_chat')();
    expect(metric(stub, 'chat_ttft')).toHaveLength(1);
    expect(metric(stub, 'chat_ttft_send').map((s) => s.value)).toEqual(
      metric(stub, 'chat_ttft').map((s) => s.value),
    );
    expect(metric(stub, 'chat_stream_failed').map((s) => s.value)).toEqual([false]);
    expect(metric(stub, 'chat_itl').length).toBeGreaterThan(0);
    expect(stub.checks.every((c) => c.ok)).toBe(true);
  });
});

/** The engine's verdict on a recorded body: did content arrive, did the stream fail. */
function engineVerdict(
  format: 'openai' | 'anthropic' | 'vercel-ai' | 'json' | 'text',
  body: string,
) {
  const reader = createChatStreamReader(format);
  reader.push(new TextEncoder().encode(body), 1_000);
  const result = reader.end(2_000);
  return { content: result.firstContentUs !== undefined, failed: result.failure !== undefined };
}

function streamScenario(format: 'openai' | 'anthropic' | 'vercel-ai' | 'json' | 'text'): Scenario {
  const input = {
    name: 'stream-conformance',
    flows: [
      {
        name: 'chat',
        load: { executor: 'burst', count: 1 },
        request: { method: 'POST', path: '/chat', json: { q: 'hi' } },
        stream: { format },
      },
    ],
  };
  return validateScenario(input as ScenarioInput);
}

describe("the script's stream readers agree with launchproof's on every recorded stream", () => {
  const fixtures = readdirSync(STREAMS).sort();
  const cases: Array<{
    file: string;
    format: 'openai' | 'anthropic' | 'vercel-ai' | 'json' | 'text';
  }> = [];
  for (const file of fixtures) {
    const format = (['vercel-ai', 'openai', 'anthropic'] as const).find((f) =>
      file.startsWith(`${f}-`),
    );
    if (format !== undefined && file.endsWith('.sse')) cases.push({ file, format });
    else if (file.startsWith('json-')) cases.push({ file, format: 'json' });
    else if (file.startsWith('text-')) cases.push({ file, format: 'text' });
  }

  it('covers failing and passing recordings of every built-in format', () => {
    expect(new Set(cases.map((c) => c.format))).toEqual(
      new Set(['openai', 'anthropic', 'vercel-ai', 'json', 'text']),
    );
    const verdicts = cases.map((c) =>
      engineVerdict(c.format, readFileSync(join(STREAMS, c.file), 'utf8')),
    );
    expect(verdicts.some((v) => v.failed)).toBe(true);
    expect(verdicts.some((v) => !v.failed)).toBe(true);
  });

  for (const format of ['openai', 'anthropic', 'vercel-ai', 'json', 'text'] as const) {
    it(`reads ${format} recordings to the same content and failure verdicts`, async () => {
      const loaded = await loadWithStubK6((await exportK6(streamScenario(format))).script);
      try {
        for (const { file } of cases.filter((c) => c.format === format)) {
          const body = readFileSync(join(STREAMS, file), 'utf8');
          const { stub } = loaded;
          stub.metrics.length = 0;
          stub.answer = { status: 200, headers: {}, body, events: sseEvents(body) };
          flowFn(loaded, 'flow_chat')();

          const expected = engineVerdict(format, body);
          const failed = metric(stub, 'chat_stream_failed').map((s) => s.value);
          const timed =
            format === 'text' ? metric(stub, 'chat_duration') : metric(stub, 'chat_ttft');
          expect({ file, content: timed.length === 1, failed: failed[0] }).toEqual({
            file,
            content: expected.content,
            failed: expected.failed,
          });
        }
      } finally {
        await loaded.close();
      }
    });
  }
});

describe('the fallback rate and credentials at run time', () => {
  function markedScenario(): Scenario {
    const input = {
      name: 'fallback-rate',
      flows: [
        {
          name: 'chat',
          load: { executor: 'burst', count: 1 },
          request: {
            method: 'POST',
            path: '/api/chat',
            headers: { Authorization: 'Bearer from-the-scenario' },
            json: { q: 'hi' },
          },
          stream: { format: 'vercel-ai' },
          fallbackMarker: { header: 'x-chat-fallback', event: 'fallback' },
        },
        {
          name: 'answer',
          load: { executor: 'burst', count: 1 },
          request: { path: '/api/answer' },
          fallbackMarker: { jsonField: 'meta.fallback', textPattern: /try again later/i },
        },
      ],
    };
    return validateScenario(input as ScenarioInput);
  }

  it('marks an answer by its event name or header, and not a real one', async () => {
    const loaded = await loadWithStubK6((await exportK6(markedScenario())).script, {
      LP_HEADER_AUTHORIZATION: 'Bearer from-the-env',
    });
    try {
      const { stub } = loaded;
      const chat = flowFn(loaded, 'flow_chat');
      const stream = (file: string) => sseEvents(readFileSync(join(STREAMS, file), 'utf8'));
      stub.answer = {
        status: 200,
        headers: {},
        body: '',
        events: stream('vercel-ai-fallback.sse'),
      };
      chat();
      stub.answer = { status: 200, headers: {}, body: '', events: stream('vercel-ai-usage.sse') };
      chat();
      stub.answer = { status: 200, headers: { 'X-Chat-Fallback': '1' }, body: '', events: [] };
      chat();
      expect(metric(stub, 'fallback').map((s) => s.value)).toEqual([true, false, true]);
      const headers = stub.requests[0]?.params.headers as Record<string, string>;
      expect(headers.authorization).toBe('Bearer from-the-env');
    } finally {
      await loaded.close();
    }
  });

  it('marks a plain answer by a truthy JSON field or a pattern in the body', async () => {
    const loaded = await loadWithStubK6((await exportK6(markedScenario())).script, {
      LP_HEADER_AUTHORIZATION: 'x',
    });
    try {
      const { stub } = loaded;
      const answer = flowFn(loaded, 'flow_answer');
      for (const body of [
        '{"meta":{"fallback":true}}',
        '{"meta":{"fallback":false}}',
        'Please TRY AGAIN LATER',
        'not json',
      ]) {
        stub.answer = { status: 200, headers: {}, body, events: [] };
        answer();
      }
      expect(metric(stub, 'fallback').map((s) => s.value)).toEqual([true, false, true, false]);
    } finally {
      await loaded.close();
    }
  });

  it('stops at start, naming the variable, when a credential header is not in the env', async () => {
    const { script } = await exportK6(markedScenario());
    await expect(loadWithStubK6(script)).rejects.toThrow(/set LP_HEADER_AUTHORIZATION/);
  });
});
