/**
 * What an API module under test is given: the real auth session over a fake `wx` (its login, storage
 * and request, answered by the in-memory server), as the pages wire it on a device.
 */
import { createAuthSession, type AuthSession } from '../../miniprogram/lib/auth-session.ts';
import type { WxJsonRequest } from '../../miniprogram/lib/json-request.ts';
import { FakeWx } from './fake-wx.ts';

export const TEST_SERVER = 'https://api.example.test';

export function apiDeps(wx: FakeWx = new FakeWx()): { wx: FakeWx; deps: { serverUrl: string; auth: AuthSession; request: WxJsonRequest } } {
  const auth = createAuthSession({
    serverUrl: TEST_SERVER,
    clock: { now: () => Date.now() },
    login: wx.login,
    request: wx.request,
    getStorageSync: wx.getStorageSync,
    setStorageSync: wx.setStorageSync,
    removeStorageSync: wx.removeStorageSync,
  });
  return { wx, deps: { serverUrl: TEST_SERVER, auth, request: wx.request } };
}
