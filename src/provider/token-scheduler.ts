/**
 * One timer for every stream of a provider. Streams ask to be woken at an absolute time
 * (`performance.now()` milliseconds); a binary heap keeps them in due order and a single
 * `setTimeout` is armed for the earliest. When it fires, every task due within
 * `EARLY_MS` runs in the same tick, so 2,000 streams cost one timer, not 2,000.
 *
 * 1. `at(dueMs, task)` pushes onto the heap; if the task is now the earliest, re-arm.
 * 2. On fire, pop and run every task whose due time is at most now + EARLY_MS, now read
 *    from the clock (not the timer's idea of it).
 * 3. Re-arm for the new earliest, `round(due - now)` ms away. A timer fires against the
 *    loop's cached whole-millisecond time, so it may come early: step 2 then runs nothing
 *    due later than EARLY_MS ahead and step 3 re-arms for the rest.
 */

/** Work to run at a planned time; it receives the time it was due and the time it ran. */
export type ScheduledTask = (dueMs: number, nowMs: number) => void;

/**
 * How far ahead of its time a task may run. Half a millisecond centres the error: waiting
 * for a later timer would make the task late by up to a millisecond instead.
 */
const EARLY_MS = 0.5;

export class TokenScheduler {
  #due: number[] = [];
  #tasks: ScheduledTask[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedForMs = Number.POSITIVE_INFINITY;
  #closed = false;
  #firing = false;

  /** Tasks waiting. */
  get size(): number {
    return this.#due.length;
  }

  /** Runs `task` once at `dueMs` (performance.now() time); in the past means next tick. */
  at(dueMs: number, task: ScheduledTask): void {
    if (this.#closed) return;
    this.#push(dueMs, task);
    // While firing, tasks reschedule themselves by the thousand: arm once, at the end.
    if (!this.#firing && dueMs < this.#armedForMs) this.#arm();
  }

  /** Drops every waiting task and the timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = [];
    this.#tasks = [];
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedForMs = Number.POSITIVE_INFINITY;
    const first = this.#due[0];
    if (first === undefined) return;

    const delayMs = Math.max(1, Math.round(first - performance.now()));
    this.#armedForMs = first;
    this.#timer = setTimeout(() => this.#fire(), delayMs);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedForMs = Number.POSITIVE_INFINITY;
    let nowMs = performance.now();
    // Tasks scheduled by the tasks run here, if already due, wait for the next tick: a
    // stream behind its plan writes one token a tick rather than starving the others.
    let budget = this.#due.length;
    this.#firing = true;
    try {
      while (budget-- > 0 && this.#due.length > 0 && (this.#due[0] as number) <= nowMs + EARLY_MS) {
        const dueMs = this.#due[0] as number;
        const task = this.#pop();
        task(dueMs, nowMs);
        nowMs = performance.now();
      }
    } finally {
      this.#firing = false;
    }
    if (!this.#closed) this.#arm();
  }

  #push(dueMs: number, task: ScheduledTask): void {
    const due = this.#due;
    const tasks = this.#tasks;
    let i = due.length;
    due.push(dueMs);
    tasks.push(task);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((due[parent] as number) <= dueMs) break;
      due[i] = due[parent] as number;
      tasks[i] = tasks[parent] as ScheduledTask;
      i = parent;
    }
    due[i] = dueMs;
    tasks[i] = task;
  }

  #pop(): ScheduledTask {
    const due = this.#due;
    const tasks = this.#tasks;
    const top = tasks[0] as ScheduledTask;
    const lastDue = due.pop() as number;
    const lastTask = tasks.pop() as ScheduledTask;
    const n = due.length;
    if (n === 0) return top;

    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (due[right] as number) < (due[left] as number) ? right : left;
      if ((due[child] as number) >= lastDue) break;
      due[i] = due[child] as number;
      tasks[i] = tasks[child] as ScheduledTask;
      i = child;
    }
    due[i] = lastDue;
    tasks[i] = lastTask;
    return top;
  }
}
