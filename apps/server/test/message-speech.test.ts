/**
 * `POST /api/messages/:messageId/speech` through the real server: a stored reply (one reopened from
 * the history, or one whose audio links expired) is spoken as `audio` events and one `done`, with the
 * same segments, signed URLs and event shapes as live voice; only the caller's own assistant messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isSkippedAudio, type AudioData, type ReplyEvent } from '@wxstream/protocol';
import type { SynthesizedAudio, TtsProvider } from '../src/voice/tts-provider.ts';
import { getConversation, startOf, waitForStoredReply } from './support/api-client.ts';
import { SILENT_FRAME_MS, silentMp3 } from './support/fake-youdao-server.ts';
import { chatRequest, login, send } from './support/http-client.ts';
import { parseReplyBody } from './support/reply-stream.ts';
import { startEmulator, startTestServer, type TestServer } from './support/test-server.ts';
import type { OpenAICompatibleEmulator } from '../src/offline-model/openai-compatible-emulator.ts';

const REPLY = ['你好！这是一段', '存下来的回复。', '重新打开后，', '也能读出来。'];

/** Speaks every text as a short silent MP3, and remembers what it was asked to speak. */
function recordingProvider(spoken: string[]): TtsProvider {
  return {
    id: 'recording',
    defaultVoice: 'v',
    synthesize: async (request): Promise<SynthesizedAudio> => {
      spoken.push(request.text);
      return { audio: silentMp3(4), format: 'mp3', durationMs: Math.round(4 * SILENT_FRAME_MS) };
    },
  };
}

function speak(url: string, token: string, messageId: string, body?: object): ReturnType<typeof send> {
  return send(url, `/api/messages/${messageId}/speech`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body }),
  });
}

function audioOf(events: readonly ReplyEvent[]): AudioData[] {
  return events.flatMap((event) => (event.type === 'audio' ? [event.data] : []));
}

describe('speaking a stored reply', () => {
  let emulator: OpenAICompatibleEmulator;
  let app: TestServer;
  let token: string;
  const spoken: string[] = [];

  before(async () => {
    emulator = await startEmulator({ scenario: { content: REPLY } });
    app = await startTestServer({ upstream: emulator, ttsProvider: recordingProvider(spoken), env: { VOICE_STALL_FLUSH_MS: '0', VOICE_NAMES: 'other-voice' } });
    token = await login(app.url, 'speaker');
  });
  after(async () => {
    await app.close();
    await emulator.close();
  });

  const storedReply = async (): Promise<{ messageId: string; conversationId: string }> => {
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '说点什么' }));
    assert.equal(answer.status, 200, answer.text);
    const { messageId, conversationId } = startOf(answer.text);
    await waitForStoredReply(app.url, token, conversationId);
    return { messageId, conversationId };
  };

  test('a reply from the history, sent without voice, is spoken: audio events in order, then one done', async () => {
    const { messageId, conversationId } = await storedReply();
    const detail = await getConversation(app.url, token, conversationId);
    assert.equal(detail.messages.find((message) => message.id === messageId)?.text, REPLY.join(''));
    spoken.length = 0;
    const answer = await speak(app.url, token, messageId);
    assert.equal(answer.status, 200, answer.text);
    assert.match(String(answer.headers['content-type']), /^text\/event-stream/);
    const events = parseReplyBody(answer.text).events;
    assert.deepEqual(events.map((event) => event.id), events.map((_, index) => index + 1));
    assert.deepEqual(events.at(-1), { id: events.length, type: 'done', data: { finishReason: 'stop' } });
    const audio = audioOf(events);
    assert.ok(audio.length >= 1);
    assert.deepEqual(audio.map((segment) => segment.index), audio.map((_, index) => index));
    assert.equal(spoken.join('').replace(/\s+/g, ''), REPLY.join('').replace(/\s+/g, ''), 'the stored text, all of it');
    for (const segment of audio) {
      assert.ok(!isSkippedAudio(segment));
      assert.match(segment.url, /^\/api\/audio\/[^?]+\?exp=\d+&sig=/, 'a signed link, like live voice');
      const played = await send(app.url, segment.url);
      assert.equal(played.status, 200);
      assert.equal(played.headers['content-type'], 'audio/mpeg');
    }
  });

  test('a voice the provider offers can be asked for; a malformed one or one it does not offer is 400 invalid_voice', async () => {
    const { messageId } = await storedReply();
    assert.equal((await speak(app.url, token, messageId, { voiceName: 'other-voice' })).status, 200);
    for (const voiceName of ['no spaces', '..', '-h', 'not-offered']) {
      const refused = await speak(app.url, token, messageId, { voiceName });
      assert.equal(refused.status, 400, voiceName);
      assert.equal((refused.json() as { error: { code: string } }).error.code, 'invalid_voice', voiceName);
    }
  });

  test("only the caller's own assistant messages: a user message, someone else's reply, an unknown id are 404", async () => {
    const { messageId, conversationId } = await storedReply();
    const detail = await getConversation(app.url, token, conversationId);
    const question = detail.messages.find((message) => message.role === 'user');
    assert.ok(question !== undefined);
    assert.equal((await speak(app.url, token, question.id)).status, 404);
    const stranger = await login(app.url, 'stranger');
    assert.equal((await speak(app.url, stranger, messageId)).status, 404);
    assert.equal((await speak(app.url, token, 'no-such-message')).status, 404);
    assert.equal((await send(app.url, `/api/messages/${messageId}/speech`, { method: 'POST' })).status, 401);
  });
});

test('with voice off the speech route answers 503 tts_unavailable', async () => {
  const emulator = await startEmulator({ scenario: { content: ['好'] } });
  const app = await startTestServer({ upstream: emulator, env: { VOICE_PROVIDER: 'off' } });
  try {
    const token = await login(app.url);
    const answer = await send(app.url, '/api/chat', chatRequest(token, { message: '嗨' }));
    const { messageId, conversationId } = startOf(answer.text);
    await waitForStoredReply(app.url, token, conversationId);
    const spoken = await speak(app.url, token, messageId);
    assert.equal(spoken.status, 503);
    assert.match(spoken.text, /tts_unavailable/);
  } finally {
    await app.close();
    await emulator.close();
  }
});
