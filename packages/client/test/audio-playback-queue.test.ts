/**
 * The audio playback queue over fake InnerAudioContext players on a fake clock: order, loading ahead,
 * skips, errors, stuck players, stop, replay, and that no player outlives its use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioData } from '@wxstream/protocol';
import { AudioPlaybackQueue, DEFAULT_AUDIO_LOAD_TIMEOUT_MS, resolveAudioUrl, type AudioPlayerError } from '../src/audio-playback-queue.ts';
import { FakeAudioPlayers } from './support/fake-audio-player.ts';
import { FakeClock } from './support/fake-clock.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

const BASE = 'https://chat.example.com';

function segment(index: number, durationMs?: number): AudioData {
  const data: AudioData = { index, url: `/api/audio/a${index}?exp=1&sig=s/${index}`, text: `第${index}段`, format: 'mp3' };
  if (durationMs !== undefined) data.durationMs = durationMs;
  return data;
}

function skipped(index: number): AudioData {
  return { index, skipped: true, code: 'tts_failed' };
}

function setup() {
  const clock = new FakeClock();
  const players = new FakeAudioPlayers();
  const edges: boolean[] = [];
  const errors: { index: number; error: AudioPlayerError }[] = [];
  const queue = new AudioPlaybackQueue({
    createPlayer: players.create,
    baseUrl: BASE,
    scheduler: clock,
    onActiveChange: (active) => edges.push(active),
    onSegmentError: (index, error) => errors.push({ index, error }),
  });
  /** Indexes in the order they were told to play. */
  const played = (): number[] =>
    players.log.filter((line) => line.startsWith('play ')).map((line) => Number(/#(\d+)/.exec(line)?.[1]))
      .map((id) => Number(/\/(\d+)$/.exec(players.all[id]?.src ?? '')?.[1]));
  return { clock, players, queue, edges, errors, played };
}

test('segments play strictly in index order, back to back, each only after the previous one ended', () => {
  const { players, queue, played } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  queue.push(segment(2));
  assert.deepEqual(played(), [0]);
  assert.equal(players.playing().length, 1);
  players.current().end();
  assert.deepEqual(played(), [0, 1], 'the next one starts in the same turn as the end');
  players.current().end();
  players.current().end();
  assert.deepEqual(played(), [0, 1, 2]);
  assert.equal(players.playing().length, 0);
});

test('a segment arriving while another plays waits its turn; one arriving while the queue waits starts at once', () => {
  const { players, queue, played } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  assert.deepEqual(played(), [0], 'segment 1 arrived before segment 0 ended: it waits');
  players.current().end();
  assert.deepEqual(played(), [0, 1]);
  players.current().end();
  assert.equal(players.playing().length, 0, 'waiting for the next segment');
  queue.push(segment(2));
  assert.deepEqual(played(), [0, 1, 2], 'started as soon as it arrived');
});

test('the next segment is loaded ahead: its src is set while the previous one plays, and it plays only after', () => {
  const { players, queue } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  const first = players.bySrc('/0');
  const second = players.bySrc('/1');
  assert.notEqual(first, second);
  assert.equal(second.src, `${BASE}/api/audio/a1?exp=1&sig=s/1`);
  assert.equal(second.playCalls, 0, 'loaded, not playing');
  second.canplay();
  first.end();
  assert.ok(players.log.indexOf(`src #${second.id} ${second.src}`) < players.log.indexOf(`destroy #${first.id}`), 'set ahead of the end');
  assert.equal(second.playCalls, 1);
  assert.equal(players.all.length, 2, 'the loaded player itself plays: no new player, no new download');
  assert.equal(first.destroyed, true);
});

test('a segment that arrives while the one before plays is loaded ahead at once', () => {
  const { players, queue } = setup();
  queue.push(segment(0));
  assert.equal(players.all.length, 1);
  queue.push(segment(1));
  assert.equal(players.all.length, 2, 'loaded the moment it arrived');
  assert.equal(players.bySrc('/1').playCalls, 0);
  queue.push(segment(2));
  assert.equal(players.all.length, 2, 'never more than one loaded ahead');
  players.current().end();
  assert.equal(players.all.length, 3, 'the one after is loaded when its predecessor starts');
  assert.equal(players.alive().length, 2);
});

test('a skipped segment is passed over without a player, also when it is the one after the playing one', () => {
  const { players, queue, played } = setup();
  queue.push(skipped(0));
  assert.equal(players.all.length, 0);
  queue.push(segment(1));
  queue.push(skipped(2));
  queue.push(segment(3));
  assert.deepEqual(played(), [1]);
  assert.equal(players.bySrc('/3').playCalls, 0, 'the next playable segment is the one loaded ahead');
  players.current().end();
  assert.deepEqual(played(), [1, 3]);
  assert.equal(players.all.length, 2);
});

test('a player error mid-play skips to the next segment and is reported', () => {
  const { players, queue, played, errors } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  queue.push(segment(2));
  players.current().canplay();
  players.current().fail(10003, 'file error');
  assert.deepEqual(played(), [0, 1]);
  assert.deepEqual(errors, [{ index: 0, error: { errCode: 10003, errMsg: 'file error' } }]);
  assert.equal(players.bySrc('/0').destroyed, true);
  players.current().end();
  assert.deepEqual(played(), [0, 1, 2]);
});

test('a segment whose player fails while loading ahead is skipped when its turn comes', () => {
  const { players, queue, played, errors } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  queue.push(segment(2));
  players.bySrc('/1').fail(10002, 'network error');
  assert.equal(players.bySrc('/1').destroyed, true, 'a failed player is destroyed at once');
  assert.deepEqual(errors.map((e) => e.index), [1]);
  players.current().end();
  assert.deepEqual(played(), [0, 2]);
  assert.equal(players.bySrc('/1').playCalls, 0);
});

test('a player that cannot be created skips its segment instead of stopping playback', () => {
  const { players, queue, played, errors } = setup();
  players.refuseNext = new Error('too many audio contexts');
  queue.push(segment(0));
  queue.push(segment(1));
  assert.deepEqual(played(), [1]);
  assert.match(errors[0]?.error.errMsg ?? '', /too many audio contexts/);
});

test('a player that never becomes playable, or never ends, is skipped after its deadline', () => {
  const { clock, players, queue, played, errors } = setup();
  queue.push(segment(0));
  queue.push(segment(1, 2000));
  clock.advance(DEFAULT_AUDIO_LOAD_TIMEOUT_MS - 1);
  assert.deepEqual(played(), [0]);
  clock.advance(1);
  assert.deepEqual(played(), [0, 1], 'segment 0 never loaded');
  assert.equal(players.bySrc('/0').stopCalls, 1);
  assert.equal(players.bySrc('/0').destroyed, true);
  players.current().canplay();
  clock.advance(2000 * 1.5 + 3000 - 1);
  assert.equal(players.bySrc('/1').playing, true, 'a slow segment is given well beyond its duration');
  clock.advance(1);
  assert.equal(players.playing().length, 0, 'segment 1 never ended');
  assert.deepEqual(errors.map((e) => e.index), [0, 1]);
  assert.equal(clock.pendingTimers, 0);
});

test('a segment that ends in time leaves no deadline timer behind', () => {
  const { clock, players, queue } = setup();
  queue.push(segment(0, 1000));
  players.current().canplay();
  assert.equal(clock.pendingTimers, 1);
  players.current().end();
  assert.equal(clock.pendingTimers, 0);
});

test('stop mid-segment silences at once, destroys both players and ignores segments that arrive later', () => {
  const { players, queue, edges } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  const playing = players.current();
  queue.stop();
  assert.equal(playing.stopCalls, 1, 'stopped, not only destroyed');
  assert.ok(players.log.indexOf(`stop #${playing.id}`) < players.log.indexOf(`destroy #${playing.id}`));
  assert.equal(players.alive().length, 0);
  assert.equal(queue.active, false);
  queue.push(segment(2));
  queue.push(segment(3));
  assert.equal(players.all.length, 2, 'no player for late segments');
  assert.equal(queue.length, 4, 'they are kept, for a replay');
  assert.deepEqual(edges, [true, false]);
});

test('replay plays a finished reply again from its first segment, skipping what was skipped', () => {
  const { players, queue, played, edges } = setup();
  queue.push(segment(0));
  queue.push(skipped(1));
  queue.push(segment(2));
  queue.finish();
  players.current().end();
  players.current().end();
  assert.equal(queue.active, false);
  assert.equal(queue.canReplay, true);
  assert.equal(queue.replay(), true);
  assert.deepEqual(played(), [0, 2, 0]);
  assert.equal(queue.active, true);
  players.current().end();
  players.current().end();
  assert.deepEqual(played(), [0, 2, 0, 2]);
  assert.deepEqual(edges, [true, false, true, false]);
  assert.equal(players.alive().length, 0);
});

test('replay after stop starts over, and a reply with only skipped segments has nothing to replay', () => {
  const stoppedQueue = setup();
  stoppedQueue.queue.push(segment(0));
  stoppedQueue.queue.push(segment(1));
  stoppedQueue.queue.stop();
  stoppedQueue.queue.push(segment(2));
  stoppedQueue.queue.finish();
  assert.equal(stoppedQueue.queue.canReplay, true);
  stoppedQueue.queue.replay();
  for (let n = 0; n < 3; n++) stoppedQueue.players.current().end();
  assert.deepEqual(stoppedQueue.played(), [0, 0, 1, 2]);

  const silent = setup();
  silent.queue.push(skipped(0));
  silent.queue.finish();
  assert.equal(silent.queue.canReplay, false);
  assert.equal(silent.queue.replay(), false);
  assert.deepEqual(silent.edges, []);
});

test('active changes only on its edges: the first segment played, the last one of a finished reply done, stop', () => {
  const { players, queue, edges } = setup();
  queue.push(segment(0));
  players.current().end();
  assert.deepEqual(edges, [true], 'waiting for the next segment of an unfinished reply is still active');
  queue.push(segment(1));
  queue.push(segment(2));
  players.current().end();
  queue.finish();
  assert.deepEqual(edges, [true], 'finished, but segment 2 still plays');
  players.current().end();
  assert.deepEqual(edges, [true, false]);
});

test('segments out of their place are ignored', () => {
  const { queue, played, players } = setup();
  queue.push(segment(1));
  assert.equal(queue.length, 0);
  queue.push(segment(0));
  queue.push(segment(0));
  assert.equal(queue.length, 1);
  players.current().end();
  assert.deepEqual(played(), [0]);
});

test('events from a player the queue is done with change nothing', () => {
  const { players, queue, played } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  queue.push(segment(2));
  const first = players.current();
  first.end();
  assert.equal(first.listenerCount, 0, 'its listeners were removed before it was destroyed');
  const second = players.current();
  second.fail();
  second.end();
  assert.deepEqual(played(), [0, 1, 2], 'the late end of a failed player does not skip segment 2');
});

test('dispose destroys every player, clears the deadline and silences every callback', () => {
  const { clock, players, queue, edges, errors } = setup();
  queue.push(segment(0));
  queue.push(segment(1));
  queue.dispose();
  assert.equal(players.alive().length, 0);
  assert.equal(clock.pendingTimers, 0);
  queue.push(segment(2));
  assert.equal(queue.replay(), false);
  queue.stop();
  clock.advance(1_000_000);
  assert.equal(players.all.length, 2);
  assert.deepEqual(edges, [true], 'no edge after dispose');
  assert.deepEqual(errors, []);
});

test('relative segment urls are resolved against the server base url; absolute ones are kept', () => {
  assert.equal(resolveAudioUrl('/api/audio/x?exp=1&sig=a', 'http://127.0.0.1:3000'), 'http://127.0.0.1:3000/api/audio/x?exp=1&sig=a');
  assert.equal(resolveAudioUrl('/api/audio/x', 'https://chat.example.com/'), 'https://chat.example.com/api/audio/x');
  assert.equal(resolveAudioUrl('/api/audio/x', 'https://example.com/wxstream'), 'https://example.com/wxstream/api/audio/x', 'like every route');
  assert.equal(resolveAudioUrl('api/audio/x', 'https://example.com'), 'https://example.com/api/audio/x');
  assert.equal(resolveAudioUrl('https://cdn.example.com/a.mp3', 'http://127.0.0.1:3000'), 'https://cdn.example.com/a.mp3');
  assert.equal(resolveAudioUrl('//cdn.example.com/a.mp3', 'https://chat.example.com'), 'https://cdn.example.com/a.mp3');
});

test('a random schedule of arrivals, ends, errors and stalls plays every playable segment once, in order, with at most two players', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const random = createSeededRandom(testSeed(0xa0d10 + seed));
    const { clock, players, queue, played, errors } = setup();
    const total = random.range(5, 30);
    const kinds: ('ok' | 'skip' | 'error' | 'stall')[] = [];
    let pushed = 0;
    for (let step = 0; step < 5_000 && (pushed < total || queue.active); step++) {
      if (pushed < total && random.chance(0.3)) {
        const kind = random.pick(['ok', 'ok', 'ok', 'ok', 'skip', 'error', 'stall'] as const);
        kinds.push(kind);
        queue.push(kind === 'skip' ? skipped(pushed) : segment(pushed, 1000));
        pushed++;
        if (pushed === total) queue.finish();
      }
      for (const player of players.alive()) {
        const index = Number(/\/(\d+)$/.exec(player.src)?.[1]);
        const kind = kinds[index];
        if (kind === 'stall') continue;
        if (random.chance(0.5)) player.canplay();
        if (!player.playing || !random.chance(0.3)) continue;
        if (kind === 'error') player.fail();
        else player.end();
      }
      assert.ok(players.alive().length <= 2, `seed ${seed}: ${players.alive().length} players alive`);
      assert.ok(players.playing().length <= 1, `seed ${seed}: two segments at once`);
      clock.advance(random.range(0, 300));
    }
    const playable = kinds.flatMap((kind, index) => (kind === 'skip' ? [] : [index]));
    assert.deepEqual(played(), playable, `seed ${seed}: each playable segment started once, in order`);
    assert.deepEqual(
      errors.map((e) => e.index),
      kinds.flatMap((kind, index) => (kind === 'error' || kind === 'stall' ? [index] : [])),
      `seed ${seed}: exactly the failing and stuck segments were reported`,
    );
    assert.equal(queue.active, false);
    assert.equal(players.alive().length, 0, `seed ${seed}: every player destroyed`);
    assert.equal(clock.pendingTimers, 0);
  }
});

test('an audio interruption mid-segment holds it where it is, and its end resumes the same segment from there', () => {
  const { clock, players } = setup();
  const pauses: boolean[] = [];
  const errors: number[] = [];
  const held = new AudioPlaybackQueue({
    createPlayer: players.create,
    baseUrl: BASE,
    scheduler: clock,
    onPauseChange: (paused) => pauses.push(paused),
    onSegmentError: (index) => errors.push(index),
  });
  held.push(segment(0, 4000));
  held.push(segment(1, 3000));
  const first = players.current();
  first.canplay();
  clock.advance(1500);
  first.advanceTo(1.5);
  assert.equal(held.pause(), true, 'a phone call begins');
  assert.equal(first.pauseCalls, 1);
  assert.equal(held.paused, true);
  // The call lasts far longer than the segment's deadline: before, the watchdog skipped the sentence.
  clock.advance(10 * 60_000);
  assert.equal(first.destroyed, false, 'the held segment is not skipped');
  assert.deepEqual(players.playing(), []);
  assert.equal(held.resume(), true, 'the call ended');
  assert.equal(first.playCalls, 2, 'the same player plays on from its position');
  assert.equal(players.current(), first);
  first.end();
  assert.equal(players.current().src.endsWith('/1'), true, 'then the next sentence');
  assert.deepEqual(pauses, [true, false]);
  assert.deepEqual(errors, []);
});

test('a segment whose player did not survive the interruption is loaded again from where it was held', () => {
  const { clock, players } = setup();
  const reported: number[] = [];
  const queue = new AudioPlaybackQueue({ createPlayer: players.create, baseUrl: BASE, scheduler: clock, onSegmentError: (index) => reported.push(index) });
  queue.push(segment(0, 4000));
  queue.push(segment(1, 3000));
  const first = players.current();
  first.canplay();
  first.advanceTo(2.25);
  queue.pause();
  queue.resume();
  first.fail(10001, 'system error: the audio session was taken');
  const again = players.current();
  assert.notEqual(again, first);
  assert.equal(again.src.endsWith('/0'), true, 'the same sentence, not the next one');
  assert.equal(again.startTime, 2.25, 'from where it was held');
  assert.ok(players.log.some((line) => line.endsWith('/0 from 2.25')));
  assert.deepEqual(reported, [], 'nothing was skipped');
  again.canplay();
  again.end();
  assert.equal(players.current().src.endsWith('/1'), true);
});

test('segments that arrive during an interruption wait for its end; stop ends the pause', () => {
  const { clock, players } = setup();
  const queue = new AudioPlaybackQueue({ createPlayer: players.create, baseUrl: BASE, scheduler: clock });
  queue.push(segment(0, 1000));
  const first = players.current();
  queue.pause();
  first.end();
  queue.push(segment(1, 1000));
  assert.deepEqual(players.playing(), [], 'nothing starts while the interruption lasts');
  queue.stop();
  assert.equal(queue.paused, false);
  assert.equal(queue.resume(), false);
});

test('prepare runs once and is awaited before the first segment plays', async () => {
  const { clock, players } = setup();
  const calls: string[] = [];
  let release: () => void = () => {};
  const queue = new AudioPlaybackQueue({
    createPlayer: players.create,
    baseUrl: BASE,
    scheduler: clock,
    prepare: () => {
      calls.push('prepare');
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  });
  queue.push(segment(0));
  queue.push(segment(1));
  assert.deepEqual(players.all.length, 0, 'no player before the options are set');
  release();
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(players.current().src.endsWith('/0'), true);
  players.current().end();
  queue.replay();
  assert.deepEqual(calls, ['prepare']);
});
