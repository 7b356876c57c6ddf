/**
 * Push-based parser for `text/event-stream`, after the WHATWG HTML "event stream interpretation".
 *
 * Contract: feed it decoded text in pieces of any size (`feed`), in order; it calls `onMessage` once per
 * dispatched event, with the same result for every way of cutting the stream into pieces:
 * - lines end with CRLF, LF or CR, also when a CRLF is cut between two pieces;
 * - one U+FEFF at the very start of the stream is ignored;
 * - `:` lines are comments, reported to `onComment` without the colon and without one leading space
 *   (`: ping` → `"ping"`), which is how heartbeats become visible;
 * - `name:value` sets a field, one space after the colon is removed; a line without a colon is a field
 *   with an empty value; `data` lines are joined with LF; `event` sets the type (`message` if empty);
 *   `id` sets the last event id unless the value contains U+0000, and that id persists into later
 *   events; `retry` is taken only when it is all ASCII digits (reported to `onRetry` at once, and also
 *   put on the event it came with); other fields are ignored;
 * - an empty line dispatches the event: with an empty data buffer nothing is dispatched (the event type
 *   is still reset), otherwise one trailing LF is removed from the data and the message is delivered.
 *
 * Callbacks run synchronously inside `feed`. A callback may call `reset()` (the rest of that piece is
 * then dropped) but must not call `feed()` itself.
 *
 * `end()` marks the end of the stream. As the spec says, an event not yet closed by an empty line is
 * discarded, not dispatched — a reply cut mid-event must not look complete. `end()` then resets the
 * parser, as `reset()` does, for a new stream.
 *
 * Cost is linear in the text fed: only the incomplete last line is kept between `feed` calls, and each
 * character is examined a constant number of times (by `indexOf`, which stays fast without a JIT).
 */

export interface SseMessage {
  /** The event type; `message` when the stream gave none. */
  event: string;
  data: string;
  /** The last event id at dispatch time (it persists across events); `''` if none was ever set. */
  id: string;
  /** A valid `retry` value given inside this event's lines, if any. */
  retry?: number;
}

export interface SseParserOptions {
  /** A comment line, without the colon and one leading space. */
  onComment?: (comment: string) => void;
  /** A valid `retry` field, in milliseconds, as soon as its line is complete. */
  onRetry?: (ms: number) => void;
}

const LF = 10;
const SPACE = 32;
const BOM = 0xfeff;
const ASCII_DIGITS = /^[0-9]+$/;

export class SseParser {
  private readonly onMessage: (message: SseMessage) => void;
  private readonly onComment: ((comment: string) => void) | undefined;
  private readonly onRetry: ((ms: number) => void) | undefined;

  /*
   * Parser state. Everything here is reset by `reset()` and `end()`.
   *
   * `line` — the text of the current, not yet terminated line: everything fed after the last line
   *   ending. It never contains CR or LF. This is the only part of the input kept between `feed` calls,
   *   so a long stream costs memory for one line, and no text is ever scanned twice.
   *
   * `crPending` — the last piece ended with CR. That CR already ended its line, but it may be the first
   *   half of a CRLF; if the next piece starts with LF, that LF belongs to the same line ending and is
   *   skipped instead of ending an (empty) line — which would otherwise dispatch an event early.
   *   Cleared by the next non-empty piece, whatever it starts with.
   *
   * `started` — some text of this stream has been seen, so a U+FEFF is no longer the stream's start.
   *   Set by the first non-empty piece (after its possible BOM is skipped).
   *
   * `data` — the event's data buffer as the spec defines it: each `data` line's value followed by LF.
   *   Empty means "no data line yet", which is what makes an empty line not dispatch. The trailing LF
   *   is removed only when dispatching.
   *
   * `eventType` — the event type buffer; `''` until an `event` line sets it, reset after each empty
   *   line whether or not it dispatched.
   *
   * `lastEventId` — the last event ID buffer. NOT reset by an empty line: per spec an id persists into
   *   the following events until another `id` line (possibly empty) replaces it.
   *
   * `retry` — a valid `retry` value seen since the last empty line, to put on the dispatched message.
   *
   * `generation` — bumped by every reset. `feed` stops working on its piece when a callback it called
   *   reset the parser (e.g. the consumer stopped the reply), so no stale line leaks into the new stream.
   */
  private line = '';
  private crPending = false;
  private started = false;
  private data = '';
  private eventType = '';
  private lastEventId = '';
  private retry: number | undefined = undefined;
  private generation = 0;

  constructor(onMessage: (message: SseMessage) => void, options?: SseParserOptions) {
    this.onMessage = onMessage;
    this.onComment = options?.onComment;
    this.onRetry = options?.onRetry;
  }

  /** Parses the next piece of the stream; complete events are delivered before it returns. */
  feed(text: string): void {
    const length = text.length;
    if (length === 0) return;
    let position = 0;
    if (this.crPending) {
      this.crPending = false;
      if (text.charCodeAt(0) === LF) position = 1;
    }
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === BOM) position = 1;
    }
    const generation = this.generation;
    // The next LF and CR at or after `position`, or -1 when the piece has no more. Each is searched for
    // again only once the parser has moved past it, so the piece is scanned once.
    let nextLf = text.indexOf('\n', position);
    let nextCr = text.indexOf('\r', position);
    while (nextLf !== -1 || nextCr !== -1) {
      let end: number;
      let next: number;
      if (nextCr === -1 || (nextLf !== -1 && nextLf < nextCr)) {
        end = nextLf;
        next = end + 1;
      } else {
        end = nextCr;
        next = end + 1;
        if (next === length) this.crPending = true;
        else if (text.charCodeAt(next) === LF) next++;
      }
      let line = text.slice(position, end);
      if (this.line !== '') {
        line = this.line + line;
        this.line = '';
      }
      position = next;
      this.processLine(line);
      if (this.generation !== generation) return;
      if (nextLf !== -1 && nextLf < position) nextLf = text.indexOf('\n', position);
      if (nextCr !== -1 && nextCr < position) nextCr = text.indexOf('\r', position);
    }
    if (position < length) this.line += text.slice(position);
  }

  /**
   * The stream ended. An event not closed by an empty line — and an unterminated last line — is
   * discarded, as the spec requires, then the parser is reset for a new stream.
   */
  end(): void {
    this.reset();
  }

  /** Forgets everything, including the last event id: the next `feed` starts a new stream. */
  reset(): void {
    this.line = '';
    this.crPending = false;
    this.started = false;
    this.data = '';
    this.eventType = '';
    this.lastEventId = '';
    this.retry = undefined;
    this.generation++;
  }

  private processLine(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      this.onComment?.(line.charCodeAt(1) === SPACE ? line.slice(2) : line.slice(1));
      return;
    }
    let field = line;
    let value = '';
    if (colon !== -1) {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    // Other fields are ignored, as the spec requires; field names are case-sensitive.
    switch (field) {
      case 'data':
        this.data += value;
        this.data += '\n';
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (value.indexOf('\0') === -1) this.lastEventId = value;
        break;
      case 'retry':
        if (ASCII_DIGITS.test(value)) {
          const ms = parseInt(value, 10);
          this.retry = ms;
          this.onRetry?.(ms);
        }
        break;
    }
  }

  private dispatch(): void {
    const data = this.data;
    const eventType = this.eventType;
    const retry = this.retry;
    // Reset before the callback, so a callback that feeds or resets sees a consistent parser.
    this.data = '';
    this.eventType = '';
    this.retry = undefined;
    if (data === '') return;
    const message: SseMessage = {
      event: eventType === '' ? 'message' : eventType,
      data: data.slice(0, -1),
      id: this.lastEventId,
    };
    if (retry !== undefined) message.retry = retry;
    this.onMessage(message);
  }
}
