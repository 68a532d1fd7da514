/**
 * Why a chat answer fell back: the provider was too slow to its first token, answered an
 * error or a 429, stalled or broke mid-stream, or the breaker was open and it was not asked.
 */
export const FALLBACK_REASONS = [
  'provider-timeout',
  'provider-error',
  'provider-rate-limit',
  'stream-stall',
  'stream-error',
  'circuit-open',
] as const;

export type FallbackReason = (typeof FALLBACK_REASONS)[number];

/** The response header that marks a fallback answer, when headers were not yet sent. */
export const FALLBACK_HEADER = 'x-chat-fallback';

/** The SSE event name of the fallback marker, sent on every fallback answer. */
export const FALLBACK_EVENT = 'fallback';

/** Ways to reach a person, offered in every fallback answer. */
export interface FallbackContact {
  bookingUrl: string;
  email: string;
  phone?: string | undefined;
}

/** The machine-readable marker: a Vercel AI SDK data part named `fallback`. */
export interface FallbackPart {
  type: 'data-fallback';
  data: { reason: FallbackReason; contact: FallbackContact };
}

/** Builds the marker part for one fallback. */
export function fallbackPart(reason: FallbackReason, contact: FallbackContact): FallbackPart {
  return { type: 'data-fallback', data: { reason, contact } };
}

/**
 * The words a visitor reads instead of the model's answer. `midAnswer` is true when part of
 * an answer was already shown, so the text says it was cut short rather than starting over.
 */
export function fallbackText(contact: FallbackContact, midAnswer: boolean): string {
  const opening = midAnswer
    ? '\n\nSorry, my answer was cut short.'
    : "Sorry, I can't answer that right now.";
  const phone = contact.phone === undefined ? '' : `, call ${contact.phone}`;
  return (
    `${opening} Our team is happy to help: book a call at ${contact.bookingUrl}${phone}, ` +
    `or email ${contact.email} and we will reply within one business day.`
  );
}
