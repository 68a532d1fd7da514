import { describe, expect, it } from 'vitest';
import { SpinBudget } from '../../src/engine/spin-budget.ts';

// Time is the subject here, so the clock is the test's: every instant is given in µs.
describe('SpinBudget', () => {
  it('starts full, and allows a spin only when the whole rest fits what is saved', () => {
    const budget = new SpinBudget(0, 0.03, 30_000);
    expect(budget.savedUs(0)).toBe(30_000);
    expect(budget.allows(0, 30_000)).toBe(true);
    expect(budget.allows(0, 30_001)).toBe(false);
  });

  it('is spent by the time spun and refills at its share of the elapsed time', () => {
    const budget = new SpinBudget(0, 0.03, 30_000);
    budget.spend(0, 30_000); // a 30 ms spin empties it
    expect(budget.savedUs(30_000)).toBe(0);
    expect(budget.allows(30_000, 1)).toBe(false);
    // 100 ms later, 3% of 100 ms is saved: 3 ms.
    expect(budget.savedUs(130_000)).toBe(3_000);
    expect(budget.allows(130_000, 3_000)).toBe(true);
    expect(budget.allows(130_000, 3_001)).toBe(false);
  });

  it('holds its spending to its share of a core over a long stretch', () => {
    // A loop that spins 800 µs before each of 400 sends a second would spin 32% of the
    // time; the budget lets through 3% of each second (plus what it started with).
    const budget = new SpinBudget(0, 0.03, 30_000);
    let spunUs = 0;
    for (let send = 0; send < 4_000; send++) {
      const nowUs = send * 2_500;
      if (budget.allows(nowUs, 800)) {
        budget.spend(nowUs, nowUs + 800);
        spunUs += 800;
      }
    }
    const elapsedUs = 4_000 * 2_500;
    expect(spunUs).toBeLessThanOrEqual(30_000 + elapsedUs * 0.03 + 800);
    expect(spunUs).toBeGreaterThan(elapsedUs * 0.03 - 800);
  });

  it('saves no more than its cap over an idle stretch', () => {
    const budget = new SpinBudget(0, 0.03, 30_000);
    budget.spend(0, 30_000);
    expect(budget.savedUs(60_000_000)).toBe(30_000);
  });

  it('charges nothing for a clock that did not move', () => {
    const budget = new SpinBudget(5_000, 0.03, 30_000);
    budget.spend(5_000, 4_000);
    expect(budget.savedUs(5_000)).toBe(30_000);
  });
});
