import type { Flow, Scenario } from '../scenario/schema.ts';
import { type FaultWindowSpec, MID_STREAM_KINDS } from './fault-timeline-schema.ts';
import type { ObservedWindow } from './observed-run.ts';
import type { ResilienceSpec } from './resilience-schema.ts';

/** The flows the checks read: `resilience.flows`, or all. */
export function coveredFlows(scenario: Scenario, spec: ResilienceSpec): Flow[] {
  const names = spec.flows;
  return names === undefined
    ? scenario.flows
    : scenario.flows.filter((f) => names.includes(f.name));
}

/** The flows whose streams the client leaves: those named, or every one with `abandonAfter`. */
export function abandoningFlows(scenario: Scenario, spec: ResilienceSpec): Flow[] {
  const names = spec.abandonedStreamsStop?.flows;
  return scenario.flows.filter((flow) =>
    names === undefined ? flow.stream?.abandonAfter !== undefined : names.includes(flow.name),
  );
}

/** The windows followed by at least `withinMs` before the next one starts (or by the end). */
export function windowsFollowedBy(
  windows: readonly FaultWindowSpec[],
  withinMs: number,
): FaultWindowSpec[] {
  return windows.filter((window, i) => {
    const next = windows[i + 1];
    return next === undefined || next.atMs >= window.atMs + window.forMs + withinMs;
  });
}

/** A window whose rules break streams mid-answer (a reset counts once tokens flowed). */
export function breaksMidStream(window: { rules: ObservedWindow['rules'] }): boolean {
  return window.rules.some(
    (rule) => MID_STREAM_KINDS.has(rule.kind) && (rule.kind !== 'reset' || rule.afterTokens > 0),
  );
}

/** Every declaration that does not fit the scenario, one line each, with its path. */
export function declarationProblems(
  scenario: Scenario,
  windows: readonly FaultWindowSpec[],
  spec: ResilienceSpec,
): string[] {
  const problems: string[] = [];
  const windowNames = windows.map((window) => window.name);
  const flowNames = scenario.flows.map((flow) => flow.name);
  const have = (list: readonly string[]) => (list.length === 0 ? 'none' : list.join(', '));

  for (const name of spec.flows ?? []) {
    if (!flowNames.includes(name)) {
      problems.push(`resilience.flows: no flow named "${name}" (flows: ${have(flowNames)})`);
    }
  }
  const flows = coveredFlows(scenario, spec);

  const perFault = {
    fallbackEngages: spec.fallbackEngages?.faults,
    fallbackFast: spec.fallbackFast?.faults,
    noServerErrors: spec.noServerErrors?.faults,
    recovery: spec.recovery?.faults,
    circuitOpens: spec.circuitOpens?.faults,
    brokenStreamsEnd: spec.brokenStreamsEnd?.faults,
  };
  for (const [key, selected] of Object.entries(perFault)) {
    if (spec[key as keyof typeof perFault] === undefined) continue;
    if (windows.length === 0) {
      problems.push(
        `resilience.${key}: reads fault windows, but the scenario has no \`faults\` timeline`,
      );
      continue;
    }
    for (const name of selected ?? []) {
      if (!windowNames.includes(name)) {
        problems.push(
          `resilience.${key}.faults: no window named "${name}" (faults: ${have(windowNames)})`,
        );
      }
    }
  }

  for (const key of ['fallbackEngages', 'fallbackFast'] as const) {
    if (spec[key] !== undefined && !flows.some((flow) => flow.fallbackMarker !== undefined)) {
      problems.push(`resilience.${key}: none of the flows it reads has a \`fallbackMarker\``);
    }
  }
  if (spec.recovery !== undefined && spec.recovery.faults === undefined && windows.length > 0) {
    if (windowsFollowedBy(windows, spec.recovery.within).length === 0) {
      problems.push(
        'resilience.recovery: no window is followed by `within` without another fault; ' +
          'space the windows or name the ones to judge in `faults`',
      );
    }
  }
  if (spec.brokenStreamsEnd !== undefined) {
    if (!flows.some((flow) => flow.stream !== undefined)) {
      problems.push(
        'resilience.brokenStreamsEnd: none of the flows it reads is a chat stream (`stream`)',
      );
    }
    if (
      spec.brokenStreamsEnd.faults === undefined &&
      windows.length > 0 &&
      !windows.some(breaksMidStream)
    ) {
      problems.push(
        'resilience.brokenStreamsEnd: no window breaks streams mid-answer (stall, error-event, ' +
          'truncate, or reset after some tokens); name the windows in `faults`',
      );
    }
  }
  if (spec.abandonedStreamsStop !== undefined) {
    const leavers = abandoningFlows(scenario, spec);
    for (const name of spec.abandonedStreamsStop.flows ?? []) {
      const flow = scenario.flows.find((f) => f.name === name);
      if (flow === undefined) {
        problems.push(`resilience.abandonedStreamsStop.flows: no flow named "${name}"`);
      } else if (flow.stream?.abandonAfter === undefined) {
        problems.push(
          `resilience.abandonedStreamsStop.flows: flow "${name}" never leaves mid-answer ` +
            '(give it `stream.abandonAfter`)',
        );
      }
    }
    if (leavers.length === 0) {
      problems.push(
        'resilience.abandonedStreamsStop: no flow leaves mid-answer (`stream.abandonAfter`)',
      );
    }
  }
  return problems;
}
