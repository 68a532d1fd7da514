import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/util/collect-garbage.ts';

describe('a full collection before t = 0', () => {
  it('frees an unreachable object without --expose-gc', async () => {
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ payload: new Array(10_000).fill(1) });
    })();
    // A WeakRef's target (and one deref'd) lives until the current job ends, whatever the
    // collector does: collect in a later job, before anything reads it.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref?.deref()).toBeUndefined();
  });
});
