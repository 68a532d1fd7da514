import type { StreamFailure } from './stream-failure.ts';
import { errorEventFailure, invalidJsonFailure } from './stream-failure.ts';
import type { StreamSink } from './stream-sink.ts';

/** What one chat stream amounted to. Times are absolute, on the clock the engine passed in. */
export interface ChatStreamResult {
  /** When the first non-empty content delta arrived; absent when none did. */
  firstContentUs: number | undefined;
  /** When the last non-empty content delta arrived (the end of the answer's text). */
  lastContentUs: number | undefined;
  /** When the stream ended, normally or not. */
  endUs: number;
  /** Non-empty content deltas seen. */
  contentDeltas: number;
  /**
   * Output tokens: the stream's own usage count when it carried one (`tokensEstimated`
   * false); otherwise estimated as the larger of the content deltas (a streamed delta holds
   * at least one token) and the content's UTF-16 length over 4 (the usual rule of thumb
   * for English text), rounded up (`tokensEstimated` true).
   */
  outputTokens: number;
  tokensEstimated: boolean;
  /** Input tokens, when the stream reported them. */
  inputTokens: number | undefined;
  /** The format's terminator was seen (`[DONE]`, `message_stop`, the end of a text body). */
  terminated: boolean;
  /** The first failure seen, if any. */
  failure: StreamFailure | undefined;
  /** Names of the SSE events seen (`event:` fields), such as a chatbot's `fallback`. */
  eventNames: ReadonlySet<string>;
  /** The content text, up to `captureTextBytes` UTF-8 bytes; absent unless asked for. */
  text: string | undefined;
}

export interface TallyOptions {
  captureTextBytes: number;
  onGap: ((gapUs: number) => void) | undefined;
}

const NO_NAMES: ReadonlySet<string> = new Set<string>();
const CHARS_PER_TOKEN = 4;

/**
 * The running count of one stream, fed by a format reader through `StreamSink`. Content
 * deltas are timed at `nowUs`, which the owning reader sets before it feeds each chunk, so
 * every event parsed out of a chunk is stamped with that chunk's arrival time.
 */
export class StreamTally implements StreamSink {
  nowUs = 0;
  terminated = false;
  failure: StreamFailure | undefined;

  #firstContentUs: number | undefined;
  #lastContentUs: number | undefined;
  #contentDeltas = 0;
  #contentChars = 0;
  #inputTokens: number | undefined;
  #outputTokens: number | undefined;
  #eventNames: Set<string> | undefined;
  #captured: string[] | undefined;
  #captureBytesLeft: number;
  readonly #onGap: ((gapUs: number) => void) | undefined;

  constructor(options: TallyOptions) {
    this.#onGap = options.onGap;
    this.#captureBytesLeft = options.captureTextBytes;
    if (options.captureTextBytes > 0) this.#captured = [];
  }

  content(text: string): void {
    if (text.length === 0) return;

    const nowUs = this.nowUs;
    if (this.#lastContentUs === undefined) this.#firstContentUs = nowUs;
    else if (this.#onGap !== undefined) this.#onGap(nowUs - this.#lastContentUs);
    this.#lastContentUs = nowUs;
    this.#contentDeltas++;
    this.#contentChars += text.length;

    if (this.#captureBytesLeft > 0) this.#capture(text);
  }

  usage(inputTokens: number | undefined, outputTokens: number | undefined): void {
    if (inputTokens !== undefined) this.#inputTokens = inputTokens;
    if (outputTokens !== undefined) this.#outputTokens = outputTokens;
  }

  done(): void {
    this.terminated = true;
  }

  error(message: string): void {
    this.fail(errorEventFailure(message));
  }

  invalidJson(data: string): void {
    this.fail(invalidJsonFailure(data));
  }

  /** Records a failure unless one is already recorded: the first cause is the one to report. */
  fail(failure: StreamFailure): void {
    if (this.failure === undefined) this.failure = failure;
  }

  /** Records the name of an SSE event. */
  eventName(name: string): void {
    if (this.#eventNames === undefined) this.#eventNames = new Set();
    this.#eventNames.add(name);
  }

  /** The result as it stands, ended at `endUs`. */
  result(endUs: number): ChatStreamResult {
    const counted = this.#outputTokens === undefined;
    return {
      firstContentUs: this.#firstContentUs,
      lastContentUs: this.#lastContentUs,
      endUs,
      contentDeltas: this.#contentDeltas,
      outputTokens: counted ? this.#estimateTokens() : (this.#outputTokens as number),
      tokensEstimated: counted,
      inputTokens: this.#inputTokens,
      terminated: this.terminated,
      failure: this.failure,
      eventNames: this.#eventNames ?? NO_NAMES,
      text: this.#captured?.join(''),
    };
  }

  #estimateTokens(): number {
    if (this.#contentDeltas === 0) return 0;
    return Math.max(this.#contentDeltas, Math.ceil(this.#contentChars / CHARS_PER_TOKEN));
  }

  #capture(text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= this.#captureBytesLeft) {
      this.#captured?.push(text);
      this.#captureBytesLeft -= bytes;
      return;
    }

    // The last piece that fits is cut at a character boundary, never inside one.
    let kept = '';
    let left = this.#captureBytesLeft;
    for (const char of text) {
      const size = utf8Size(char.codePointAt(0) as number);
      if (size > left) break;
      kept += char;
      left -= size;
    }
    this.#captured?.push(kept);
    this.#captureBytesLeft = 0;
  }
}

function utf8Size(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}
