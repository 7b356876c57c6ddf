/**
 * Reads one OpenAI-compatible stream chunk into the parts a reply is made of — pure.
 *
 * Contract: only choice index 0 is read (we never ask for `n > 1`). Reasoning text comes from
 * `reasoning_content` (DeepSeek, Qwen, Moonshot) or `reasoning` (OpenRouter, vLLM, Ollama).
 * `usage` is reported as the provider sent it; providers that repeat cumulative usage on every
 * chunk are handled by the caller keeping the last value, never a sum.
 */
import type { UsageData } from '@wxstream/protocol';
import type { UpstreamChunk } from '../upstream/upstream-model.ts';

export interface ChunkParts {
  readonly reasoning: string;
  readonly content: string;
  readonly finishReason: string | undefined;
  readonly usage: UsageData | undefined;
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

export function readChunk(chunk: UpstreamChunk): ChunkParts {
  const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
  const delta = choice?.delta;
  const reasoning = delta?.reasoning_content ?? delta?.reasoning;
  const prompt = tokenCount(chunk.usage?.prompt_tokens);
  const completion = tokenCount(chunk.usage?.completion_tokens);
  return {
    reasoning: typeof reasoning === 'string' ? reasoning : '',
    content: typeof delta?.content === 'string' ? delta.content : '',
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : undefined,
    usage:
      prompt === undefined && completion === undefined
        ? undefined
        : { promptTokens: prompt ?? 0, completionTokens: completion ?? 0 },
  };
}
