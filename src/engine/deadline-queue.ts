import { performance } from 'node:perf_hooks';

/** What the queue holds: something that ends by itself or is timed out. */
export interface Expirable {
  readonly done: boolean;
  expire(): void;
}

/** Above this many finished entries (and half the queue), the queue is compacted. */
const COMPACT_AFTER = 1_024;

/**
 * Whole-request timeouts for one flow without a timer per request. Every request of a flow
 * has the same timeout and they are added in send order, so deadlines only grow: one timer,
 * set for the oldest live entry, is enough. Finished entries are dropped lazily (from the
 * front when the timer fires, and by compaction once they are half the queue), so the queue
 * holds at most about twice the requests in flight.
 */
export class DeadlineQueue<T extends Expirable> {
  readonly #timeoutMs: number;
  #items: T[] = [];
  #deadlines: number[] = [];
  #head = 0;
  #finished = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAtMs = 0;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an entry that expires `timeoutMs` from now unless it is done by then. */
  add(item: T): void {
    this.#items.push(item);
    this.#deadlines.push(performance.now() + this.#timeoutMs);
    if (this.#timer === undefined) this.#arm();
  }

  /** An entry ended by itself (lets the queue compact; the entry's `done` is what counts). */
  finished(): void {
    this.#finished++;
    if (this.#finished > COMPACT_AFTER && this.#finished * 2 > this.size) this.#compact();
  }

  /** Stops the timer (the run is over; what is left is aborted by its owner). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#deadlines = [];
    this.#head = 0;
    this.#finished = 0;
  }

  #fire = (): void => {
    this.#timer = undefined;
    const nowMs = performance.now();
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head] as T;
      if (!item.done) {
        if ((this.#deadlines[this.#head] as number) > nowMs) break;
        this.#pop();
        item.expire();
      } else {
        this.#pop();
        this.#finished = Math.max(0, this.#finished - 1);
      }
    }
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#deadlines = [];
      this.#head = 0;
    }
    this.#arm();
  };

  #pop(): void {
    this.#items[this.#head] = undefined as unknown as T;
    this.#head++;
  }

  /** Sets the timer for the oldest entry's deadline (entries done by then are skipped). */
  #arm(): void {
    if (this.#head >= this.#items.length) return;
    const atMs = this.#deadlines[this.#head] as number;
    if (this.#timer !== undefined && this.#timerAtMs <= atMs) return;
    clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    this.#timer = setTimeout(this.#fire, Math.max(0, atMs - performance.now()));
    // Sockets with requests on them keep the process alive; this timer alone must not.
    this.#timer.unref();
  }

  #compact(): void {
    const items: T[] = [];
    const deadlines: number[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (item.done) continue;
      items.push(item);
      deadlines.push(this.#deadlines[i] as number);
    }
    this.#items = items;
    this.#deadlines = deadlines;
    this.#head = 0;
    this.#finished = 0;
  }
}
