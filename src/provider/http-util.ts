import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the provider reads; OpenAI's own limit is far above a chat turn. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Reads a whole request body; undefined when it is larger than `limitBytes`. */
export function readBody(
  req: IncomingMessage,
  limitBytes = MAX_BODY_BYTES,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sends a JSON answer with its length and the given headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
