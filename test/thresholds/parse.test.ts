import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LaunchproofError } from '../../src/errors.ts';
import {
  type ParsedThreshold,
  parseMetricKey,
  parseThresholds,
  thresholdsInputSchema,
} from '../../src/thresholds/parse.ts';

/** Parses one expression on `latency` and returns it. */
function one(expression: string): ParsedThreshold {
  const parsed = parseThresholds({ latency: [expression] });
  expect(parsed).toHaveLength(1);
  return parsed[0] as ParsedThreshold;
}

/** The LaunchproofError that `run` throws. */
function thrown(run: () => unknown): LaunchproofError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LaunchproofError);
    return error as LaunchproofError;
  }
  throw new Error('expected a LaunchproofError, but nothing was thrown');
}

const GROUPED_URL = `http://h/posts/${'$'}{}`;
const AGGREGATION_LIST = 'avg, min, max, med, p(95), count, rate or value';

describe('parseThresholds: the short form', () => {
  it('parses a p(95) threshold into every field', () => {
    expect(parseThresholds({ latency: ['p(95)<500'] })).toEqual([
      {
        metric: 'latency',
        metricName: 'latency',
        tags: {},
        expression: 'p(95)<500',
        aggregation: { kind: 'percentile', p: 95 },
        operator: '<',
        limit: 500,
        abortOnFail: false,
        delayAbortEvalMs: 0,
      },
    ]);
  });

  it.each([
    ['avg<200', { kind: 'avg' }],
    ['min<200', { kind: 'min' }],
    ['max<200', { kind: 'max' }],
    ['med<200', { kind: 'med' }],
    ['p(90)<200', { kind: 'percentile', p: 90 }],
    ['p(99.9)<200', { kind: 'percentile', p: 99.9 }],
    ['p(0)<200', { kind: 'percentile', p: 0 }],
    ['p(100)<200', { kind: 'percentile', p: 100 }],
    ['count<200', { kind: 'count' }],
    ['rate<200', { kind: 'rate' }],
    ['value<200', { kind: 'value' }],
  ])('reads the aggregation of %j', (expression, aggregation) => {
    expect(one(expression).aggregation).toEqual(aggregation);
  });

  it.each([
    ['avg<1', '<'],
    ['avg<=1', '<='],
    ['avg>1', '>'],
    ['avg>=1', '>='],
    ['avg==1', '=='],
    ['avg!=1', '!='],
    ['avg===1', '=='],
  ])('reads the operator of %j as %j', (expression, operator) => {
    expect(one(expression).operator).toBe(operator);
  });

  it.each([
    ['avg<500', 500],
    ['avg<0.01', 0.01],
    ['avg>-1.5', -1.5],
    ['avg<+2', 2],
    ['avg<.5', 0.5],
    ['avg<1e3', 1000],
    ['avg<1_000', 1000],
    ['avg<0x1p10', 1024],
  ])('reads the limit of %j as %d', (expression, limit) => {
    expect(one(expression).limit).toBe(limit);
  });

  it('tolerates spaces around the operator and keeps the expression trimmed as written', () => {
    const parsed = one('  p(95)  <=  500  ');
    expect(parsed.expression).toBe('p(95)  <=  500');
    expect(parsed.aggregation).toEqual({ kind: 'percentile', p: 95 });
    expect(parsed.operator).toBe('<=');
    expect(parsed.limit).toBe(500);
  });

  it('keeps the order of metrics and of expressions as written', () => {
    const parsed = parseThresholds({
      latency: ['p(95)<500', 'p(99)<1500'],
      http_req_failed: ['rate<0.01'],
      http_reqs: [],
    });
    expect(parsed.map((t) => `${t.metric} ${t.expression}`)).toEqual([
      'latency p(95)<500',
      'latency p(99)<1500',
      'http_req_failed rate<0.01',
    ]);
  });

  it('accepts an empty record', () => {
    expect(parseThresholds({})).toEqual([]);
  });
});

describe('parseThresholds: the long form', () => {
  it('reads abortOnFail and delayAbortEval', () => {
    const [parsed] = parseThresholds({
      latency: [{ threshold: 'p(95)<500', abortOnFail: true, delayAbortEval: '10s' }],
    });
    expect(parsed).toMatchObject({
      expression: 'p(95)<500',
      abortOnFail: true,
      delayAbortEvalMs: 10_000,
    });
  });

  it('defaults abortOnFail to false and delayAbortEval to 0 ms', () => {
    const [parsed] = parseThresholds({ latency: [{ threshold: 'avg<100' }] });
    expect(parsed).toMatchObject({ abortOnFail: false, delayAbortEvalMs: 0 });
  });

  it('reads delayAbortEval given as a number of milliseconds, as k6 does', () => {
    const [parsed] = parseThresholds({
      latency: [{ threshold: 'avg<100', abortOnFail: true, delayAbortEval: 2_500 }],
    });
    expect(parsed?.delayAbortEvalMs).toBe(2_500);
  });

  it('mixes short and long forms on one metric', () => {
    const parsed = parseThresholds({
      latency: ['p(95)<500', { threshold: 'p(99)<1500', abortOnFail: true, delayAbortEval: '1m' }],
    });
    expect(parsed.map((t) => [t.expression, t.abortOnFail, t.delayAbortEvalMs])).toEqual([
      ['p(95)<500', false, 0],
      ['p(99)<1500', true, 60_000],
    ]);
  });
});

describe('parseThresholds: sub-metrics', () => {
  it.each([
    ['latency{route:chat}', 'latency{route:chat}', { route: 'chat' }],
    [
      'http_req_duration{status:200,method:POST}',
      'http_req_duration{status:200,method:POST}',
      { status: '200', method: 'POST' },
    ],
    [
      'http_req_duration{ status : 200 , method:POST }',
      'http_req_duration{status:200,method:POST}',
      { status: '200', method: 'POST' },
    ],
    ['latency{"route":\'chat\'}', 'latency{route:chat}', { route: 'chat' }],
    [
      'latency{url:http://127.0.0.1:8080/x}',
      'latency{url:http://127.0.0.1:8080/x}',
      {
        url: 'http://127.0.0.1:8080/x',
      },
    ],
    // k6 names a grouped URL with a literal ${}, so a tag value may hold braces.
    [`latency{name:${GROUPED_URL}}`, `latency{name:${GROUPED_URL}}`, { name: GROUPED_URL }],
    ['latency{route:a,route:b}', 'latency{route:b}', { route: 'b' }],
    ['latency{my tag:x}', 'latency{my tag:x}', { 'my tag': 'x' }],
  ])('reads %j as %j', (key, metric, tags) => {
    const [parsed] = parseThresholds({ [key]: ['p(95)<500'] });
    expect(parsed).toMatchObject({ metric, metricName: key.slice(0, key.indexOf('{')), tags });
  });

  it('exposes the key parser on its own', () => {
    expect(parseMetricKey('http_req_duration{ expected_response : true }')).toEqual({
      metric: 'http_req_duration{expected_response:true}',
      metricName: 'http_req_duration',
      tags: { expected_response: 'true' },
    });
    expect(parseMetricKey('http_reqs')).toEqual({
      metric: 'http_reqs',
      metricName: 'http_reqs',
      tags: {},
    });
  });
});

describe('parseThresholds: invalid expressions', () => {
  it('names the metric, the expression and what was expected', () => {
    const error = thrown(() => parseThresholds({ latency: ['p95<500'] }));
    expect(error.code).toBe('LP_ERR_THRESHOLD_INVALID');
    expect(error.isUsage).toBe(true);
    expect(error.message).toBe(
      'thresholds["latency"][0]: invalid threshold "p95<500": ' +
        `expected an aggregation such as ${AGGREGATION_LIST}, received "p95"`,
    );
    expect(error.details).toEqual([error.message]);
  });

  it.each([
    ['avg 500', 'expected an operator <, <=, >, >=, == or != before the number', 'avg 500'],
    ['avg=500', 'expected an operator <, <=, >, >=, == or != before the number', 'avg=500'],
    ['avg!500', 'expected an operator <, <=, >, >=, == or != before the number', 'avg!500'],
    ['', 'expected aggregation, operator and number, such as "p(95)<500"', ''],
    ['AVG<500', `expected an aggregation such as ${AGGREGATION_LIST}`, 'AVG'],
    ['average<500', `expected an aggregation such as ${AGGREGATION_LIST}`, 'average'],
    ['p<500', `expected an aggregation such as ${AGGREGATION_LIST}`, 'p'],
    ['p (95)<500', `expected an aggregation such as ${AGGREGATION_LIST}`, 'p (95)'],
    ['avg=<500', `expected an aggregation such as ${AGGREGATION_LIST}`, 'avg='],
    ['p()<500', 'expected a percentile from p(0) to p(100), such as p(95) or p(99.9)', 'p()'],
    ['p(x)<500', 'expected a percentile from p(0) to p(100), such as p(95) or p(99.9)', 'p(x)'],
    [
      'p( 95 )<500',
      'expected a percentile from p(0) to p(100), such as p(95) or p(99.9)',
      'p( 95 )',
    ],
    ['p(150)<500', 'expected a percentile from p(0) to p(100), such as p(95) or p(99.9)', 'p(150)'],
    ['p(-1)<500', 'expected a percentile from p(0) to p(100), such as p(95) or p(99.9)', 'p(-1)'],
    ['p(95))<500', 'expected a percentile from p(0) to p(100), such as p(95) or p(99.9)', 'p(95))'],
    ['avg<abc', 'expected a number after "<"', 'abc'],
    ['avg<500ms', 'expected a number after "<"', '500ms'],
    ['avg<', 'expected a number after "<"', ''],
    ['avg<1<2', 'expected a number after "<"', '1<2'],
    ['avg>=1__0', 'expected a number after ">="', '1__0'],
    ['avg<NaN', 'expected a finite number after "<"', 'NaN'],
    ['avg<Infinity', 'expected a finite number after "<"', 'Infinity'],
    ['avg<1e400', 'expected a finite number after "<"', '1e400'],
  ])('refuses %j: %s', (expression, expected, received) => {
    const error = thrown(() => parseThresholds({ latency: [expression] }));
    expect(error.message).toBe(
      `thresholds["latency"][0]: invalid threshold "${expression.trim()}": ` +
        `${expected}, received ${JSON.stringify(received)}`,
    );
  });

  it('names the place of a bad long-form expression and of a bad delayAbortEval', () => {
    const error = thrown(() =>
      parseThresholds({
        latency: ['p(95)<500', { threshold: 'p(99)<<1500' }],
        http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '5x' }],
      }),
    );
    expect(error.details).toEqual([
      'thresholds["latency"][1]: invalid threshold "p(99)<<1500": ' +
        'expected a number after "<", received "<1500"',
      'thresholds["http_req_failed"][0].delayAbortEval: invalid delayAbortEval: ' +
        `expected a duration such as '10s' or '1m30s', received "5x"`,
    ]);
  });

  it('collects every problem before throwing, the first in the message', () => {
    const error = thrown(() =>
      parseThresholds({
        latency: ['p95<500', 'p(99)<1500', 'avg 3'],
        'http_reqs{status}': ['count>0'],
        http_req_failed: ['rate<0.01'],
      }),
    );
    expect(error.details).toHaveLength(3);
    expect(error.details[0]).toMatch(/^thresholds\["latency"\]\[0\]: invalid threshold "p95<500"/);
    expect(error.details[1]).toMatch(/^thresholds\["latency"\]\[2\]: invalid threshold "avg 3"/);
    expect(error.details[2]).toMatch(/^thresholds\["http_reqs\{status\}"\]: invalid metric/);
    expect(error.message).toBe(`${error.details[0]} (and 2 more)`);
  });
});

describe('parseThresholds: invalid metric keys', () => {
  const EXPECTED = 'expected name or name{tag:value,...}';

  it.each([
    ['latency{}', 'the braces hold no tag', 'latency{}'],
    ['latency{ }', 'the braces hold no tag', 'latency{ }'],
    ['latency{route}', 'a tag has no ":value"', 'route'],
    ['latency{route:}', 'a tag has no ":value"', 'route:'],
    ['latency{route:chat,}', 'a tag is missing between commas', ''],
    ['latency{,route:chat}', 'a tag is missing between commas', ''],
    ['latency{:chat}', 'a tag has an empty key', ':chat'],
    ['latency{route:""}', 'a tag has an empty value', 'route:""'],
    ['latency{route:chat', '"{" is not closed by "}"', 'latency{route:chat'],
    ['latencyroute:chat}', '"}" has no opening "{"', 'latencyroute:chat}'],
    ['latency}route:chat{', '"}" comes before "{"', 'latency}route:chat{'],
    ['latency{route:chat} ', 'text follows the closing "}"', 'latency{route:chat} '],
    ['latency{route:chat}x', 'text follows the closing "}"', 'latency{route:chat}x'],
  ])('refuses %j: %s', (key, why, received) => {
    const error = thrown(() => parseThresholds({ [key]: ['p(95)<500'] }));
    expect(error.message).toBe(
      `thresholds[${JSON.stringify(key)}]: invalid metric: ${EXPECTED}, ` +
        `but ${why}, received ${JSON.stringify(received)}`,
    );
  });

  it.each([
    'lat ency',
    ' latency',
    'latency {route:chat}',
    '9lives',
    'x',
    'latency-ms',
    'a'.repeat(130),
  ])('refuses the metric name of %j, as k6 names metrics', (key) => {
    const error = thrown(() => parseThresholds({ [key]: ['p(95)<500'] }));
    expect(error.message).toMatch(/: invalid metric name: expected a metric name of 2 to 129/);
  });

  it('accepts the longest and shortest metric names k6 does', () => {
    expect(parseMetricKey('a'.repeat(129)).metricName).toHaveLength(129);
    expect(parseMetricKey('_x').metricName).toBe('_x');
  });

  it('reports a bad key once, not once per expression', () => {
    const error = thrown(() => parseThresholds({ 'latency{}': ['p(95)<500', 'p(99)<900'] }));
    expect(error.details).toHaveLength(1);
  });

  it('throws the same error from parseMetricKey', () => {
    const error = thrown(() => parseMetricKey('latency{route}'));
    expect(error.code).toBe('LP_ERR_THRESHOLD_INVALID');
    expect(error.message).toMatch(/^thresholds\["latency\{route\}"\]: invalid metric:/);
  });
});

describe('parseThresholds: invalid shapes', () => {
  const EXPECTED_RECORD = 'expected an object of metric names to arrays of threshold expressions';
  it.each([
    ['p(95)<500', `thresholds: ${EXPECTED_RECORD}, received "p(95)<500"`],
    [null, `thresholds: ${EXPECTED_RECORD}, received null`],
    [
      { latency: 'p(95)<500' },
      'thresholds["latency"]: expected an array of threshold expressions, received "p(95)<500"',
    ],
    [
      { latency: [500] },
      'thresholds["latency"][0]: expected a threshold expression string or ' +
        '{ threshold, abortOnFail, delayAbortEval }, received 500',
    ],
    [
      { latency: [{ threshold: 'avg<1', abortOnFial: true }] },
      'thresholds["latency"][0]: unknown key "abortOnFial": ' +
        'expected threshold, abortOnFail or delayAbortEval',
    ],
  ])('refuses %j', (input, message) => {
    expect(thrown(() => parseThresholds(input)).message).toBe(message);
  });

  it('refuses a long form whose fields have the wrong types', () => {
    for (const entry of [
      { abortOnFail: true },
      { threshold: 'avg<1', abortOnFail: 'yes' },
      { threshold: 'avg<1', delayAbortEval: true },
    ]) {
      const error = thrown(() => parseThresholds({ latency: [entry] }));
      expect(error.message).toMatch(/^thresholds\["latency"\]\[0\]: /);
    }
  });

  it('reports grammar problems beside shape problems, in the order written', () => {
    const error = thrown(() => parseThresholds({ latency: ['p95<500', 7], 'http_reqs{}': [] }));
    expect(error.details.map((line) => line.slice(0, line.indexOf(': ')))).toEqual([
      'thresholds["latency"][0]',
      'thresholds["latency"][1]',
      'thresholds["http_reqs{}"]',
    ]);
  });
});

describe('thresholdsInputSchema', () => {
  const scenario = z.object({ thresholds: thresholdsInputSchema.default({}) });

  it('embeds in a scenario schema, defaulting to no thresholds', () => {
    expect(scenario.parse({})).toEqual({ thresholds: {} });
    const input = {
      thresholds: { latency: ['p(95)<500', { threshold: 'avg<1', abortOnFail: true }] },
    };
    expect(scenario.parse(input)).toEqual(input);
  });

  it('reports grammar problems at their path, with the offending text as input', () => {
    const result = scenario.safeParse(
      { thresholds: { latency: ['p95<500'], 'http_reqs{a}': ['count>1'] } },
      { reportInput: true },
    );
    expect(result.success).toBe(false);
    expect(
      result.error?.issues.map((issue) => ({
        path: issue.path,
        message: issue.message,
        input: issue.input,
      })),
    ).toEqual([
      {
        path: ['thresholds', 'latency', 0],
        message: `invalid threshold "p95<500": expected an aggregation such as ${AGGREGATION_LIST}`,
        input: 'p95',
      },
      {
        path: ['thresholds', 'http_reqs{a}'],
        message: 'invalid metric: expected name or name{tag:value,...}, but a tag has no ":value"',
        input: 'a',
      },
    ]);
  });
});
