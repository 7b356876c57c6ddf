import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { parseErrorBody, ROUTES, type TranscriptionResponse } from '@wxstream/protocol';
import { systemClock } from '../src/clock.ts';
import { findProgram } from '../src/process/programs.ts';
import { createPocketsphinxTranscriber, joinUtterances, POCKETSPHINX_PROGRAM } from '../src/transcription/pocketsphinx-transcriber.ts';
import { TranscriptionError } from '../src/transcription/transcriber.ts';
import { silentMp3 } from './support/fake-youdao-server.ts';
import { login, send } from './support/http-client.ts';
import { silentWav, speechProgramsMissing, spokenMp3, uploadRequest, wordErrorRate } from './support/recordings.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

const SENTENCES = [
  'The weather is nice today.',
  'How far is the moon from the earth?',
  'Please tell me a short story about a cat.',
  'Can you recommend a good book to read?',
  'What is the capital of France?',
];

const missing = [...speechProgramsMissing(), ...['pocketsphinx_continuous', 'sox'].filter((name) => findProgram(name, process.env.PATH) === undefined)];
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (bash scripts/system-packages.sh)` : false;

async function leftoverWorkDirectories(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('wxstream-stt-'));
}

describe('offline voice input: espeak-ng speaks, pocketsphinx listens', { skip }, () => {
  let app: TestServer;
  let token: string;
  before(async () => {
    app = await startTestServer({ upstream: 'offline', env: { STT_PROVIDER: 'pocketsphinx' } });
    token = await login(app.url, 'listener');
  });
  after(() => app.close());

  test('the start-up log says voice input is English only', () => {
    const line = app.logs.find((record) => record.voiceInput === 'pocketsphinx');
    assert.ok(line, 'a start-up line');
    assert.match(line.msg ?? '', /ENGLISH ONLY/);
    assert.equal(line.languages, 'en');
  });

  test('clear English speech as the recorder sends it (16 kHz mono 48 kbit/s MP3) comes back with WER ≤ 50 %', async () => {
    const before = await leftoverWorkDirectories();
    const rates: number[] = [];
    for (const sentence of SENTENCES) {
      const mp3 = spokenMp3(sentence);
      assert.ok(mp3 !== undefined);
      const answer = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'tmp.mp3', contentType: 'audio/mpeg', value: mp3 }]));
      assert.equal(answer.status, 200, answer.text);
      const body = answer.json() as TranscriptionResponse;
      assert.equal(body.language, 'en');
      assert.ok((body.durationMs ?? 0) > 1000, 'the duration is read from the MP3');
      const wer = wordErrorRate(sentence, body.text);
      rates.push(wer);
      console.log(`# WER ${wer.toFixed(2)}  "${sentence}" → "${body.text}"`);
    }
    const mean = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
    console.log(`# mean WER over ${rates.length} sentences: ${mean.toFixed(2)}`);
    assert.ok(mean <= 0.5, `mean WER ${mean.toFixed(2)}`);
    assert.deepEqual(await leftoverWorkDirectories(), before, 'no working files are left behind');
  });

  test('silence is no_speech', async () => {
    const answer = await send(app.url, ROUTES.transcriptions, uploadRequest(token, [{ name: 'file', filename: 'q.wav', value: silentWav(1500) }]));
    assert.equal(answer.status, 422, answer.text);
    assert.equal(parseErrorBody(answer.json())?.code, 'no_speech');
  });

  test('a language other than English is refused with language_unsupported', async () => {
    const answer = await send(
      app.url,
      ROUTES.transcriptions,
      uploadRequest(token, [
        { name: 'language', value: 'zh' },
        { name: 'file', filename: 'q.mp3', value: silentMp3(20) },
      ]),
    );
    assert.equal(answer.status, 400);
    assert.equal(parseErrorBody(answer.json())?.code, 'language_unsupported');
  });
});

describe('the pocketsphinx transcriber on its own', { skip }, () => {
  test('an abort stops the pipeline and leaves no working files', async () => {
    const transcriber = createPocketsphinxTranscriber({ pathEnv: process.env.PATH, timeoutMs: 60_000, clock: systemClock });
    const mp3 = spokenMp3(SENTENCES.join(' '));
    assert.ok(mp3 !== undefined);
    const before = await leftoverWorkDirectories();
    const controller = new AbortController();
    const reason = new Error('client left');
    const pending = transcriber.transcribe({ audio: mp3, format: 'mp3', sampleRate: 16000, durationMs: 9000, language: undefined, signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
    assert.deepEqual(await leftoverWorkDirectories(), before);
  });
});

describe('pocketsphinx pieces that need no programs', () => {
  test('utterance lines join into one text', () => {
    assert.equal(joinUtterances('hello world\n\nhow are you\n'), 'hello world how are you');
    assert.equal(joinUtterances('\n \n'), '');
  });

  test('missing programs make it unavailable with what to install', async () => {
    const transcriber = createPocketsphinxTranscriber({ pathEnv: '/nonexistent', timeoutMs: 1000, clock: systemClock });
    assert.match(transcriber.unavailableReason ?? '', new RegExp(`${POCKETSPHINX_PROGRAM}.*apt-get install -y pocketsphinx pocketsphinx-en-us`));
    await assert.rejects(
      transcriber.transcribe({ audio: silentWav(100), format: 'wav', sampleRate: 16000, durationMs: 100, language: undefined }),
      (error) => error instanceof TranscriptionError && error.code === 'stt_unavailable',
    );
  });
});
