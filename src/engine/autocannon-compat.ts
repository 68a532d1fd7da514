import { LaunchproofError } from '../errors.ts';
import type { Flow, Scenario } from '../scenario/schema.ts';
import type { RunExtension } from './run-extension.ts';

/** autocannon's validator refuses a `timeout` below 1 s (lib/validate.js). */
export const AUTOCANNON_MIN_TIMEOUT_MS = 1_000;

const HINT =
  'run it with the default undici engine (leave out --engine), or give autocannon only ' +
  'constant-vus flows on plain (non-streaming) routes';

/**
 * Why autocannon cannot run a flow faithfully, one sentence a reason (empty when it can).
 * autocannon is a closed-model tool: a fixed set of connections, each sending its next
 * request the moment the previous answer is in, one request at a time here. Whatever needs
 * a planned arrival time, a ramp, a pause, a bound source address or a token clock is out.
 */
export function autocannonProblems(flow: Flow): string[] {
  const problems: string[] = [];
  const at = `flow "${flow.name}"`;
  const load = flow.load;

  if (flow.stream !== undefined) {
    const format = typeof flow.stream.format === 'string' ? flow.stream.format : 'custom';
    problems.push(
      `${at} streams its answers (stream.format: ${format}): autocannon reads whole ` +
        'responses and cannot time the first token or the gaps between tokens',
    );
  }

  switch (load.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
    case 'burst':
      problems.push(
        `${at} uses ${load.executor}, an open model: autocannon sends a connection's next ` +
          'request only when its previous answer is in, so it cannot keep planned arrival times',
      );
      break;
    case 'ramping-vus':
      problems.push(
        `${at} uses ramping-vus: autocannon keeps the same number of connections for the whole run`,
      );
      break;
    case 'constant-vus': {
      if (load.thinkTime !== undefined) {
        problems.push(
          `${at} sets load.thinkTime: autocannon sends the next request as soon as an answer is in`,
        );
      }
      const perIdentity = Math.ceil(load.vus / flow.identities.count);
      if (flow.connections !== undefined && flow.connections < perIdentity) {
        problems.push(
          `${at} shares ${flow.connections} connection(s) per identity among ${perIdentity} ` +
            'virtual users: autocannon gives each virtual user its own connection',
        );
      }
      break;
    }
  }

  if (flow.identities.sourceAddresses !== undefined) {
    problems.push(
      `${at} binds source addresses (identities.sourceAddresses): autocannon cannot choose ` +
        'the local address of its connections',
    );
  }
  if (flow.pipelining > 1) {
    problems.push(
      `${at} sets pipelining: ${flow.pipelining}: autocannon's pipelining would put more than ` +
        'one request in flight per virtual user',
    );
  }
  if (flow.timeouts.request < AUTOCANNON_MIN_TIMEOUT_MS) {
    problems.push(
      `${at} sets timeouts.request to ${flow.timeouts.request} ms: autocannon's timeout is ` +
        `at least ${AUTOCANNON_MIN_TIMEOUT_MS} ms`,
    );
  }
  if (typeof flow.request !== 'function' && flow.request.method === 'HEAD') {
    problems.push(
      `${at} sends HEAD: autocannon's response parser waits for a body a HEAD answer never has`,
    );
  }
  return problems;
}

/**
 * Throws LP_ERR_USAGE when `--engine autocannon` cannot run the scenario as written: the
 * message names the first flow and its reason, `details` lists every problem of every flow.
 * Run extensions (fault timelines, verifiers) are refused too: they ride on the undici
 * engine's per-request records, and a verification silently left out would pass a run that
 * never checked it.
 */
export function assertAutocannonCompatible(
  scenario: Scenario,
  extensions: readonly RunExtension[] = [],
): void {
  const problems = scenario.flows.flatMap((flow) => autocannonProblems(flow));
  if (extensions.length > 0) {
    const names = extensions.map((extension) => extension.name).join(', ');
    problems.push(`the scenario's checks ${names} need the undici engine's per-request records`);
  }
  if (problems.length === 0) return;

  throw new LaunchproofError(
    'LP_ERR_USAGE',
    `--engine autocannon cannot run scenario "${scenario.name}": ${problems[0]}`,
    { hint: HINT, details: problems.length > 1 ? problems : [] },
  );
}
