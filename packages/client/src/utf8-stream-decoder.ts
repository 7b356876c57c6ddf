/**
 * Streaming UTF-8 → UTF-16 decoding without `TextDecoder` (mini-program devices do not have one).
 *
 * Contract: `new Utf8StreamDecoder().decode(bytes, { stream })` returns exactly what WHATWG
 * `new TextDecoder('utf-8')` (fatal: false, ignoreBOM: false) returns, for every byte sequence and every
 * way of cutting it into chunks:
 * - malformed input becomes U+FFFD per the Encoding Standard's UTF-8 decoder (one U+FFFD per maximal
 *   subpart, with the spec's lower/upper boundaries rejecting overlongs, surrogates and code points
 *   above U+10FFFF at the earliest byte; lone continuation bytes and truncated sequences likewise);
 * - a character cut across chunks is carried over and completed by the next call;
 * - one leading BOM (EF BB BF) of a stream is dropped, also when the BOM itself arrives split;
 * - a call without `stream: true` (including `decode()` with no input) ends the stream: an incomplete
 *   tail is flushed as one U+FFFD, and the next call starts a new stream whose BOM is dropped again.
 *
 * Where Node's own `TextDecoder` deviates from the spec (it drops a U+FEFF that follows a character
 * completed across two `stream` calls), this decoder follows the spec and keeps the U+FEFF.
 *
 * Performance: iOS runs mini-program JS without a JIT, so the hot loop is written for an interpreter:
 * complete sequences are decoded in one step straight from the chunk (an ASCII run loop, then one
 * branch per 2/3/4-byte form); only sequences cut by a chunk boundary or malformed ones go through the
 * byte-at-a-time spec state machine. Code units are collected in a reusable array and turned into
 * strings in bounded batches, so a huge chunk neither concatenates per character nor overflows the
 * call stack of `String.fromCharCode.apply`.
 */

/** Code units converted per `String.fromCharCode.apply` call: far below any engine's argument limit. */
const BATCH = 8192;
const REPLACEMENT = 0xfffd;
const BOM = 0xfeff;
const EMPTY = new Uint8Array(0);

export interface Utf8DecodeOptions {
  /** More bytes follow: hold back an incomplete trailing sequence instead of flushing it as U+FFFD. */
  stream?: boolean;
}

export class Utf8StreamDecoder {
  /*
   * The carry-over between calls is the spec decoder's state, never raw bytes. Because a byte is only
   * accepted into a sequence when it can still lead to a valid character, at most 3 bytes (a lead byte
   * and up to 2 continuation bytes) are ever outstanding, and they are fully described by:
   *
   * `needed` — continuation bytes the open sequence requires in total; 0 means no sequence is open, and
   *   then `seen`, `codePoint`, `lower`, `upper` mean nothing (they are set afresh when one opens).
   * `seen` — continuation bytes accepted so far; always < `needed` while a sequence is open.
   * `codePoint` — the bits accumulated from the lead and the accepted continuation bytes.
   * `lower` / `upper` — the range the NEXT byte must fall in. Normally 80–BF; only right after the lead
   *   byte is it narrowed (E0: A0–BF, ED: 80–9F, F0: 90–BF, F4: 80–8F), which is what rejects
   *   overlongs, surrogates and code points above U+10FFFF at the earliest byte, as the spec requires.
   * `bomPending` — no code unit of the current stream has been produced yet, so a U+FEFF produced next
   *   is a BOM and is dropped. Cleared by the first produced code unit (a U+FFFD counts); set again
   *   when a non-stream call ends the stream.
   * `units` / `count` — scratch output (code units) and its fill level during one call; nothing is
   *   kept in them between calls. One call converts them to a string whenever a window of `BATCH`
   *   input bytes is done; a window yields at most its bytes + 3 (look-ahead past the window end) + 2
   *   (a carried-over sequence completing) + 1 (a flushed tail) units, hence the spare slots.
   */
  private needed = 0;
  private seen = 0;
  private codePoint = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private bomPending = true;
  // A plain array of small integers rather than a Uint16Array: engines pass a plain array to `apply`
  // faster (measured in V8 with and without JIT), which outweighs the copy `slice` makes.
  private readonly units: number[] = new Array<number>(BATCH + 8).fill(0);
  private count = 0;

  decode(input?: ArrayBuffer | ArrayBufferView, options?: Utf8DecodeOptions): string {
    const stream = options !== undefined && options.stream === true;
    const bytes = input instanceof Uint8Array ? input : input === undefined ? EMPTY : toBytes(input);
    const units = this.units;
    const length = bytes.length;
    let out = '';
    let n = 0;
    let i = 0;

    if (this.needed !== 0 && length > 0) {
      this.count = 0;
      i = this.continueSequence(bytes, 0);
      n = this.count;
    }

    // A sequence of k bytes starting at index i lies wholly inside this chunk when i < length - (k - 1).
    const fits2 = length - 1;
    const fits3 = length - 2;
    const fits4 = length - 3;
    // Counters are bumped in statements of their own: in an interpreter that is fewer bytecodes than
    // `units[n++] = x`.
    while (i < length) {
      const windowEnd = length - i > BATCH ? i + BATCH : length;
      while (i < windowEnd) {
        let b = bytes[i]!;
        if (b < 0x80) {
          do {
            units[n] = b;
            n++;
            i++;
          } while (i < windowEnd && (b = bytes[i]!) < 0x80);
          continue;
        }
        // A complete, valid sequence inside this chunk is decoded in one step. XOR with 0x80 maps a
        // continuation byte (80–BF) to its 6 payload bits (00–3F) and anything else to 40 or more.
        if ((b & 0xf0) === 0xe0) {
          if (i < fits3) {
            const x1 = bytes[i + 1]! ^ 0x80;
            const x2 = bytes[i + 2]! ^ 0x80;
            if ((x1 | x2) < 0x40) {
              const unit = ((b & 0x0f) << 12) | (x1 << 6) | x2;
              // Below U+0800 is overlong (E0 80–9F); D800–DFFF are surrogates (ED A0–BF).
              if (unit >= 0x800 && (unit & 0xf800) !== 0xd800) {
                units[n] = unit;
                n++;
                i += 3;
                continue;
              }
            }
          }
        } else if (b < 0xe0) {
          if (b < 0xc2) {
            // A lone continuation byte, or C0/C1 (which could only start an overlong).
            units[n] = REPLACEMENT;
            n++;
            i++;
            continue;
          }
          if (i < fits2) {
            const x1 = bytes[i + 1]! ^ 0x80;
            if (x1 < 0x40) {
              units[n] = ((b & 0x1f) << 6) | x1;
              n++;
              i += 2;
              continue;
            }
          }
        } else if (b < 0xf5) {
          if (i < fits4) {
            const x1 = bytes[i + 1]! ^ 0x80;
            const x2 = bytes[i + 2]! ^ 0x80;
            const x3 = bytes[i + 3]! ^ 0x80;
            if ((x1 | x2 | x3) < 0x40) {
              // Below U+10000 is overlong (F0 80–8F); above U+10FFFF is out of range (F4 90–BF).
              const cp = (((b & 0x07) << 18) | (x1 << 12) | (x2 << 6) | x3) - 0x10000;
              if (cp >= 0 && cp < 0x100000) {
                units[n] = 0xd800 | (cp >> 10);
                units[n + 1] = 0xdc00 | (cp & 0x3ff);
                n += 2;
                i += 4;
                continue;
              }
            }
          }
        } else {
          // F5–FF never start a sequence.
          units[n] = REPLACEMENT;
          n++;
          i++;
          continue;
        }
        // The sequence at `i` is cut by the chunk end or malformed: the spec's state machine takes it.
        this.count = n;
        i = this.continueSequence(bytes, i);
        n = this.count;
      }
      if (i < length) {
        out += unitsToString(units, n);
        n = 0;
      }
    }

    if (!stream && this.needed !== 0) {
      // End of stream inside a sequence: the truncated tail is one maximal subpart.
      this.needed = 0;
      units[n++] = REPLACEMENT;
    }
    if (n > 0) out += unitsToString(units, n);
    if (this.bomPending && out.length > 0) {
      this.bomPending = false;
      if (out.charCodeAt(0) === BOM) out = out.slice(1);
    }
    if (!stream) this.bomPending = true;
    return out;
  }

  /**
   * The Encoding Standard's UTF-8 decoder, byte by byte, for the rare sequences the fast path cannot
   * take. Starts with a sequence open (carried over), or at a lead byte C2–F4 at `i`; runs until that
   * sequence ends — completed, or rejected at a byte left unconsumed for the caller to look at again —
   * or the input runs out with it still open. Writes into `units` at `count`; returns the next index.
   */
  private continueSequence(bytes: Uint8Array, i: number): number {
    const length = bytes.length;
    const units = this.units;
    let n = this.count;
    let needed: number;
    let seen: number;
    let codePoint: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (this.needed === 0) {
      const lead = bytes[i++]!;
      seen = 0;
      if (lead < 0xe0) {
        needed = 1;
        codePoint = lead & 0x1f;
      } else if (lead < 0xf0) {
        needed = 2;
        codePoint = lead & 0x0f;
        if (lead === 0xe0) lower = 0xa0;
        else if (lead === 0xed) upper = 0x9f;
      } else {
        needed = 3;
        codePoint = lead & 0x07;
        if (lead === 0xf0) lower = 0x90;
        else if (lead === 0xf4) upper = 0x8f;
      }
    } else {
      needed = this.needed;
      seen = this.seen;
      codePoint = this.codePoint;
      lower = this.lower;
      upper = this.upper;
    }
    while (i < length) {
      const b = bytes[i]!;
      if (b < lower || b > upper) {
        // The bytes taken so far are one maximal subpart: one U+FFFD; `b` is not consumed.
        units[n] = REPLACEMENT;
        this.count = n + 1;
        this.needed = 0;
        return i;
      }
      i++;
      lower = 0x80;
      upper = 0xbf;
      codePoint = (codePoint << 6) | (b & 0x3f);
      seen++;
      if (seen === needed) {
        if (codePoint >= 0x10000) {
          units[n] = 0xd800 | ((codePoint - 0x10000) >> 10);
          units[n + 1] = 0xdc00 | (codePoint & 0x3ff);
          this.count = n + 2;
        } else {
          units[n] = codePoint;
          this.count = n + 1;
        }
        this.needed = 0;
        return i;
      }
    }
    // Input ran out with the sequence still open: it is the carry-over for the next call.
    this.needed = needed;
    this.seen = seen;
    this.codePoint = codePoint;
    this.lower = lower;
    this.upper = upper;
    return i;
  }
}

function unitsToString(units: number[], count: number): string {
  return String.fromCharCode.apply(null, units.slice(0, count));
}

function toBytes(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  // The tag check also accepts a buffer made in another realm, where `instanceof` fails.
  const tag = Object.prototype.toString.call(input);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(input);
  throw new TypeError('Utf8StreamDecoder.decode expects an ArrayBuffer or an ArrayBufferView');
}
