import { afterEach, describe, expect, it } from 'vitest';
import { DeadlineQueue, type Expirable } from '../../src/engine/deadline-queue.ts';

class Item implements Expirable {
  done = false;
  expiredAtMs: number | undefined;
  constructor(
    readonly id: number,
    readonly queue: DeadlineQueue<Item>,
  ) {}
  finish(): void {
    this.done = true;
    this.queue.finished();
  }
  expire(): void {
    this.expiredAtMs = performance.now();
    this.finish();
  }
}

const queues: DeadlineQueue<Item>[] = [];
afterEach(() => {
  for (const queue of queues.splice(0)) queue.close();
});

function queueOf(timeoutMs: number): DeadlineQueue<Item> {
  const queue = new DeadlineQueue<Item>(timeoutMs);
  queues.push(queue);
  return queue;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one timer for a flow’s request timeouts', () => {
  it('expires only the entries still running at their deadline, in send order', async () => {
    const queue = queueOf(60);
    const startedMs = performance.now();
    const items = Array.from({ length: 6 }, (_, id) => new Item(id, queue));
    for (const item of items.slice(0, 3)) queue.add(item);
    await sleep(30);
    for (const item of items.slice(3)) queue.add(item);
    (items[1] as Item).finish();
    (items[4] as Item).finish();
    await sleep(120);
    const expired = items.filter((item) => item.expiredAtMs !== undefined).map((item) => item.id);
    expect(expired).toEqual([0, 2, 3, 5]);
    // Each at its own deadline: the first three about 60 ms in, the later ones about 90 ms.
    const at = (id: number) => ((items[id] as Item).expiredAtMs as number) - startedMs;
    expect(at(0)).toBeGreaterThanOrEqual(59);
    expect(at(0)).toBeLessThan(85);
    expect(at(3)).toBeGreaterThanOrEqual(89);
    expect(at(5)).toBeGreaterThanOrEqual(at(2));
    expect(queue.size).toBe(0);
  });

  it('holds about as many entries as are running, however many have finished', () => {
    const queue = queueOf(60_000);
    const live: Item[] = [];
    for (let id = 0; id < 100_000; id++) {
      const item = new Item(id, queue);
      queue.add(item);
      live.push(item);
      // 50 in flight at any time: the oldest finishes as each new one starts.
      if (live.length > 50) (live.shift() as Item).finish();
    }
    expect(queue.size).toBeLessThanOrEqual(1_200);
    expect(queue.size).toBeGreaterThanOrEqual(50);
  });

  it('never expires an entry that finished before its deadline', async () => {
    const queue = queueOf(20);
    const item = new Item(1, queue);
    queue.add(item);
    item.finish();
    await sleep(50);
    expect(item.expiredAtMs).toBeUndefined();
  });
});
