import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../src/clock.ts';
import { createOpenAISpeech } from '../src/voice/openai-speech.ts';
import { TtsError } from '../src/voice/voice-errors.ts';
import { SILENT_FRAME_MS, silentMp3 } from './support/fake-youdao-server.ts';

const API_KEY = 'sk-test-speech-key-0123456789abcdef';

interface SeenRequest {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

type Scenario = (response: ServerResponse) => void;

/** An OpenAI-compatible `/v1/audio/speech` on loopback; the scenario for each text decides the answer. */
describe('OpenAI-compatible speech through the SDK', () => {
  const seen: SeenRequest[] = [];
  const scenarios = new Map<string, Scenario>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      seen.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
      const scenario = scenarios.get(String(body.input));
      if (scenario !== undefined) {
        scenario(response);
        return;
      }
      const audio = silentMp3(String(body.input).length);
      response.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': audio.length });
      response.end(audio);
    });
  });
  let baseURL = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  const speech = (timeoutMs = 5000) => createOpenAISpeech({ apiKey: API_KEY, baseURL, model: 'tts-1', timeoutMs, clock: systemClock });

  async function failure(text: string, timeoutMs?: number): Promise<TtsError> {
    try {
      await speech(timeoutMs).synthesize({ text, voice: 'alloy' });
    } catch (error) {
      assert.ok(error instanceof TtsError, `expected a TtsError, got ${String(error)}`);
      return error;
    }
    assert.fail('expected a rejection');
  }

  function jsonError(status: number, message: string): Scenario {
    return (response) => {
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: { message, type: 'error' } }));
    };
  }

  test('asks for MP3 with the model, voice and text, and returns the audio with its duration', async () => {
    const result = await speech().synthesize({ text: 'Hello there, friend.', voice: 'nova' });
    assert.deepEqual(seen.at(-1), {
      path: '/v1/audio/speech',
      authorization: `Bearer ${API_KEY}`,
      body: { model: 'tts-1', voice: 'nova', input: 'Hello there, friend.', response_format: 'mp3' },
    });
    assert.equal(result.format, 'mp3');
    assert.deepEqual(result.audio, silentMp3('Hello there, friend.'.length));
    assert.equal(result.durationMs, Math.round('Hello there, friend.'.length * SILENT_FRAME_MS));
  });

  test('a refused key is tts_unavailable and the key never appears in the message', async () => {
    scenarios.set('auth', jsonError(401, `Incorrect API key provided: ${API_KEY}`));
    const error = await failure('auth');
    assert.equal(error.code, 'tts_unavailable');
    assert.equal(error.retryable, false);
    assert.ok(!error.message.includes(API_KEY), error.message);
  });

  test('rate limits and server errors are retryable failures; a bad request is not retryable', async () => {
    scenarios.set('busy', jsonError(429, 'slow down'));
    scenarios.set('broken', jsonError(500, 'boom'));
    scenarios.set('bad', jsonError(400, 'input too long'));
    assert.deepEqual(
      [await failure('busy'), await failure('broken'), await failure('bad')].map((error) => [error.code, error.retryable]),
      [
        ['tts_failed', true],
        ['tts_failed', true],
        ['tts_failed', false],
      ],
    );
  });

  test('an answer that is not audio is a failure', async () => {
    scenarios.set('html', (response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<html></html>');
    });
    assert.match((await failure('html')).message, /text\/html instead of audio/);
  });

  test('a body that stalls after the headers hits our own deadline', async () => {
    scenarios.set('stall', (response) => {
      response.writeHead(200, { 'Content-Type': 'audio/mpeg' });
      response.write(silentMp3(1));
    });
    const error = await failure('stall', 150);
    assert.equal(error.retryable, true);
    assert.match(error.message, /within 150 ms/);
  });

  test('aborting mid-request rejects with the abort reason', async () => {
    scenarios.set('slow', () => undefined);
    const controller = new AbortController();
    const reason = new Error('stopped by user');
    const pending = speech().synthesize({ text: 'slow', voice: 'alloy', signal: controller.signal });
    setTimeout(() => controller.abort(reason), 30);
    await assert.rejects(pending, (error) => error === reason);
  });
});
