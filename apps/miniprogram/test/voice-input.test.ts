/**
 * 按住 说话 on the chat page, in miniprogram-simulate with the fake `wx`: the keyboard / voice toggle and
 * its storage, hold → record → release → upload → the transcript sent as the user's message with a
 * spoken reply, slide up to cancel, too short, the limit, barge-in on a reply being read, a refused
 * microphone (with the way to the settings page), and failures that say what happened and keep the
 * recording for 重试.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { userMessageFor } from '@wxstream/protocol';
import { afterThisTest } from './support/after-this-test.ts';
import { ChatPage, settle, type ChatPageOptions, type SimNode } from './support/chat-page.ts';
import { audioSegment, byteChunks, replyEvents, sseText, utf8 } from './support/sse-stream.ts';
import { mp3Frame } from './support/mp3-frames.ts';

const SERVER = 'http://127.0.0.1:3000';

function openPage(options?: ChatPageOptions): ChatPage {
  const page = new ChatPage(options);
  afterThisTest(() => page.close());
  return page;
}

function holdButton(page: ChatPage): SimNode {
  const node = page.find('.voice-input')?.querySelector('.hold');
  if (!node) throw new Error('the voice button is not shown');
  return node;
}

function inVoice(page: ChatPage, selector: string): SimNode | undefined {
  return page.find('.voice-input')?.querySelector(selector);
}

async function touch(page: ChatPage, name: 'touchstart' | 'touchmove' | 'touchend' | 'touchcancel', y = 600): Promise<void> {
  holdButton(page).dispatchEvent(name, name === 'touchend' || name === 'touchcancel' ? { changedTouches: [{ x: 100, y }] } : { touches: [{ x: 100, y }], changedTouches: [{ x: 100, y }] });
  await settle();
}

/** Voice mode on, finger down, the recorder started. */
async function pressAndRecord(page: ChatPage): Promise<void> {
  if (!page.exists('.voice-input')) await page.tap('.input-mode');
  await touch(page, 'touchstart');
  page.wx.voiceInput.recorder.began();
  await settle();
}

/** The last chat request's body, without its requestId (a fresh random one per message; checked to be there). */
function chatBody(page: ChatPage): unknown {
  const { requestId, ...body } = JSON.parse(String(page.wx.lastTask().options.data)) as { requestId?: unknown };
  assert.equal(typeof requestId, 'string');
  return body;
}

test('the composer switches between keyboard and 按住 说话, and remembers the choice', async () => {
  const page = openPage();
  assert.ok(page.exists('.input') && !page.exists('.voice-input'), 'the keyboard first');
  await page.tap('.input-mode');
  assert.ok(page.exists('.voice-input') && !page.exists('.input') && !page.exists('.send'));
  assert.equal(holdButton(page).dom.textContent?.trim(), '按住 说话');
  assert.equal(page.wx.storage.get('wxstream.inputMode'), 'voice');
  page.close();
  const again = openPage({ wx: page.wx });
  assert.ok(again.exists('.voice-input'), 'voice mode after a restart');
  await again.tap('.input-mode');
  assert.ok(again.exists('.input'));
  assert.equal(again.wx.storage.get('wxstream.inputMode'), 'keyboard');
});

test('hold, speak, release: the recording is uploaded and its words are sent as the message, asking for a spoken reply', async () => {
  const page = openPage();
  await pressAndRecord(page);
  const recorder = page.wx.voiceInput.recorder;
  assert.deepEqual(recorder.startCalls, [{ sampleRate: 16000, numberOfChannels: 1, encodeBitRate: 48000, format: 'mp3', frameSize: 1, duration: 60000 }]);
  assert.equal(holdButton(page).dom.textContent?.trim(), '松开 发送');
  assert.equal(inVoice(page, '.overlay-hint')?.dom.textContent, '松开 发送，上滑 取消');

  page.wx.voiceInput.uploadAnswers.push({ statusCode: 200, data: { text: '今天天气怎么样', durationMs: 2000 } });
  await touch(page, 'touchend');
  assert.equal(recorder.stopCalls, 1);
  const upload = page.wx.voiceInput.uploads[0];
  assert.equal(upload?.url, `${SERVER}/api/transcriptions`);
  assert.equal(upload?.name, 'file');
  assert.match(upload?.filePath ?? '', /recording-1\.mp3$/);
  assert.match(upload?.header?.Authorization ?? '', /^Bearer token-/);
  await settle();

  assert.deepEqual(chatBody(page), { message: '今天天气怎么样', voice: true });
  const bubbles = page.findAll('.bubble-user');
  assert.equal(bubbles[bubbles.length - 1]?.dom.textContent?.trim(), '今天天气怎么样');
  assert.equal(page.text('.toolbar .voice-toggle'), '朗读：关', 'the spoken reply does not turn the toggle on');
});

test('a spoken message is answered aloud even with 朗读 off', async () => {
  const page = openPage();
  await pressAndRecord(page);
  await touch(page, 'touchend');
  await settle();
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, byteChunks(utf8(sseText(replyEvents({ text: '晴天。', voice: true, audio: [audioSegment(0)] })))));
  task.succeed();
  await page.advance(500);
  assert.ok(page.wx.audio.all.some((context) => context.playCalls > 0), 'the reply is read');
});

test('slide up to cancel: the hint turns to 松开手指，取消发送, and releasing there sends nothing', async () => {
  const page = openPage();
  await pressAndRecord(page);
  await touch(page, 'touchmove', 560);
  assert.equal(inVoice(page, '.overlay-hint')?.dom.textContent, '松开 发送，上滑 取消', 'a small move is not a cancel');
  await touch(page, 'touchmove', 480);
  assert.equal(inVoice(page, '.overlay-hint')?.dom.textContent, '松开手指，取消发送');
  assert.ok(inVoice(page, '.overlay-cancelling'));
  await touch(page, 'touchend', 480);
  await settle();
  assert.equal(page.wx.voiceInput.recorder.stopCalls, 1);
  assert.equal(page.wx.voiceInput.uploads.length, 0);
  assert.equal(page.wx.chatTasks.length, 0);
  assert.ok(!inVoice(page, '.overlay'), 'back to 按住 说话');
});

test('sliding back down before releasing sends after all', async () => {
  const page = openPage();
  await pressAndRecord(page);
  await touch(page, 'touchmove', 400);
  await touch(page, 'touchmove', 590);
  await touch(page, 'touchend', 590);
  await settle();
  assert.equal(page.wx.voiceInput.uploads.length, 1);
});

test('under half a second is too short: it says so and sends nothing', async () => {
  const page = openPage();
  await pressAndRecord(page);
  page.wx.voiceInput.recorder.nextDurationMs = 300;
  await touch(page, 'touchend');
  await settle();
  assert.deepEqual(page.wx.toasts, [userMessageFor('recording_too_short')]);
  assert.equal(page.wx.voiceInput.uploads.length, 0);
});

test('at the limit the recorder stops by itself and the recording is sent; the later release does nothing', async () => {
  const page = openPage();
  await pressAndRecord(page);
  await page.advance(51_000, 1000);
  assert.equal(inVoice(page, '.countdown')?.dom.textContent, '还可以说 9 秒');
  page.wx.voiceInput.recorder.finish(60_000);
  await settle();
  assert.equal(page.wx.voiceInput.uploads.length, 1);
  await touch(page, 'touchend');
  await settle();
  assert.equal(page.wx.voiceInput.recorder.stopCalls, 0, 'nothing left to stop');
  assert.equal(page.wx.voiceInput.uploads.length, 1);
  assert.equal(page.wx.chatTasks.length, 1);
});

test('the level meter follows the voice in the recorded frames', async () => {
  const page = openPage();
  await pressAndRecord(page);
  const lit = () => (page.find('.voice-input')?.querySelectorAll('.bar-on') ?? []).length;
  assert.equal(lit(), 0);
  page.wx.voiceInput.recorder.frame(mp3Frame({ globalGain: 180 }));
  await settle();
  assert.equal(lit(), 4, 'loud');
  page.wx.voiceInput.recorder.frame(mp3Frame({ globalGain: 145 }));
  await settle();
  assert.equal(lit(), 1, 'softer');
  page.wx.voiceInput.recorder.frame(mp3Frame({ globalGain: 210, bits: 0 }));
  await settle();
  assert.equal(lit(), 0, 'silence');
});

test('barge-in: pressing to talk silences the reply being read and stops one still streaming', async () => {
  const page = openPage();
  await page.tap('.voice-toggle');
  await page.send('讲个故事');
  const task = page.wx.lastTask();
  task.respond(200);
  const chunks = byteChunks(utf8(sseText(replyEvents({ text: '从前有座山。山里有座庙。庙里有个老和尚。', deltas: 12, voice: true, audio: [audioSegment(0), audioSegment(1)] }))));
  await page.feed(task, chunks.slice(0, chunks.length - 3));
  const playing = page.wx.audio.all.find((context) => context.playCalls > 0);
  assert.ok(playing, 'a segment is being read');

  await page.tap('.input-mode');
  await touch(page, 'touchstart');
  assert.ok(playing.stopCalls > 0 || playing.destroyed, 'the reading stopped at once');
  assert.equal(task.aborted, true, 'the streaming reply was stopped');
  assert.equal(page.wx.stopRequests.length, 1, 'and the server told to stop it');
  page.wx.voiceInput.recorder.began();
  await page.advance(1500, 100);
  assert.equal(page.exists('.stop'), false, 'the stopped reply has settled while the user speaks');
  await touch(page, 'touchend');
  await settle();
  assert.deepEqual(chatBody(page), { message: '你好', conversationId: 'c-1', voice: true });
});

test('a refused microphone: it says why, and 去设置 opens the settings page', async () => {
  const page = openPage();
  page.wx.voiceInput.record = false;
  page.wx.modalAnswers.push({ confirm: true });
  await page.tap('.input-mode');
  await touch(page, 'touchstart');
  await settle();
  assert.equal(page.wx.voiceInput.recorder.startCalls.length, 0);
  assert.equal(page.wx.modals[0]?.confirmText, '去设置');
  assert.match(page.wx.modals[0]?.content ?? '', /麦克风/);
  assert.equal(page.wx.voiceInput.openSettingCalls, 1);
  assert.deepEqual(page.wx.toasts, [userMessageFor('record_permission_denied')]);
  await touch(page, 'touchend');
  assert.ok(!inVoice(page, '.overlay'));
});

test('asked for the first time: WeChat asks; refused, the same way to the settings; granted after release, press again', async () => {
  const refusing = openPage();
  refusing.wx.voiceInput.record = undefined;
  refusing.wx.voiceInput.authorizeAnswer = false;
  await refusing.tap('.input-mode');
  await touch(refusing, 'touchstart');
  await settle();
  assert.equal(refusing.wx.voiceInput.authorizeCalls, 1);
  assert.equal(refusing.wx.modals.length, 1);
  assert.equal(refusing.wx.voiceInput.recorder.startCalls.length, 0);
  refusing.close();

  const granting = openPage();
  granting.wx.voiceInput.record = undefined;
  await granting.tap('.input-mode');
  holdButton(granting).dispatchEvent('touchstart', { touches: [{ x: 0, y: 600 }] });
  holdButton(granting).dispatchEvent('touchend');
  await settle();
  assert.equal(granting.wx.voiceInput.recorder.startCalls.length, 0, 'the finger left during the dialog');
  assert.equal(holdButton(granting).dom.textContent?.trim(), '按住 说话');
  await pressAndRecord(granting);
  assert.equal(granting.wx.voiceInput.recorder.startCalls.length, 1);
});

test('a failed upload says so and keeps the recording: 重试 sends the same file again', async () => {
  const page = openPage();
  await pressAndRecord(page);
  page.wx.voiceInput.uploadAnswers.push({ network: 'uploadFile:fail timeout' });
  await touch(page, 'touchend');
  await settle();
  assert.deepEqual(page.wx.toasts, [userMessageFor('network_error')]);
  assert.equal(inVoice(page, '.failure-text')?.dom.textContent, userMessageFor('network_error'));
  assert.equal(page.wx.chatTasks.length, 0);

  const retry = inVoice(page, '.voice-retry');
  assert.ok(retry);
  retry.dispatchEvent('tap');
  await settle();
  await settle();
  const [first, second] = page.wx.voiceInput.uploads;
  assert.equal(second?.filePath, first?.filePath, 'the same recording');
  assert.deepEqual(chatBody(page), { message: '你好', voice: true });
  assert.ok(!inVoice(page, '.failure'));
});

test('silence: 没有听清 is said, nothing is sent and nothing kept', async () => {
  const page = openPage();
  await pressAndRecord(page);
  page.wx.voiceInput.uploadAnswers.push({ statusCode: 422, data: { error: { code: 'no_speech', message: 'No speech was heard', retryable: false } } });
  await touch(page, 'touchend');
  await settle();
  assert.deepEqual(page.wx.toasts, [userMessageFor('no_speech')]);
  assert.equal(page.wx.chatTasks.length, 0);
  assert.ok(!inVoice(page, '.failure'));
});

test('voice input unavailable on the server says so', async () => {
  const page = openPage();
  await pressAndRecord(page);
  page.wx.voiceInput.uploadAnswers.push({ statusCode: 503, data: { error: { code: 'stt_unavailable', message: 'off', retryable: false } } });
  await touch(page, 'touchend');
  await settle();
  assert.deepEqual(page.wx.toasts, [userMessageFor('stt_unavailable')]);
});

test('leaving the page while recording stops the recorder and sends nothing', async () => {
  const page = openPage();
  await pressAndRecord(page);
  // Held past the base library's own long-press timer, so what is left pending is ours.
  await page.advance(1000, 100);
  page.close();
  await settle();
  assert.equal(page.wx.voiceInput.recorder.stopCalls, 1);
  assert.equal(page.wx.voiceInput.uploads.length, 0);
  assert.equal(page.timers.pending(), 0, "no timer left behind");
});
