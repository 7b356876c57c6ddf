/**
 * The OpenAI SDK client for every provider call (the chat model, speech, transcription): no SDK
 * retries (the callers decide), the call's own timeout, and a placeholder key for keyless local servers.
 *
 * Contract: `openAIServiceClient(options)` returns the client and the secrets an error message must
 * not show, so every provider builds its client and redacts alike; `fetch` replaces the SDK's transport.
 */
import { OpenAI } from 'openai';

/** Sent to keyless local providers (Ollama, vLLM, Whisper servers) because the SDK insists on a key. */
export const PLACEHOLDER_API_KEY = 'no-key-configured';

export interface OpenAIServiceClientOptions {
  readonly apiKey: string | undefined;
  /** Undefined means the SDK's default, api.openai.com. */
  readonly baseURL: string | undefined;
  readonly timeoutMs: number;
  /** The transport the SDK sends through; its own fetch when absent. */
  readonly fetch?: typeof fetch;
}

export interface OpenAIServiceClient {
  readonly client: OpenAI;
  readonly secrets: readonly string[];
}

export function openAIServiceClient(options: OpenAIServiceClientOptions): OpenAIServiceClient {
  const client = new OpenAI({
    apiKey: options.apiKey ?? PLACEHOLDER_API_KEY,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    maxRetries: 0,
    timeout: options.timeoutMs,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  return { client, secrets: options.apiKey === undefined ? [] : [options.apiKey] };
}
