/**
 * What a format reader reports while it reads: the stream's meaning, stripped of its wire
 * format. `StreamTally` is the one implementation; formats only ever call these five methods.
 */
export interface StreamSink {
  /** A text delta. Empty strings are ignored (a role-only first chunk is not content). */
  content(text: string): void;
  /** Token counts the stream reports; a later report replaces an earlier one. */
  usage(inputTokens: number | undefined, outputTokens: number | undefined): void;
  /** The format's terminator was seen. */
  done(): void;
  /** The target reported an error in the stream. */
  error(message: string): void;
  /** Data that should hold JSON did not parse. */
  invalidJson(data: string): void;
}
