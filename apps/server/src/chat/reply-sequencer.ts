/**
 * Builds the events of one reply in protocol order — pure state, no I/O.
 *
 * Contract: ids run 1, 2, 3 … with no gaps; `start` must come first (anything else before it is a
 * programming error and throws); `reasoning` is accepted only before the first `delta` (a provider
 * that interleaves late reasoning has it dropped rather than break the client's ordering); empty
 * texts produce no event; `usage` at most once; `audio` segments in any phase after start, in the
 * order given (the voice pipeline delivers them by index); `suggestions` at most once, after start;
 * exactly one terminal event, after which
 * every call returns `undefined`.
 *
 * State: `nextId` is the id the next event gets; `phase` is `new` until start, `thinking` while
 * only reasoning has been sent, `answering` after the first delta, `ended` after the terminal.
 */
import type { AudioData, DoneData, ReplyEvent, StartData, SuggestionsData, TerminalReplyEvent, UsageData, WireError } from '@wxstream/protocol';

type Phase = 'new' | 'thinking' | 'answering' | 'ended';

export class ReplySequencer {
  #nextId = 1;
  #phase: Phase = 'new';
  #usageSent = false;
  #suggestionsSent = false;

  get ended(): boolean {
    return this.#phase === 'ended';
  }

  get started(): boolean {
    return this.#phase !== 'new';
  }

  /** How many events have been produced so far. */
  get count(): number {
    return this.#nextId - 1;
  }

  start(data: StartData): ReplyEvent {
    if (this.#phase !== 'new') throw new Error('start must be the first event of a reply');
    this.#phase = 'thinking';
    return { id: this.#nextId++, type: 'start', data };
  }

  reasoning(text: string): ReplyEvent | undefined {
    this.#requireStarted();
    if (text === '' || this.#phase !== 'thinking') return undefined;
    return { id: this.#nextId++, type: 'reasoning', data: { text } };
  }

  delta(text: string): ReplyEvent | undefined {
    this.#requireStarted();
    if (text === '' || this.#phase === 'ended') return undefined;
    this.#phase = 'answering';
    return { id: this.#nextId++, type: 'delta', data: { text } };
  }

  usage(data: UsageData): ReplyEvent | undefined {
    this.#requireStarted();
    if (this.#usageSent || this.#phase === 'ended') return undefined;
    this.#usageSent = true;
    return { id: this.#nextId++, type: 'usage', data };
  }

  audio(data: AudioData): ReplyEvent | undefined {
    this.#requireStarted();
    if (this.#phase === 'ended') return undefined;
    return { id: this.#nextId++, type: 'audio', data };
  }

  suggestions(data: SuggestionsData): ReplyEvent | undefined {
    this.#requireStarted();
    if (this.#suggestionsSent || this.#phase === 'ended' || data.items.length === 0) return undefined;
    this.#suggestionsSent = true;
    return { id: this.#nextId++, type: 'suggestions', data };
  }

  done(data: DoneData): TerminalReplyEvent | undefined {
    return this.#terminal((id) => ({ id, type: 'done', data }));
  }

  error(data: WireError): TerminalReplyEvent | undefined {
    return this.#terminal((id) => ({ id, type: 'error', data }));
  }

  #terminal(make: (id: number) => TerminalReplyEvent): TerminalReplyEvent | undefined {
    this.#requireStarted();
    if (this.#phase === 'ended') return undefined;
    this.#phase = 'ended';
    return make(this.#nextId++);
  }

  #requireStarted(): void {
    if (this.#phase === 'new') throw new Error('a reply must start before any other event');
  }
}
