/**
 * The state of one reply, folded from its stream events.
 *
 * Contract: `reduceReply` is pure and total — every event, in any order and any number of times, yields
 * a valid state and never throws. Three rules make replays and late deliveries harmless:
 * - once the status is terminal (`done`, `stopped`, `error`) the state never changes again;
 * - an event whose id is not above `lastEventId` has already been applied and is ignored, so a replayed
 *   or duplicated event never repeats text;
 * - `usage` replaces, never sums: the server reports totals, and a repeated report must not double them;
 * - `suggestions` replaces, like `usage` (a reply carries at most one);
 * - `audio` segments are kept in index order, each index once (a segment out of its place is dropped,
 *   so a player walking the list never plays one twice or out of order).
 * A state is returned unchanged (the same object) when an event is ignored, so callers can compare
 * identities to skip work. `stopReply` and `failReply` are the client's own terminal transitions (the
 * user pressed stop; the transport failed): both keep the partial text.
 */
import type { AudioData, FinishReason, ReplyEvent, UsageData, WireError } from '@wxstream/protocol';

export type ReplyStatus = 'streaming' | 'done' | 'stopped' | 'error';

export interface ReplyState {
  /** The answer text received so far. */
  text: string;
  /** The model's reasoning received so far (reasoning models only; empty otherwise). */
  reasoning: string;
  status: ReplyStatus;
  /** Set when `status` is `error`. */
  error?: WireError;
  usage?: UsageData;
  /** Set when `status` is `done` (the model's reason) or `stopped` (`'stopped'`). */
  finishReason?: FinishReason;
  conversationId?: string;
  messageId?: string;
  model?: string;
  /** Id of the last applied event; 0 before any. */
  lastEventId: number;
  /** Whether the server speaks this reply (`start` said `voice: true`). */
  voice?: boolean;
  /** Spoken segments so far, `audio[i].index === i`. */
  audio: readonly AudioData[];
  /** Follow-up questions the server offered (its `suggestions` event); absent when none came. */
  suggestions?: readonly string[];
}

export function initialReplyState(): ReplyState {
  return { text: '', reasoning: '', status: 'streaming', lastEventId: 0, audio: [] };
}

export function isTerminalStatus(status: ReplyStatus): boolean {
  return status !== 'streaming';
}

export function reduceReply(state: ReplyState, event: ReplyEvent): ReplyState {
  if (isTerminalStatus(state.status) || event.id <= state.lastEventId) return state;
  const next: ReplyState = { ...state, lastEventId: event.id };
  switch (event.type) {
    case 'start':
      next.conversationId = event.data.conversationId;
      next.messageId = event.data.messageId;
      next.model = event.data.model;
      if (event.data.voice !== undefined) next.voice = event.data.voice;
      return next;
    case 'reasoning':
      next.reasoning = state.reasoning + event.data.text;
      return next;
    case 'delta':
      next.text = state.text + event.data.text;
      return next;
    case 'usage':
      next.usage = { promptTokens: event.data.promptTokens, completionTokens: event.data.completionTokens };
      return next;
    case 'audio':
      if (event.data.index !== state.audio.length) return { ...state, lastEventId: event.id };
      next.audio = [...state.audio, event.data];
      return next;
    case 'suggestions':
      next.suggestions = [...event.data.items];
      return next;
    case 'done':
      next.status = 'done';
      next.finishReason = event.data.finishReason;
      return next;
    case 'error':
      next.status = 'error';
      next.error = { code: event.data.code, message: event.data.message, retryable: event.data.retryable };
      return next;
  }
}

/** The user pressed stop: keep what arrived, mark it stopped. No-op once the reply has ended. */
export function stopReply(state: ReplyState): ReplyState {
  if (isTerminalStatus(state.status)) return state;
  return { ...state, status: 'stopped', finishReason: 'stopped' };
}

/** The transport failed on its own (network, interrupted stream, bad response): keep the partial text. */
export function failReply(state: ReplyState, error: WireError): ReplyState {
  if (isTerminalStatus(state.status)) return state;
  return { ...state, status: 'error', error: { code: error.code, message: error.message, retryable: error.retryable } };
}
