import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatIssues } from '../scenario/format-issues.ts';
import { faultListSchema } from './fault-rules.ts';
import { readBody, sendJson } from './http-util.ts';
import { errorBody } from './openai-wire.ts';
import type { ProviderState } from './provider-state.ts';

/** Where the control API lives; no OpenAI route starts with it. */
export const CONTROL_PREFIX = '/__launchproof/';

/**
 * The control API, for a provider running in another process:
 * `GET health`, `GET counters`, `POST counters/reset`, `GET faults`, `PUT faults`
 * (`{ "faults": [...] }`, validated; a 400 names the path of each problem).
 */
export async function serveControl(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  headers: Record<string, string>,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${path.slice(CONTROL_PREFIX.length)}`;
  switch (route) {
    case 'GET health':
      sendJson(
        res,
        200,
        { ok: true, mode: state.options.upstream ? 'proxy' : 'mock', faults: state.faults.length },
        headers,
      );
      return;
    case 'GET counters':
      sendJson(res, 200, state.counters.snapshot(), headers);
      return;
    case 'POST counters/reset':
      state.counters.reset();
      sendJson(res, 200, state.counters.snapshot(), headers);
      return;
    case 'GET faults':
      sendJson(res, 200, { faults: state.faults }, headers);
      return;
    case 'PUT faults':
      await putFaults(state, req, res, headers);
      return;
    default:
      sendJson(
        res,
        404,
        errorBody(`Unknown control route (${route})`, 'invalid_request_error'),
        headers,
      );
  }
}

async function putFaults(
  state: ProviderState,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw?.toString('utf8') ?? '');
  } catch {
    sendJson(res, 400, invalid(['body: expected JSON such as {"faults": [...]}']), headers);
    return;
  }

  const parsed = faultListSchema.safeParse(body);
  if (!parsed.success) {
    sendJson(res, 400, invalid(formatIssues(parsed.error)), headers);
    return;
  }
  state.faults = parsed.data.faults;
  sendJson(res, 200, { faults: state.faults }, headers);
}

function invalid(problems: readonly string[]): object {
  const body = errorBody(
    `invalid faults: ${problems.join('; ')}`,
    'invalid_request_error',
    'faults',
  );
  return { ...body, problems };
}
