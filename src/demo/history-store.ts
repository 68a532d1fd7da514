import type { FallbackReason } from './fallback.ts';

/** One message of a stored conversation. */
export interface HistoryEntry {
  sessionId: string;
  role: 'user' | 'assistant';
  content: string;
  /** ISO 8601. */
  at: string;
  /** Set on an assistant message that was, or ended with, the fallback answer. */
  fallback?: FallbackReason;
}

/**
 * Conversations in memory, per session, bounded so that a load test cannot grow them
 * without end: the oldest session is dropped past `maxSessions`, the oldest message past
 * `maxPerSession`.
 */
export class HistoryStore {
  readonly #sessions = new Map<string, HistoryEntry[]>();
  readonly #maxSessions: number;
  readonly #maxPerSession: number;

  constructor(maxSessions = 10_000, maxPerSession = 100) {
    this.#maxSessions = maxSessions;
    this.#maxPerSession = maxPerSession;
  }

  append(entry: HistoryEntry): void {
    const list = this.#sessions.get(entry.sessionId) ?? [];
    // Re-inserting moves the session to the end of the map's order: the newest.
    this.#sessions.delete(entry.sessionId);
    this.#sessions.set(entry.sessionId, list);
    list.push(entry);
    if (list.length > this.#maxPerSession) list.shift();

    if (this.#sessions.size > this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
  }

  /** One session's conversation, oldest first. */
  list(sessionId: string): HistoryEntry[] {
    return [...(this.#sessions.get(sessionId) ?? [])];
  }

  /** Every stored message, sessions oldest first: what the `no-auth` flaw leaks. */
  all(): HistoryEntry[] {
    return [...this.#sessions.values()].flat();
  }
}
