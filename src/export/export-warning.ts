/**
 * What the k6 export could not carry over, or carried over with a different meaning. Each one
 * is written at the top of the script and printed by `launchproof export` on stderr: nothing
 * of a scenario is dropped without a word.
 */
export type ExportWarningKind =
  /** Identities bound to source addresses: k6 binds per VU (`localIPs`), not per identity. */
  | 'source-addresses'
  /** `latency` (from the intended send) mapped to k6's `http_req_duration` (actual send). */
  | 'latency-threshold'
  /** A threshold on a metric the script does not have (k6 would refuse to start). */
  | 'threshold-dropped'
  /** A threshold whose meaning differs in k6 (fewer samples, a measure from the send). */
  | 'threshold-changed'
  /** A check the script cannot run (a predicate closing over the file, a body schema). */
  | 'check-untranslatable'
  /** A declaration only launchproof runs: fault timelines, verifications, hooks. */
  | 'launchproof-only'
  /** A load shape k6 runs differently (Poisson spacing, a capped burst). */
  | 'load-shape'
  /** A stream setting or measure xk6-sse cannot reproduce. */
  | 'stream'
  /** A request detail: a header kept out of the script, a builder that threw, timeouts. */
  | 'request';

export interface ExportWarning {
  kind: ExportWarningKind;
  /** The flow it concerns, when it concerns one. */
  flow?: string;
  message: string;
}

/** One line for a warning: `[kind] flow "x": message`. */
export function formatExportWarning(warning: ExportWarning): string {
  const where = warning.flow === undefined ? '' : `flow "${warning.flow}": `;
  return `[${warning.kind}] ${where}${warning.message}`;
}
