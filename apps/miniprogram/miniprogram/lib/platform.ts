/**
 * The mini-program's clock, timers, time zone and base-library version, as injected interfaces.
 *
 * Contract: the clock and scheduler call the engine's global `Date.now`, `setTimeout` and
 * `clearTimeout` at the moment they are used, never a copy taken at load time. On a device these are
 * WeChat's own timers; under test, whatever fake timers the test installed on the global object before
 * driving the page — so the page runs the same code path in both places and has no test hook.
 */
import type { Clock, Scheduler } from '../vendor/wxstream-client.js';

export const systemClock: Clock = {
  now: () => Date.now(),
};

export const timerScheduler: Scheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** Minutes east of UTC on this phone at an instant (`Date#getTimezoneOffset` counts the other way). */
export function localUtcOffsetAt(epochMs: number): number {
  return -new Date(epochMs).getTimezoneOffset();
}

/** What this module needs of `wx` to learn the base library version. */
export interface BaseInfoSource {
  getAppBaseInfo?: () => { SDKVersion: string };
  getSystemInfoSync?: () => { SDKVersion: string };
}

/**
 * The base library version: `wx.getAppBaseInfo` where it exists (2.20.1+), else the deprecated
 * `wx.getSystemInfoSync`; '' when neither answers (treated as too old to stream).
 */
export function baseLibraryVersion(source: BaseInfoSource): string {
  try {
    if (typeof source.getAppBaseInfo === 'function') return source.getAppBaseInfo().SDKVersion || '';
    if (typeof source.getSystemInfoSync === 'function') return source.getSystemInfoSync().SDKVersion || '';
  } catch (error) {
    console.warn('wxstream: could not read the base library version', error);
  }
  return '';
}

/** What this module needs of `wx` to learn which WeChat client runs the mini-program. */
export interface PlatformInfoSource {
  getDeviceInfo?: () => object;
  getAppBaseInfo?: () => object;
  getSystemInfoSync?: () => object;
}

/**
 * The client platform (`ios`, `android`, `ohos`, `windows`, `mac`, `devtools`, …): `wx.getDeviceInfo`
 * where it exists (2.20.1+), else `wx.getAppBaseInfo`, else the deprecated `wx.getSystemInfoSync`; ''
 * when none answers. Windows and Mac WeChat deliver no chunks, so replies are polled there.
 */
export function clientPlatform(source: PlatformInfoSource): string {
  const readers = [source.getDeviceInfo, source.getAppBaseInfo, source.getSystemInfoSync];
  for (const read of readers) {
    if (typeof read !== 'function') continue;
    try {
      const platform = (read.call(source) as { platform?: unknown }).platform;
      if (typeof platform === 'string' && platform !== '') return platform;
    } catch (error) {
      console.warn('wxstream: could not read the client platform', error);
    }
  }
  return '';
}

/** Jitter for reconnect backoffs: the engine's `Math.random`, read at call time like the timers. */
export const systemRandom = (): number => Math.random();
