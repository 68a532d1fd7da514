import type { CannonFlow, CannonTotals } from './autocannon-flow.ts';
import { MAX_BUILD_ATTEMPTS } from './autocannon-flow.ts';

export interface NotesInput {
  /** The installed autocannon's version. */
  version: string;
  /** The origin autocannon connected to. */
  target: string;
  flows: readonly CannonFlow[];
}

const TIMING =
  "http_req_duration and latency are both autocannon's response time, from writing the " +
  'request to the end of its answer (the first request of each connection includes the TCP ' +
  'connect): a closed model has no intended send time, so here latency equals ' +
  'http_req_duration; http_req_waiting is not measured (autocannon gives no time to first byte)';

const CORRECTION =
  "autocannon's coordinated-omission correction was off: it applies only with connectionRate " +
  'or overallRate, and this run set neither (the correction assumes a 1 ms expected interval ' +
  'whatever the rate, which is wrong at any other rate; autocannon refuses ' +
  'ignoreCoordinatedOmission without a rate); launchproof recorded each raw response time ' +
  "itself and never read autocannon's latency histogram";

const SOURCES =
  'from autocannon: each response, its status and time, and the timeouts and connection ' +
  'errors; from launchproof: the counters, histograms, per-second series, checks, generator ' +
  'health, and the times of requests that got no answer (its own clock, from the send)';

/** What the reader of an autocannon run's summary must know about where its figures came from. */
export function autocannonNotes(input: NotesInput): string[] {
  const names = input.flows.map((runner) => runner.flow.name).join(', ');
  const notes = [
    `engine: autocannon ${input.version} ran flow(s) ${names}, one connection per virtual ` +
      'user with one request in flight and no rate limit (a closed model)',
    TIMING,
    CORRECTION,
    SOURCES,
  ];
  if (input.target.startsWith('https:')) {
    notes.push(
      "autocannon does not verify the target's TLS certificate (rejectUnauthorized: false)",
    );
  }

  for (const runner of input.flows) {
    const flow = runner.flow.name;
    notes.push(
      `flow ${flow}: each request's timeout was timeouts.request ` +
        `(${runner.flow.timeouts.request} ms), ` +
        "autocannon's only timeout; timeouts.connect, headers and body do not apply",
    );
    if (runner.totals !== undefined) notes.push(crossCheck(flow, runner.counted, runner.totals));
    if (runner.unsent > 0) {
      notes.push(
        `flow ${flow}: autocannon wrote ${runner.unsent} request(s) onto connections the server ` +
          'had closed after an answer marked Connection: close; they never reached the server ' +
          'and are not counted',
      );
    }
    if (runner.lost > 0) {
      notes.push(
        `flow ${flow}: ${runner.lost} request(s) got no answer because the server closed the ` +
          'connection while they were in flight (counted as failures: reset)',
      );
    }
    if (runner.staleDropped > 0) {
      notes.push(
        `flow ${flow}: launchproof dropped ${runner.staleDropped} stale autocannon queue ` +
          "entries left by closed or failed connections, so each time is its own request's " +
          '(autocannon 9 would time later answers from an older send)',
      );
    }
    if (runner.unstarted > 0) {
      notes.push(
        `flow ${flow}: ${runner.unstarted} virtual user(s) never started: their request builder ` +
          `threw ${MAX_BUILD_ATTEMPTS} times in a row (each counted as a script failure)`,
      );
    }
    if (runner.repeats > 0) {
      notes.push(
        `flow ${flow}: ${runner.repeats} virtual user(s) re-sent their previous request and ` +
          `stopped, after their request builder threw ${MAX_BUILD_ATTEMPTS} times in a row`,
      );
    }
  }
  return notes;
}

/** autocannon's own result against what launchproof counted from its events. */
function crossCheck(flow: string, counted: CannonTotals, own: CannonTotals): string {
  const same =
    counted.responses === own.responses &&
    counted.errors === own.errors &&
    counted.timeouts === own.timeouts;
  const text = (totals: CannonTotals) =>
    `${totals.responses} responses, ${totals.errors} errors (${totals.timeouts} timeouts)`;
  return same
    ? `flow ${flow}: autocannon's own result agrees: ${text(own)}`
    : `flow ${flow}: autocannon's own result differs: it counted ${text(own)}, ` +
        `launchproof ${text(counted)}`;
}
