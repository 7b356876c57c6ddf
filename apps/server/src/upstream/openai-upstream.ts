/**
 * The model provider, reached through the official `openai` SDK (any OpenAI-compatible API).
 *
 * Contract: see `UpstreamModel`. Streams with `stream_options.include_usage` so the last chunk
 * carries token usage. `maxRetries: 0` because retrying is a decision for the error mapping and
 * the client (a later issue), never a silent delay here. The SDK's `timeout` only covers the wait
 * for response headers; idleness between chunks is watched by the chat relay.
 */
import { OpenAI } from 'openai';
import type { UpstreamModel } from './upstream-model.ts';
import { mapUpstreamError } from './upstream-error.ts';

/** Sent to keyless local providers (Ollama, vLLM) because the SDK insists on a key. */
export const PLACEHOLDER_API_KEY = 'no-key-configured';

export interface OpenAIUpstreamOptions {
  apiKey: string | undefined;
  baseURL: string | undefined;
  model: string;
  /** Upper bound on the wait for response headers. */
  headersTimeoutMs: number;
}

export function createOpenAIUpstream(options: OpenAIUpstreamOptions): UpstreamModel {
  const apiKey = options.apiKey ?? PLACEHOLDER_API_KEY;
  const client = new OpenAI({
    apiKey,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    maxRetries: 0,
    timeout: options.headersTimeoutMs,
  });
  const secrets = options.apiKey === undefined ? [] : [options.apiKey];

  return {
    model: options.model,
    async open({ messages, signal }) {
      return client.chat.completions.create(
        { model: options.model, messages: [...messages], stream: true, stream_options: { include_usage: true } },
        { signal },
      );
    },
    async complete({ messages, signal, maxTokens }) {
      const answer = await client.chat.completions.create({ model: options.model, messages: [...messages], max_tokens: maxTokens }, { signal });
      const text = answer.choices[0]?.message?.content ?? '';
      const usage = answer.usage;
      return usage === undefined || usage === null
        ? { text }
        : { text, usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } };
    },
    failure(error, phase) {
      return mapUpstreamError(error, { phase, secrets });
    },
  };
}
