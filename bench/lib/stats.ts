/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `a / b`, NaN when either is missing or b is 0. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

/** A number for a table: fixed decimals, thousands separated, `n/a` when missing. */
export function fmt(value: number | undefined, decimals = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** `1.23×`. */
export function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
}

/** Min and max, for showing the spread of the runs behind a median. */
export function spread(values: readonly number[], decimals = 0): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return 'n/a';
  return `${fmt(Math.min(...finite), decimals)}–${fmt(Math.max(...finite), decimals)}`;
}

/**
 * Runs each tool once per round, `rounds` times, rotating which tool goes first so that no
 * tool always follows the same neighbour (a busy host's drift then falls on all alike).
 */
export async function alternate<K extends string, T>(
  rounds: number,
  tools: ReadonlyArray<{ key: K; run: () => Promise<T> }>,
  onRun?: (key: K, round: number, result: T) => void,
): Promise<Record<K, T[]>> {
  const results = {} as Record<K, T[]>;
  for (const tool of tools) results[tool.key] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < tools.length; i++) {
      const tool = tools[(i + round) % tools.length] as { key: K; run: () => Promise<T> };
      const result = await tool.run();
      results[tool.key].push(result);
      onRun?.(tool.key, round, result);
    }
  }
  return results;
}
