import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeBoundary } from '../src/grapheme-boundary.ts';
import { Typewriter, type TypewriterOptions } from '../src/typewriter.ts';
import { FakeClock } from './support/fake-clock.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';

interface Frame {
  at: number;
  visible: string;
  /** Everything pushed by the time of the frame. */
  received: string;
}

/** A typewriter on a fake clock that records every frame and every push (with its time). */
function setup(options: Partial<Pick<TypewriterOptions, 'frameIntervalMs' | 'charsPerSecond' | 'maxLagMs'>> = {}) {
  const clock = new FakeClock();
  const frames: Frame[] = [];
  const pushes: { at: number; end: number }[] = [];
  let received = '';
  const typewriter = new Typewriter({
    clock,
    scheduler: clock,
    onFrame: (visible) => frames.push({ at: clock.now(), visible, received }),
    ...options,
  });
  const push = (text: string): void => {
    received += text;
    pushes.push({ at: clock.now(), end: received.length });
    typewriter.push(text);
  };
  /** When the unit at `index` first became visible. */
  const revealedAt = (index: number): number => {
    const frame = frames.find((f) => f.visible.length > index);
    if (frame === undefined) throw new Error(`unit ${index} never revealed`);
    return frame.at;
  };
  const pushedAt = (index: number): number => {
    const push = pushes.find((p) => p.end > index);
    if (push === undefined) throw new Error(`unit ${index} never pushed`);
    return push.at;
  };
  return { clock, frames, typewriter, push, revealedAt, pushedAt, received: () => received };
}

function assertFrameInvariants(frames: readonly Frame[], intervalMs: number): void {
  for (let n = 0; n < frames.length; n++) {
    const frame = frames[n] as Frame;
    const previous = frames[n - 1];
    assert.ok(frame.received.startsWith(frame.visible), `frame ${n} shows text that was not received`);
    assert.equal(safeBoundary(frame.received, frame.visible.length), frame.visible.length, `frame ${n} cuts inside a grapheme`);
    if (previous !== undefined) {
      assert.ok(frame.at - previous.at >= intervalMs, `frames ${n - 1} and ${n} are ${frame.at - previous.at} ms apart`);
      assert.ok(frame.visible.length > previous.visible.length, `frame ${n} reveals nothing new`);
      assert.ok(frame.visible.startsWith(previous.visible), `frame ${n} rewrites revealed text`);
    }
  }
}

test('a slow steady stream is revealed almost as it arrives and the typewriter idles in between', () => {
  const { clock, frames, push, revealedAt, pushedAt, received } = setup();
  for (let n = 0; n < 40; n++) {
    push('慢');
    clock.advance(250);
    assert.equal(clock.pendingTimers, 0, `a timer ticks while caught up after push ${n}`);
  }
  assertFrameInvariants(frames, 50);
  for (let i = 0; i < received().length; i++) assert.ok(revealedAt(i) - pushedAt(i) <= 50, `unit ${i} waited`);
});

test('a short burst types out at the base pace, not at once', () => {
  const { clock, frames, typewriter, push } = setup({ charsPerSecond: 40 });
  push('这是一段二十个字的短回复，用来看打字速度。');
  clock.runUntilIdle();
  assertFrameInvariants(frames, 50);
  const total = typewriter.visible.length;
  assert.equal(total, 21);
  const first = frames[0] as Frame;
  const last = frames[frames.length - 1] as Frame;
  const seconds = (last.at - first.at) / 1000;
  // 21 units at 40/s take about half a second; one frame of slack either way.
  assert.ok(Math.abs(seconds - total / 40) <= 0.05 + 1e-9, `took ${seconds} s`);
  for (const frame of frames) assert.ok(frame.visible.length <= 3 + (frame.at * 40) / 1000, `frame at ${frame.at} runs ahead`);
});

test('a steady stream faster than the base pace is followed at its own rate within the lag bound', () => {
  const { clock, frames, push, revealedAt, pushedAt, received } = setup();
  for (let n = 0; n < 50; n++) {
    push('0123456789'); // 100 units per second in 10-unit pieces
    clock.advance(100);
  }
  clock.runUntilIdle();
  assertFrameInvariants(frames, 50);
  for (let i = 0; i < received().length; i++) {
    assert.ok(revealedAt(i) - pushedAt(i) <= 1000 + 50, `unit ${i} lagged ${revealedAt(i) - pushedAt(i)} ms`);
  }
  // Smooth: once under way, frames come every interval and none reveals a jump of many pieces.
  const steady = frames.filter((f) => f.at >= 1000 && f.at <= 4500);
  for (let n = 1; n < steady.length; n++) {
    const gap = (steady[n] as Frame).at - (steady[n - 1] as Frame).at;
    const step = (steady[n] as Frame).visible.length - (steady[n - 1] as Frame).visible.length;
    assert.equal(gap, 50, `frame gap ${gap} at ${(steady[n] as Frame).at}`);
    assert.ok(step >= 2 && step <= 12, `frame at ${(steady[n] as Frame).at} revealed ${step} units`);
  }
});

test('a 5,000-character burst is caught up within about one second, evenly', () => {
  const { clock, frames, typewriter, push } = setup();
  push('字'.repeat(5000));
  clock.runUntilIdle();
  assertFrameInvariants(frames, 50);
  assert.equal(typewriter.visible.length, 5000);
  const last = frames[frames.length - 1] as Frame;
  assert.ok(last.at <= 1000 + 50, `last frame at ${last.at}`);
  const fairShare = 5000 / (1000 / 50);
  for (let n = 0; n < frames.length; n++) {
    const step = (frames[n] as Frame).visible.length - (frames[n - 1]?.visible.length ?? 0);
    assert.ok(step <= fairShare * 1.5, `frame ${n} jumped ${step} units`);
  }
  const half = frames.find((f) => f.at >= 500) as Frame;
  assert.ok(half.visible.length > 2000 && half.visible.length < 3000, `${half.visible.length} shown at ${half.at} ms`);
  assert.equal(clock.pendingTimers, 0);
});

test('finish reveals everything in one final frame and leaves no timer', () => {
  const { clock, frames, typewriter, push } = setup();
  push('好'.repeat(600));
  clock.advance(120);
  const before = frames.length;
  assert.ok(typewriter.pending > 0);
  typewriter.finish();
  clock.advance(50);
  assert.equal(frames.length, before + 1, 'exactly one more frame');
  assert.equal(typewriter.visible, '好'.repeat(600));
  assert.equal(typewriter.pending, 0);
  assert.equal(clock.pendingTimers, 0);
  assertFrameInvariants(frames, 50);
});

test('finish right after a frame waits for the frame budget, then flushes', () => {
  const { clock, frames, typewriter, push } = setup();
  push('abcdefghij'.repeat(20));
  const afterFirst = frames.length;
  assert.equal(afterFirst, 1, 'the first push is shown at once');
  typewriter.finish();
  assert.equal(frames.length, afterFirst, 'no second frame within the interval');
  clock.advance(49);
  assert.equal(frames.length, afterFirst);
  clock.advance(1);
  assert.equal(frames.length, afterFirst + 1);
  assert.equal(typewriter.pending, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('text pushed after finish is revealed whole at the next allowed frame', () => {
  const { clock, frames, typewriter, push } = setup();
  typewriter.finish();
  push('尾巴'.repeat(100));
  assert.equal(typewriter.visible, '尾巴'.repeat(100));
  assert.equal(frames.length, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('no two frames come within the interval across a long random schedule with pauses', () => {
  const random = createSeededRandom(testSeed(0x7e57));
  const pieces = ['字', 'ab', '👨‍👩‍👧‍👦', '🇨🇳', '1️⃣', 'e\u0301', 'क्ष', '\n', '。', 'Hello '];
  for (const interval of [16, 50, 100]) {
    const { clock, frames, typewriter, push, received } = setup({ frameIntervalMs: interval, charsPerSecond: random.range(10, 80) });
    let paused = false;
    for (let step = 0; step < 600; step++) {
      const roll = random.next();
      if (roll < 0.55) {
        let text = '';
        const count = random.chance(0.05) ? random.range(50, 400) : random.range(1, 6);
        for (let n = 0; n < count; n++) text += random.pick(pieces);
        push(text);
      } else if (roll < 0.6) {
        if (paused) typewriter.resume();
        else typewriter.pause();
        paused = !paused;
      }
      clock.advance(random.range(0, 120));
    }
    if (paused) typewriter.resume();
    typewriter.finish();
    clock.runUntilIdle();
    assertFrameInvariants(frames, interval);
    assert.equal(typewriter.visible, received(), `seed ${random.seed}, interval ${interval}`);
  }
});

test('every frame ends on a grapheme boundary while emoji sequences arrive in pieces', () => {
  const random = createSeededRandom(testSeed(0xe3051));
  const emoji = ['👨‍👩‍👧‍👦', '👩🏽‍💻', '🏳️‍🌈', '❤️‍🔥', '1️⃣', '🇨🇳', '🇯🇵', '🏴󠁧󠁢󠁥󠁮󠁧󠁿', '👍🏿', 'é', 'क्ष'];
  let text = '';
  for (let n = 0; n < 400; n++) text += random.pick(emoji) + (random.chance(0.3) ? '字' : '');
  const codePoints = Array.from(text);
  const { clock, frames, typewriter, push } = setup({ charsPerSecond: 60 });
  // Pieces cut at arbitrary code points: a ZWJ, modifier or second flag half often starts a new push.
  for (let at = 0; at < codePoints.length; ) {
    const size = random.range(1, 7);
    push(codePoints.slice(at, at + size).join(''));
    at += size;
    clock.advance(random.range(0, 90));
  }
  typewriter.finish();
  clock.runUntilIdle();
  assertFrameInvariants(frames, 50);
  for (const frame of frames) {
    // Against the whole text, a frame may end inside a cluster only where its buffer ended (the joiner
    // had not arrived yet); anywhere else the cut must hold for the final text too.
    const length = frame.visible.length;
    if (length < frame.received.length) assert.equal(safeBoundary(text, length), length, `frame of ${length} splits a cluster`);
  }
  assert.equal(typewriter.visible, text);
});

test('paused: no frames and no timers; resume: one catch-up frame, then paced frames again', () => {
  const { clock, frames, typewriter, push } = setup();
  push('前'.repeat(10));
  clock.advance(100);
  typewriter.pause();
  const atPause = frames.length;
  assert.equal(clock.pendingTimers, 0);
  for (let n = 0; n < 30; n++) {
    push('隐'.repeat(20));
    clock.advance(100);
  }
  assert.equal(frames.length, atPause, 'frames while paused');
  assert.equal(clock.pendingTimers, 0, 'timers while paused');
  const resumeAt = clock.now();
  typewriter.resume();
  assert.equal(frames.length, atPause + 1, 'one catch-up frame on resume');
  const catchUp = frames[frames.length - 1] as Frame;
  assert.equal(catchUp.at, resumeAt);
  // Everything pushed more than the lag bound ago is in the catch-up frame.
  assert.ok(catchUp.visible.length >= 10 + 20 * 20, `catch-up shows ${catchUp.visible.length}`);
  assert.ok(typewriter.pending > 0, 'recent text is still typed out, not dumped');
  clock.advance(10);
  assert.equal(frames.length, atPause + 1, 'no second frame right after the catch-up');
  clock.runUntilIdle();
  assertFrameInvariants(frames, 50);
  assert.equal(typewriter.pending, 0);
});

test('finish while paused waits for resume, which shows everything in one frame', () => {
  const { clock, frames, typewriter, push } = setup();
  push('abc'.repeat(50));
  typewriter.pause();
  const atPause = frames.length;
  typewriter.finish();
  clock.advance(500);
  assert.equal(frames.length, atPause);
  typewriter.resume();
  assert.equal(frames.length, atPause + 1);
  assert.equal(typewriter.pending, 0);
  assert.equal(clock.pendingTimers, 0);
});

test('dispose clears the pending timer and later pushes do nothing', () => {
  const { clock, frames, typewriter, push } = setup();
  push('还没打完的一长段文字'.repeat(30));
  clock.advance(60);
  assert.equal(clock.pendingTimers, 1);
  typewriter.dispose();
  assert.equal(clock.pendingTimers, 0);
  const count = frames.length;
  push('更多');
  typewriter.resume();
  typewriter.finish();
  clock.advance(5000);
  assert.equal(frames.length, count);
  assert.equal(clock.pendingTimers, 0);
});

test('an empty push emits nothing and arms nothing', () => {
  const { clock, frames, typewriter } = setup();
  typewriter.push('');
  assert.equal(frames.length, 0);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(typewriter.visible, '');
  assert.equal(typewriter.pending, 0);
});

test('a frame callback that pushes more text neither re-enters nor breaks the frame budget', () => {
  const clock = new FakeClock();
  const times: number[] = [];
  let pushedFromFrame = false;
  const typewriter: Typewriter = new Typewriter({
    clock,
    scheduler: clock,
    onFrame: () => {
      times.push(clock.now());
      if (!pushedFromFrame) {
        pushedFromFrame = true;
        typewriter.push('再来一些字');
      }
    },
  });
  typewriter.push('开头');
  clock.runUntilIdle();
  for (let n = 1; n < times.length; n++) assert.ok((times[n] as number) - (times[n - 1] as number) >= 50);
  assert.equal(typewriter.visible, '开头再来一些字');
});

test('preset text is visible at once without a frame, and only later pushes are typed out', () => {
  const { clock, frames, typewriter, push } = setup();
  typewriter.preset('已经在屏幕上的');
  assert.equal(typewriter.visible, '已经在屏幕上的');
  assert.equal(typewriter.pending, 0);
  assert.equal(frames.length, 0);
  assert.equal(clock.pendingTimers, 0);
  push('新来的一句话');
  clock.runUntilIdle();
  assert.ok(frames.length > 1, 'the new text is typed, not dumped');
  for (const frame of frames) assert.ok(frame.visible.startsWith('已经在屏幕上的'));
  assert.equal(typewriter.visible, '已经在屏幕上的新来的一句话');
  assert.throws(() => typewriter.preset('x'), /already pushed/);
});
