/**
 * How output looks, decided in one place: colour only on a TTY without NO_COLOR, live progress
 * only on a TTY outside CI.
 */
export interface TerminalStyle {
  color: boolean;
  live: boolean;
}

export function terminalStyle(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  ci: boolean,
): TerminalStyle {
  const tty = stream.isTTY === true;
  const inCi = ci || (env.CI !== undefined && env.CI !== '' && env.CI !== 'false');
  return {
    color: tty && env.NO_COLOR === undefined && env.TERM !== 'dumb',
    live: tty && !inCi,
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

export type Paint = (tone: keyof typeof CODES, text: string) => string;

export function painter(style: TerminalStyle): Paint {
  if (!style.color) return (_tone, text) => text;
  return (tone, text) => `\u001b[${CODES[tone]}m${text}\u001b[0m`;
}
