/**
 * The model provider, reached through the official `openai` SDK (any OpenAI-compatible API).
 *
 * Contract: see `UpstreamModel`. Streams with `stream_options.include_usage` so the last chunk
 * carries token usage. `maxRetries: 0` because retrying is a decision for the error mapping and
 * the client (a later issue), never a silent delay here. The SDK's `timeout` only covers the wait
 * for response headers; idleness between chunks is watched by the chat relay.
 *
 * The SDK builds and sends the request and turns refusals into its errors; it sends them through
 * `node-http-fetch.ts`, and the streamed body is read below the SDK (`asResponse()`), as the Node
 * stream it arrives as, by `chat-completion-stream.ts` — with the SDK's semantics, at a fraction of
 * its cost per event.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { chatCompletionChunks } from './chat-completion-stream.ts';
import { openAIServiceClient } from './openai-service-client.ts';
import { createNodeHttpFetch, nodeBodyOf } from './node-http-fetch.ts';
import type { UpstreamModel } from './upstream-model.ts';
import { mapUpstreamError } from './upstream-error.ts';

export interface OpenAIUpstreamOptions {
  apiKey: string | undefined;
  baseURL: string | undefined;
  model: string;
  /** Upper bound on the wait for response headers. */
  headersTimeoutMs: number;
}

export function createOpenAIUpstream(options: OpenAIUpstreamOptions): UpstreamModel {
  const { client, secrets } = openAIServiceClient({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeoutMs: options.headersTimeoutMs,
    fetch: createNodeHttpFetch(),
  });

  return {
    model: options.model,
    async open({ messages, signal }) {
      const response = await client.chat.completions
        .create({ model: options.model, messages: [...messages], stream: true, stream_options: { include_usage: true } }, { signal })
        .asResponse();
      const body = nodeBodyOf(response) ?? (response.body === null ? Readable.from([]) : Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>));
      return chatCompletionChunks(body, response.headers);
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
