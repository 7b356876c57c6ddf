import assert from 'node:assert/strict';
import { jest, test } from '@jest/globals';
import { afterThisTest } from './support/after-this-test.ts';
import { baseLibraryVersion, systemClock, timerScheduler } from '../miniprogram/lib/platform.ts';
import { FakeTimers } from './support/fake-timers.ts';

test('the clock and scheduler use whatever timers the engine has when they are called', () => {
  // Installed after platform.ts was loaded: the adapter must not have kept the real functions.
  const timers = new FakeTimers(50_000).install();
  afterThisTest(() => timers.uninstall());
  const fired: number[] = [];
  timerScheduler.setTimeout(() => fired.push(systemClock.now()), 30);
  const cancelled = timerScheduler.setTimeout(() => fired.push(-1), 10);
  timerScheduler.clearTimeout(cancelled);
  assert.equal(systemClock.now(), 50_000);
  assert.equal(timers.pending(), 1);
  timers.tick(100);
  assert.deepEqual(fired, [50_030]);
  assert.equal(timers.pending(), 0);
});

test('the base library version comes from getAppBaseInfo where it exists', () => {
  assert.equal(
    baseLibraryVersion({ getAppBaseInfo: () => ({ SDKVersion: '3.6.0' }), getSystemInfoSync: () => ({ SDKVersion: '1.0.0' }) }),
    '3.6.0',
  );
});

test('older base libraries answer through getSystemInfoSync', () => {
  assert.equal(baseLibraryVersion({ getSystemInfoSync: () => ({ SDKVersion: '2.10.4' }) }), '2.10.4');
});

test('no answer, or a failing one, gives an empty version', () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  assert.equal(baseLibraryVersion({}), '');
  assert.equal(
    baseLibraryVersion({
      getAppBaseInfo: () => {
        throw new Error('not available');
      },
    }),
    '',
  );
  assert.equal(warn.mock.calls.length, 1);
});
