/**
 * The OpenAI SDK client for a side service (speech, transcription): one call each, no SDK retries
 * (the callers decide), the call's own timeout, and a placeholder key for keyless local servers.
 *
 * Contract: `openAIServiceClient(options)` returns the client and the secrets a failure message must
 * not show (see openai-service-failure.ts), so every audio provider builds and redacts alike.
 */
import { OpenAI } from 'openai';
import { PLACEHOLDER_API_KEY } from './openai-upstream.ts';

export interface OpenAIServiceClientOptions {
  readonly apiKey: string | undefined;
  /** Undefined means the SDK's default, api.openai.com. */
  readonly baseURL: string | undefined;
  readonly timeoutMs: number;
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
  });
  return { client, secrets: options.apiKey === undefined ? [] : [options.apiKey] };
}
