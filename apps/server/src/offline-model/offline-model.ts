/**
 * The embedded offline model: the emulator, scripted to explain that no model is configured.
 *
 * Contract: starts on a loopback ephemeral port and answers every chat completion with
 * `composeOfflineReply(<last user message>)`, a short reasoning part and the answer, in small
 * chunks `chunkDelayMs` apart. A non-streamed side question (a title, follow-up questions — told
 * apart by `sideTaskOf`) gets an answer of its kind, so titles and suggestions work offline too. It
 * records nothing (it runs for the server's lifetime).
 */
import { sideQuestionOf, sideTaskOf } from '../side-calls/side-call-prompts.ts';
import { composeOfflineReply, composeOfflineTitle, OFFLINE_FOLLOW_UPS, splitIntoChunks } from './offline-reply.ts';
import { startOpenAICompatibleEmulator, type OpenAICompatibleEmulator, type RecordedRequest } from './openai-compatible-emulator.ts';

/** The SDK insists on a key; the offline model ignores it. */
export const OFFLINE_MODEL_API_KEY = 'offline-model-needs-no-key';

function lastUserMessage(request: RecordedRequest): string {
  const users = request.messages.filter((message) => message.role === 'user' && typeof message.content === 'string');
  const last = users.at(-1)?.content;
  return typeof last === 'string' ? last : '';
}

export function startOfflineModel(options: { model: string; chunkDelayMs: number }): Promise<OpenAICompatibleEmulator> {
  return startOpenAICompatibleEmulator({
    model: options.model,
    maxRecorded: 0,
    scenario: (request) => {
      const task = request.stream ? undefined : sideTaskOf(request.messages);
      if (task === 'title') return { content: [composeOfflineTitle(sideQuestionOf(lastUserMessage(request)))] };
      if (task === 'follow-ups') return { content: [OFFLINE_FOLLOW_UPS.join('\n')] };
      const reply = composeOfflineReply(lastUserMessage(request));
      const reasoning = splitIntoChunks(reply.reasoning);
      const content = splitIntoChunks(reply.answer);
      return { reasoning, content, chunkDelayMs: options.chunkDelayMs };
    },
  });
}
