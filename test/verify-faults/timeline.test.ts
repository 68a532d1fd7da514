import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunStart } from '../../src/engine/run-extension.ts';
import type { FaultRuleInput } from '../../src/provider/index.ts';
import type { Scenario } from '../../src/scenario/schema.ts';
import { type FaultControl, FaultTimeline } from '../../src/verify/fault-timeline.ts';
import { faultTimelineSchema } from '../../src/verify/fault-timeline-schema.ts';

/** A control API that records what it was asked, on the (fake) clock, and may refuse. */
class RecordingControl implements FaultControl {
  readonly calls: Array<{ atMs: number; kinds: string[] }> = [];
  refuse = false;

  constructor(private readonly t0Ms: () => number) {}

  async setFaults(rules: readonly FaultRuleInput[]): Promise<void> {
    if (this.refuse) throw new Error('PUT /__launchproof/faults failed: no answer');
    this.calls.push({ atMs: Date.now() - this.t0Ms(), kinds: rules.map((rule) => rule.kind) });
  }
}

const WINDOWS = faultTimelineSchema.parse([
  { name: 'provider-timeout', at: '1s', for: '2s', fault: { kind: 'hang' } },
  { at: '4s', for: '1s', fault: { kind: 'server-error', status: 503 }, fraction: 0.5 },
]);

const nowUs = () => Date.now() * 1_000;

function runStart(t0Us: number): RunStart {
  return {
    scenario: {} as Scenario,
    target: 'http://127.0.0.1:1',
    t0Us,
    nowUs,
    signal: new AbortController().signal,
  };
}

describe('the fault timeline', () => {
  let t0Ms = 0;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    t0Ms = Date.now();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies each window at `at`, clears it after `for`, and tags the phases between', async () => {
    const control = new RecordingControl(() => t0Ms);
    const timeline = new FaultTimeline(WINDOWS, control);
    await timeline.start(runStart(t0Ms * 1_000));
    const phaseAt = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(t0Ms + ms - Date.now());
      return timeline.phase(ms)?.key;
    };

    expect(await phaseAt(500)).toBe('provider-timeout:before');
    expect(await phaseAt(1_000)).toBe('provider-timeout:during');
    expect(await phaseAt(2_899)).toBe('provider-timeout:during');
    // The last 100 ms before the clearing count as after: a request may arrive after it.
    expect(await phaseAt(2_900)).toBe('provider-timeout:after');
    expect(await phaseAt(3_500)).toBe('provider-timeout:after');
    expect(await phaseAt(4_000)).toBe('server-error:during');
    expect(await phaseAt(5_000)).toBe('server-error:after');
    expect(timeline.phase(5_000)?.tags).toEqual({ fault: 'server-error', phase: 'after' });

    expect(control.calls).toEqual([
      { atMs: 0, kinds: [] },
      { atMs: 1_000, kinds: ['hang'] },
      { atMs: 3_000, kinds: [] },
      { atMs: 4_000, kinds: ['server-error'] },
      { atMs: 5_000, kinds: [] },
    ]);
    const output = timeline.finish();
    expect(output.faultWindows).toEqual([
      { label: 'provider-timeout: hang (all calls)', startMs: 1_000, endMs: 3_000 },
      { label: 'server-error: server-error 503 (50% of calls)', startMs: 4_000, endMs: 5_000 },
    ]);
    expect(output.verifications?.[0]?.ok).toBe(true);
  });

  it("re-arms its timers when the first request shows the engine's t = 0 came later", async () => {
    const control = new RecordingControl(() => t0Ms);
    const timeline = new FaultTimeline(WINDOWS, control);
    // The engine fixes t = 0 after every extension started: here 50 ms after it said.
    await timeline.start(runStart(t0Ms * 1_000));
    t0Ms += 50;
    await vi.advanceTimersByTimeAsync(60);
    timeline.phase(10);
    await vi.advanceTimersByTimeAsync(1_000);

    expect(control.calls[1]).toEqual({ atMs: 1_000, kinds: ['hang'] });
    expect(timeline.t0Us).toBe(t0Ms * 1_000);
  });

  it('reports a refused control call as a failed check, and clears a fault left in force', async () => {
    const control = new RecordingControl(() => t0Ms);
    const timeline = new FaultTimeline(WINDOWS, control);
    await timeline.start(runStart(t0Ms * 1_000));
    await vi.advanceTimersByTimeAsync(1_500);
    control.refuse = true;
    await vi.advanceTimersByTimeAsync(2_000);
    control.refuse = false;

    const output = timeline.finish();
    const check = output.verifications?.[0];
    expect(check?.ok).toBe(false);
    expect(check?.evidence).toContain(
      'provider-timeout: could not clear the fault: PUT /__launchproof/faults failed: no answer',
    );
    expect(check?.evidence.at(-1)).toMatch(/^server-error: .*never applied/);

    await timeline.dispose();
    expect(control.calls.at(-1)?.kinds).toEqual([]);
  });
});

describe('the fault timeline schema', () => {
  it('names windows after their first rule and gives the window fraction to every rule', () => {
    expect(WINDOWS.map((w) => w.name)).toEqual(['provider-timeout', 'server-error']);
    expect(WINDOWS[1]?.rules).toEqual([{ kind: 'server-error', status: 503, fraction: 0.5 }]);
  });

  it('refuses overlapping windows and a fraction given twice, naming each path', () => {
    const result = faultTimelineSchema.safeParse([
      { at: '1s', for: '2s', fault: { kind: 'hang' } },
      { at: '2s', for: '1s', fault: { kind: 'server-error', fraction: 0.2 }, fraction: 0.5 },
    ]);

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['1.fraction', 'expected the fraction once: on the window or on its rules, not both'],
      [
        '1.at',
        'expected a start at or after 3000 ms, when window 0 ends (windows may not overlap; put ' +
          'several rules in one window instead)',
      ],
    ]);
  });
});
