/**
 * What the chat route needs from a model provider, independent of the SDK behind it.
 *
 * Contract: `open` resolves once the provider has answered with response headers (so a refusal —
 * 401, 429, 5xx, connection refused — rejects here, before we commit to a 200), to an async
 * iterable of chunks in the OpenAI chat-completions streaming shape. Aborting `signal` ends the
 * iteration (silently or with an abort error) and closes the upstream connection. `failure` maps
 * anything `open` or the iteration threw to a protocol error with secrets removed.
 *
 * `complete` is for small side questions (a conversation's title, follow-up questions): one
 * non-streamed call that resolves to the answer's text and the provider's usage (when it sent one),
 * or rejects like `open` — map it with `failure(error, 'before-stream')`. It is never retried: a side
 * question that fails is simply not answered.
 *
 * The stream may name the model that actually answered (`UpstreamStream.model`) when that is not
 * `UpstreamModel.model` — a fallback took over — so `start` and the stored reply name the right one.
 */
import type { UsageData, WxstreamError } from '@wxstream/protocol';

/** The parts of an OpenAI-compatible stream chunk we read, plus the reasoning fields providers add. */
export interface UpstreamChunk {
  readonly choices?: ReadonlyArray<{
    readonly index?: number;
    readonly delta?: {
      readonly content?: string | null;
      /** DeepSeek, Qwen, Moonshot. */
      readonly reasoning_content?: string | null;
      /** OpenRouter, vLLM, Ollama. */
      readonly reasoning?: string | null;
    } | null;
    readonly finish_reason?: string | null;
  }>;
  readonly usage?: { readonly prompt_tokens?: number; readonly completion_tokens?: number } | null;
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** What `open` resolves to. */
export interface UpstreamStream extends AsyncIterable<UpstreamChunk> {
  /** The model that answered, when it differs from `UpstreamModel.model`; absent means that one. */
  readonly model?: string;
}

/** What `complete` resolves to. */
export interface UpstreamCompletion {
  readonly text: string;
  readonly usage?: UsageData;
}

export interface UpstreamModel {
  /** The model name sent upstream and announced in `start`. */
  readonly model: string;
  open(request: { messages: readonly ChatMessage[]; signal: AbortSignal }): Promise<UpstreamStream>;
  complete(request: { messages: readonly ChatMessage[]; signal: AbortSignal; maxTokens: number }): Promise<UpstreamCompletion>;
  failure(error: unknown, phase: 'before-stream' | 'mid-stream'): WxstreamError;
}
