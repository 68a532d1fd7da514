import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * Runs a full garbage collection now, where the process was not started with --expose-gc:
 * V8's flag is set at runtime and the `gc` function read from a fresh context (node's own
 * documented use of setFlagsFromString). A run calls it once before t = 0, so that the
 * garbage of loading modules and building the plan is not collected during the first
 * seconds of load, where its pauses (Scavenges of 10 to 20 ms were seen) delay due sends.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed !== undefined) {
      collect = exposed;
    } else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  collect();
}
