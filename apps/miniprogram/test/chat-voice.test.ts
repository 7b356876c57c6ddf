/**
 * Spoken replies on the chat page, in miniprogram-simulate with the fake `wx`: the voice toggle and its
 * storage, segments played through (fake) InnerAudioContexts as their `audio` events arrive in the
 * byte-split stream, 重播, 停止 and 停止朗读, failures that skip, the voice-off notice, hiding and leaving.
 */
import assert from 'node:assert/strict';
import { expect, jest, test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { userMessageFor } from '@wxstream/protocol';
import { ChatPage, type ChatPageOptions } from './support/chat-page.ts';
import type { FakeRequestTask } from './support/fake-wx.ts';
import { audioSegment, byteChunks, replyEvents, sseText, utf8, type ReplyScript } from './support/sse-stream.ts';
import { sentBody } from './support/chat-body.ts';

const SERVER = 'http://127.0.0.1:3000';
const REPLY = '第一句话，先读这一段。\n\n第二段接着读，🎧 表情不影响。\n\n最后一段，读完结束。';
const SPOKEN: ReplyScript = { text: REPLY, deltas: 24, voice: true, audio: [audioSegment(0), audioSegment(1), audioSegment(2)] };

function openPage(options?: ChatPageOptions): ChatPage {
  const page = new ChatPage(options);
  afterThisTest(() => page.close());
  return page;
}

function chunksOf(script: ReplyScript): ArrayBuffer[] {
  return byteChunks(utf8(sseText(replyEvents(script), { heartbeatEvery: 9 })));
}

async function streamReply(page: ChatPage, task: FakeRequestTask, script: ReplyScript): Promise<void> {
  task.respond(200);
  await page.feed(task, chunksOf(script));
  task.succeed();
  await page.advance(3000);
}

/** The segment index an audio context was given (the fake server's URLs end their path in seg-N). */
function segmentOf(src: string): number {
  return Number(/\/api\/audio\/seg-(\d+)\?/.exec(src)?.[1] ?? Number.NaN);
}

/** Segments in the order their contexts were told to play (each context plays one segment, once). */
function playedSegments(page: ChatPage): number[] {
  return page.wx.audio.all.filter((context) => context.playCalls > 0).map((context) => segmentOf(context.src));
}

async function withVoiceOn(page: ChatPage): Promise<void> {
  await page.tap('.voice-toggle');
  assert.equal(page.text('.voice-toggle'), '朗读：开');
}

/** Turns voice on, sends `message` and streams the first half of the SPOKEN reply; returns the rest. */
async function startSpokenReply(page: ChatPage, message: string): Promise<{ task: FakeRequestTask; rest: ArrayBuffer[] }> {
  await withVoiceOn(page);
  await page.send(message);
  const task = page.wx.lastTask();
  const chunks = chunksOf(SPOKEN);
  task.respond(200);
  await page.feed(task, chunks.slice(0, chunks.length >> 1));
  return { task, rest: chunks.slice(chunks.length >> 1) };
}

/** The setData keys that set a reply's read-aloud control, with their values, in order. */
function audioControlChanges(page: ChatPage): string[] {
  return page.calls.flatMap((call) => Object.entries(call.data).filter(([key]) => /\.audio$/.test(key)).map(([key, value]) => `${key}=${String(value)}`));
}

test('voice is off at first; turned on, messages ask for it, and the choice survives a restart', async () => {
  const page = openPage();
  assert.equal(page.text('.voice-toggle'), '朗读：关');
  await page.send('不朗读');
  assert.deepEqual(sentBody(page.wx.lastTask()), { message: '不朗读' });
  await streamReply(page, page.wx.lastTask(), { text: '好的。' });

  await withVoiceOn(page);
  assert.equal(page.wx.storage.get('wxstream.voice'), true);
  await page.send('请朗读');
  assert.deepEqual(sentBody(page.wx.lastTask()), { message: '请朗读', conversationId: 'c-1', voice: true });
  await streamReply(page, page.wx.lastTask(), { text: '好的。', voice: true });
  page.close();

  const restarted = openPage({ wx: page.wx });
  assert.equal(restarted.text('.voice-toggle'), '朗读：开', 'read back from storage');
  await restarted.tap('.voice-toggle');
  assert.equal(restarted.wx.storage.get('wxstream.voice'), false);
});

test('spoken segments play in index order as their events arrive, each next one loaded ahead, with the audio options set once', async () => {
  const page = openPage();
  const { task, rest } = await startSpokenReply(page, '读给我听');

  assert.equal(page.wx.innerAudioOptions.length, 1);
  assert.deepEqual(page.wx.innerAudioOptions[0], { obeyMuteSwitch: false, mixWithOther: false });
  const first = page.wx.audio.current();
  assert.equal(first.src, `${SERVER}/api/audio/seg-0?exp=1767225600&sig=abc0`, 'resolved against the server URL');
  assert.ok(page.replyText().length < REPLY.length, 'reading starts while the text is still typing');

  await page.feed(task, rest);
  task.succeed();
  await page.advance(3000);
  assert.equal(page.replyText(), REPLY);
  const ahead = page.wx.audio.all[1];
  assert.equal(segmentOf(ahead?.src ?? ''), 1, 'segment 1 has its src set while segment 0 plays');
  assert.equal(ahead?.playCalls, 0);
  assert.equal(page.exists('.audio-stop'), true, 'the text is done, the reading is not: 停止朗读');

  first.canplay();
  first.end();
  assert.equal(page.wx.audio.current(), ahead, 'the loaded-ahead context plays next');
  page.wx.audio.current().end();
  page.wx.audio.current().end();
  await page.advance(100);
  assert.deepEqual(playedSegments(page), [0, 1, 2]);
  assert.equal(page.wx.audio.alive().length, 0, 'every finished context is destroyed');
  assert.equal(page.exists('.audio-stop'), false);
  assert.equal(page.exists('.replay'), true);
  assert.deepEqual(audioControlChanges(page), ['messages[1].audio=playing', 'messages[1].audio=played'], 'setData on the edges only');
  assert.equal(page.wx.innerAudioOptions.length, 1, 'set once, not per context');
});

test('重播 reads a finished reply again from its first segment', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('读一遍');
  await streamReply(page, page.wx.lastTask(), SPOKEN);
  for (let n = 0; n < 3; n++) page.wx.audio.current().end();
  await page.advance(100);
  await page.tap('.replay');
  assert.equal(segmentOf(page.wx.audio.current().src), 0);
  assert.equal(page.exists('.audio-stop'), true);
  for (let n = 0; n < 3; n++) page.wx.audio.current().end();
  await page.advance(100);
  assert.deepEqual(playedSegments(page), [0, 1, 2, 0, 1, 2]);
  assert.equal(page.exists('.replay'), true);
  assert.equal(page.wx.chatTasks.length, 1, 'a replay asks the server for nothing');
});

test('停止 silences the audio with the text, and segments that arrive later are not played', async () => {
  const page = openPage();
  const { task, rest } = await startSpokenReply(page, '停下');
  const playing = page.wx.audio.current();
  await page.tap('.stop');
  await page.advance(200);
  assert.equal(playing.stopCalls, 1, 'silenced at once');
  assert.equal(page.wx.audio.alive().length, 0);
  assert.equal(page.statusText().startsWith('已停止'), true);
  const contexts = page.wx.audio.all.length;
  await page.feed(task, rest);
  await page.advance(3000);
  assert.equal(page.wx.audio.all.length, contexts, 'late segments get no player');
});

test('停止朗读 silences only the audio of a reply whose text is complete', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('读长一点');
  await streamReply(page, page.wx.lastTask(), SPOKEN);
  const playing = page.wx.audio.current();
  await page.tap('.audio-stop');
  assert.equal(playing.stopCalls, 1);
  assert.equal(page.wx.audio.alive().length, 0);
  assert.equal(page.replyText(), REPLY);
  assert.equal(page.exists('.replay'), true, 'it can still be read again');
});

test('a segment that fails to play, or was skipped by the server, is passed over and the text is untouched', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('有一段坏了');
  const script: ReplyScript = {
    ...SPOKEN,
    audio: [audioSegment(0), { index: 1, skipped: true, code: 'tts_failed' }, audioSegment(2), audioSegment(3)],
  };
  await streamReply(page, page.wx.lastTask(), script);
  assert.equal(page.replyText(), REPLY);
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  page.wx.audio.current().fail(10004, 'format error');
  expect(warn.mock.calls).toEqual([['wxstream: spoken segment 0 skipped (10004 format error)']]); // the developer console says why, once
  assert.equal(segmentOf(page.wx.audio.current().src), 2, 'segment 1 was skipped by the server, segment 0 failed');
  page.wx.audio.current().end();
  page.wx.audio.current().end();
  await page.advance(100);
  assert.deepEqual(playedSegments(page), [0, 2, 3]);
  assert.equal(page.statusText().includes(userMessageFor('audio_playback_failed')), false, 'no error line for audio');
  assert.equal(page.exists('.replay'), true);
});

test('a server with voice off says so once, not on every reply', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('第一问');
  await streamReply(page, page.wx.lastTask(), { text: '第一答', voice: false });
  assert.deepEqual(page.wx.toasts, [userMessageFor('tts_unavailable')]);
  await page.send('第二问');
  await streamReply(page, page.wx.lastTask(), { text: '第二答', voice: false });
  assert.equal(page.wx.toasts.length, 1);
  assert.equal(page.exists('.replay'), false, 'nothing was spoken');
  assert.equal(page.wx.audio.all.length, 0);

  // Turned off and on again: the user asks anew, so the answer is worth saying again.
  await page.tap('.voice-toggle');
  await page.tap('.voice-toggle');
  await page.send('第三问');
  await streamReply(page, page.wx.lastTask(), { text: '第三答', voice: false });
  assert.equal(page.wx.toasts.length, 2);
});

test('hiding the page stops the reading without a setData while hidden; shown again, the reply offers 重播', async () => {
  const page = openPage();
  const { task, rest } = await startSpokenReply(page, '后台');
  const playing = page.wx.audio.current();
  page.hide();
  assert.equal(playing.stopCalls, 1, 'InnerAudioContext would play on behind another page or app');
  assert.equal(page.wx.audio.alive().length, 0);
  const calls = page.calls.length;
  await page.feed(task, rest);
  task.succeed();
  await page.advance(3000);
  assert.equal(page.calls.length, calls, 'no setData while hidden');
  assert.equal(page.wx.audio.alive().length, 0, 'segments arriving while hidden are not played');
  page.show();
  await page.advance(100);
  assert.equal(page.replyText(), REPLY);
  assert.equal(page.exists('.replay'), true);
});

test('turning voice off while a reply is read silences it', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('关掉');
  await streamReply(page, page.wx.lastTask(), SPOKEN);
  const playing = page.wx.audio.current();
  await page.tap('.voice-toggle');
  assert.equal(page.text('.voice-toggle'), '朗读：关');
  assert.equal(playing.stopCalls, 1);
  assert.equal(page.wx.audio.alive().length, 0);
});

test('a new message stops the previous reply’s reading, and only the latest reply offers 重播', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('第一问');
  await streamReply(page, page.wx.lastTask(), SPOKEN);
  const playing = page.wx.audio.current();
  await page.send('第二问');
  assert.equal(playing.destroyed, true);
  assert.equal(page.data.messages instanceof Array && (page.data.messages[1] as { audio: string }).audio, '', 'the old bubble offers nothing');
  await streamReply(page, page.wx.lastTask(), { ...SPOKEN, audio: [audioSegment(0)] });
  page.wx.audio.current().end();
  await page.advance(100);
  assert.equal(page.findAll('.replay').length, 1);
});

test('leaving the page destroys every audio context it made and leaves no timer behind', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('离开');
  const task = page.wx.lastTask();
  task.respond(200);
  await page.feed(task, chunksOf(SPOKEN).slice(0, 60));
  assert.ok(page.wx.audio.alive().length > 0, 'playing and loading ahead');
  page.detach();
  assert.equal(page.wx.audio.alive().length, 0);
  assert.equal(page.timers.pending(), 0);
});

test('a reply resumed after a broken connection reads each segment once, in order', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('断线也要读完');
  const events = replyEvents(SPOKEN);
  const cut = events.findIndex((event) => event.type === 'audio' && event.data.index === 1) + 1;
  const first = page.wx.lastTask();
  first.respond(200);
  await page.feed(first, byteChunks(utf8(sseText(events.slice(0, cut)))));
  first.failNetwork();
  await page.advance(1000);
  const resumed = page.wx.lastTask();
  assert.notEqual(resumed, first);
  assert.equal(new URL(resumed.options.url).searchParams.get('lastEventId'), String(cut));
  resumed.respond(200);
  await page.feed(resumed, byteChunks(utf8(sseText(events.slice(cut)))));
  resumed.succeed();
  await page.advance(3000);
  for (let n = 0; n < 3; n++) page.wx.audio.current().end();
  await page.advance(100);
  assert.deepEqual(playedSegments(page), [0, 1, 2]);
  assert.equal(page.replyText(), REPLY);
});

test('a reply the content check stops is silenced at once and offers no 重播', async () => {
  const page = openPage();
  await withVoiceOn(page);
  await page.send('读给我听');
  const task = page.wx.lastTask();
  const events = replyEvents({
    ...SPOKEN,
    audio: [audioSegment(0), audioSegment(1)],
    error: { code: 'content_blocked', message: 'blocked by the content check', retryable: false },
  });
  task.respond(200);
  // Everything but the ending, so reading starts (the audio options are set first, asynchronously)…
  await page.feed(task, byteChunks(utf8(sseText(events.slice(0, -1)))));
  await page.advance(100);
  const contexts = page.wx.audio.all;
  assert.ok(contexts.length > 0, 'reading had started');
  // …then the content check's verdict.
  await page.feed(task, byteChunks(utf8(sseText(events.slice(-1)))));
  task.succeed();
  await page.advance(3000);
  assert.equal(page.wx.audio.alive().length, 0, 'every context stopped and destroyed');
  assert.equal(page.exists('.audio-stop'), false);
  assert.equal(page.exists('.replay'), false, 'nothing to read again');
});
