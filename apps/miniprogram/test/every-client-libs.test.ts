/**
 * The small modules that make the mini-program work on every client and pass review: the device's
 * development identity, request ids, the client platform, the privacy gate and the update prompt.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { isValidRequestId } from '@wxstream/protocol';
import { createAuthSession, type AuthDeps } from '../miniprogram/lib/auth-session.ts';
import { DEVICE_ID_KEY, deviceId } from '../miniprogram/lib/device-id.ts';
import { clientPlatform } from '../miniprogram/lib/platform.ts';
import { createPrivacyGate, type PrivacyResolve } from '../miniprogram/lib/privacy-gate.ts';
import { newRequestId } from '../miniprogram/lib/request-id.ts';
import { UPDATE_CONTENT, watchForUpdate, type UpdateSource } from '../miniprogram/lib/update-prompt.ts';

function seeded(seed = 7): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

test('the development identity is made once per device and kept in storage', () => {
  const storage = new Map<string, unknown>();
  const deps = { getStorageSync: (key: string) => storage.get(key) ?? '', setStorageSync: (key: string, value: string) => void storage.set(key, value), random: seeded() };
  const first = deviceId(deps);
  assert.match(first, /^dev-[A-Za-z0-9]{20}$/);
  assert.equal(storage.get(DEVICE_ID_KEY), first);
  assert.equal(deviceId({ ...deps, random: seeded(99) }), first, 'the same on every later call');
  storage.set(DEVICE_ID_KEY, 'tampered value');
  assert.notEqual(deviceId(deps), 'tampered value', 'a stored value that is not ours is replaced');
});

test('every login sends the device id as devCode, so re-logins on one phone are one development user', async () => {
  const storage = new Map<string, unknown>();
  const bodies: unknown[] = [];
  let codes = 0;
  const deps: AuthDeps = {
    serverUrl: 'https://api.example.test',
    clock: { now: () => 0 },
    login: (callbacks) => queueMicrotask(() => callbacks.success({ code: `wx-code-${++codes}` })),
    request: (request) => {
      bodies.push(request.data);
      queueMicrotask(() => request.success({ statusCode: 200, data: { token: 't', expiresIn: 1 } }));
      return undefined;
    },
    getStorageSync: (key) => storage.get(key) ?? '',
    setStorageSync: (key, value) => void storage.set(key, value),
    removeStorageSync: (key) => void storage.delete(key),
    devCode: () => deviceId({ getStorageSync: (key) => storage.get(key) ?? '', setStorageSync: (key, value) => void storage.set(key, value), random: seeded() }),
  };
  const auth = createAuthSession(deps);
  await auth.token();
  auth.invalidate();
  await auth.token();
  assert.equal(bodies.length, 2);
  const [first, second] = bodies as { code: string; devCode: string }[];
  assert.notEqual(first?.code, second?.code, 'each wx.login code is new');
  assert.equal(first?.devCode, second?.devCode, 'the device is the same');
  assert.match(String(first?.devCode), /^dev-/);
});

test('request ids are valid for the protocol and do not repeat', () => {
  const random = seeded(3);
  const ids = new Set(Array.from({ length: 1000 }, () => newRequestId(random)));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.ok(isValidRequestId(id), id);
});

test('the client platform comes from getDeviceInfo, then getAppBaseInfo, then getSystemInfoSync', () => {
  assert.equal(clientPlatform({ getDeviceInfo: () => ({ platform: 'windows' }), getSystemInfoSync: () => ({ platform: 'ios' }) }), 'windows');
  assert.equal(clientPlatform({ getAppBaseInfo: () => ({ platform: 'mac' }) }), 'mac');
  assert.equal(clientPlatform({ getSystemInfoSync: () => ({ platform: 'android' }) }), 'android');
  assert.equal(
    clientPlatform({
      getDeviceInfo: () => {
        throw new Error('not here');
      },
      getSystemInfoSync: () => ({ platform: 'devtools' }),
    }),
    'devtools',
  );
  assert.equal(clientPlatform({}), '');
});

test('the privacy gate shows the dialog when WeChat asks, reports its exposure and answers exactly once', () => {
  let ask: ((resolve: unknown) => void) | undefined;
  const gate = createPrivacyGate({ onNeedPrivacyAuthorization: (listener) => (ask = listener) });
  const answers: Parameters<PrivacyResolve>[0][] = [];
  let shown = 0;
  const unsubscribe = gate.subscribe(() => shown++);
  assert.equal(shown, 0, 'nothing to show until WeChat asks');
  ask?.((result: Parameters<PrivacyResolve>[0]) => answers.push(result));
  assert.equal(shown, 1);
  gate.exposed();
  gate.agree('privacy-agree');
  gate.agree('privacy-agree');
  gate.disagree();
  assert.deepEqual(answers, [{ event: 'exposureAuthorization' }, { event: 'agree', buttonId: 'privacy-agree' }]);
  unsubscribe();
  ask?.((result: Parameters<PrivacyResolve>[0]) => answers.push(result));
  assert.equal(shown, 1, 'an unsubscribed dialog is not asked');
  let late = 0;
  gate.subscribe(() => late++);
  assert.equal(late, 1, 'a dialog attached while consent is pending is shown at once');
  gate.disagree();
  assert.deepEqual(answers.at(-1), { event: 'disagree' });
});

test('a downloaded update is offered; 重启 applies it, 稍后 keeps the running version', () => {
  for (const confirm of [true, false]) {
    let ready: (() => void) | undefined;
    let applied = 0;
    const modals: string[] = [];
    const source: UpdateSource = {
      getUpdateManager: () => ({ onUpdateReady: (listener) => (ready = listener), onUpdateFailed: () => {}, applyUpdate: () => applied++ }),
      showModal: (options) => {
        modals.push(options.content);
        options.success({ confirm });
      },
    };
    watchForUpdate(source);
    assert.deepEqual(modals, [], 'nothing before the update is ready');
    ready?.();
    assert.deepEqual(modals, [UPDATE_CONTENT]);
    assert.equal(applied, confirm ? 1 : 0);
  }
  watchForUpdate({ showModal: () => assert.fail('no update manager, no prompt') });
});
