import type { FastifyRequest } from 'fastify';
import type { DemoLogStream } from './options.ts';

/** What replaces a redacted value in a log line. */
export const REDACTED = '[Redacted]';

/**
 * Paths the logger blanks: credentials (Authorization, cookies, the session header) and the
 * PII a lead carries. Message text is never logged at all, so PII typed into the chat
 * cannot reach a log line.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-session-id"]',
  'res.headers["set-cookie"]',
  'lead.name',
  'lead.email',
  'lead.phone',
  'lead.company',
  'lead.message',
];

/**
 * Fastify's logger options for the demo (pino underneath): requests are logged with their
 * headers, as teams often do to debug, and the redaction above keeps secrets out.
 */
export function demoLoggerOptions(level: string, stream: DemoLogStream) {
  return {
    level,
    stream: { write: (line: string): void => void stream.write(line) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: {
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: request.url,
          remoteAddress: request.ip,
          headers: { ...request.headers },
        };
      },
    },
  };
}
