import { z } from 'zod';
import type { ChatTurn } from './provider-gateway.ts';

/** The input limits in force; absent under the `no-input-limit` flaw. */
export interface InputLimits {
  maxMessageChars: number;
  maxMessages: number;
}

/** A chat request, normalised: the turns to send and the session id the body named. */
export interface ChatRequestBody {
  messages: ChatTurn[];
  sessionId: string | undefined;
}

// Vercel AI SDK widgets send `parts`; simpler clients send `content`. Extra fields such as
// `id`, `trigger` or `metadata` are allowed and dropped (zod's objects strip unknown keys).
const part = z.object({ type: z.string(), text: z.string().optional() });
const message = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.string().optional(),
    parts: z.array(part).optional(),
  })
  .refine((m) => m.content !== undefined || m.parts !== undefined, {
    message: 'a message needs content or parts',
  });

/**
 * The chat body schema: `{ messages: [{ role, content | parts }], sessionId? }` or
 * `{ message, sessionId? }`, turned into turns, then held to the limits: each message's
 * text at most `maxMessageChars`, at most `maxMessages` messages, and the last one the
 * user's. Without limits only the shape and a non-empty last user message are checked.
 */
export function chatBodySchema(limits: InputLimits | undefined) {
  const content = limits === undefined ? z.string() : z.string().max(limits.maxMessageChars);
  // The single-message form is held to the length limit here, so problems name `message`.
  const rawBody = z.union([
    z.object({ messages: z.array(message), sessionId: z.string().optional() }),
    z.object({ message: content, sessionId: z.string().optional() }),
  ]);
  const turn = z.object({ role: z.enum(['user', 'assistant']), content });
  const turns = z
    .array(turn)
    .min(1)
    .max(limits?.maxMessages ?? Number.MAX_SAFE_INTEGER)
    .refine((list) => list.at(-1)?.role === 'user', {
      message: 'the last message must be the user’s',
    })
    .refine((list) => (list.at(-1)?.content.trim() ?? '') !== '', {
      message: 'the last message is empty',
    });

  return rawBody
    .transform((body) => ({
      messages:
        'messages' in body
          ? body.messages.map((m) => ({ role: m.role, content: messageText(m) }))
          : [{ role: 'user' as const, content: body.message }],
      sessionId: body.sessionId,
    }))
    .pipe(z.object({ messages: turns, sessionId: z.union([z.string(), z.undefined()]) }));
}

/** The lead form: who to call back, and how. */
export const leadBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320),
  company: z.string().trim().max(200).optional(),
  phone: z.string().trim().max(40).optional(),
  message: z.string().max(2_000).optional(),
});

export type LeadBody = z.infer<typeof leadBodySchema>;

/**
 * One line per problem, path first, without echoing the input back: a rejected message may
 * be long, or carry someone's email address.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map((key) =>
        typeof key === 'number' ? `[${key}]` : `.${String(key)}`,
      );
      const where = path.join('').replace(/^\./, '');
      return `${where === '' ? 'body' : where}: ${issue.message}`;
    })
    .join('; ');
}

function messageText(m: {
  content?: string | undefined;
  parts?: { type: string; text?: string | undefined }[] | undefined;
}): string {
  if (m.content !== undefined) return m.content;
  return (m.parts ?? [])
    .filter((p) => p.type === 'text' && typeof p.text === 'string')
    .map((p) => p.text)
    .join('');
}
