import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createIdleWatchdog } from '../src/chat/idle-watchdog.ts';
import { createManualClock } from './support/manual-clock.ts';

describe('idle watchdog', () => {
  test('fires once, exactly the timeout after the last touch', () => {
    const clock = createManualClock();
    let fired = 0;
    const watchdog = createIdleWatchdog({ clock, timeoutMs: 100, onIdle: () => (fired += 1) });
    watchdog.touch();
    clock.advance(60);
    watchdog.touch();
    clock.advance(99);
    assert.equal(fired, 0);
    clock.advance(1);
    assert.equal(fired, 1);
    watchdog.touch();
    clock.advance(500);
    assert.equal(fired, 1);
  });

  test('does not fire while paused, and counts again from the next touch', () => {
    const clock = createManualClock();
    let fired = 0;
    const watchdog = createIdleWatchdog({ clock, timeoutMs: 100, onIdle: () => (fired += 1) });
    watchdog.touch();
    watchdog.pause();
    clock.advance(1000);
    assert.equal(fired, 0);
    watchdog.touch();
    clock.advance(100);
    assert.equal(fired, 1);
  });

  test('leaves no timer behind once stopped', () => {
    const clock = createManualClock();
    const watchdog = createIdleWatchdog({ clock, timeoutMs: 100, onIdle: () => assert.fail('fired after stop') });
    watchdog.touch();
    watchdog.stop();
    assert.equal(clock.pendingTimers, 0);
    clock.advance(1000);
  });
});

// Heartbeats of a reply stream are tested with the stream itself: reply-log-stream.test.ts.
