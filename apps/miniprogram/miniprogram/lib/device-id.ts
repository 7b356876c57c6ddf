/**
 * A stable id for this device, kept in storage: the development login's identity.
 *
 * Contract: `deviceId(deps)` returns the id stored under STORAGE_KEY, or makes one (`dev-` and 20 random
 * characters of `A-Za-z0-9`), stores it and returns it. It is sent with every login as `devCode`: a server
 * in development login uses it as the user (`dev:<id>`), so re-logins on one phone stay one user with
 * one history, while each `wx.login` code is new; a server with WeChat login ignores it. Clearing the
 * mini-program's storage makes a new development user, as a new phone would.
 */
export const DEVICE_ID_KEY = 'wxstream.deviceId';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface DeviceIdDeps {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: string): void;
  /** Uniform in [0, 1). */
  random(): number;
}

export function deviceId(deps: DeviceIdDeps): string {
  const stored = deps.getStorageSync(DEVICE_ID_KEY);
  if (typeof stored === 'string' && /^dev-[A-Za-z0-9]{20}$/.test(stored)) return stored;
  const made = `dev-${randomChars(deps.random, 20)}`;
  deps.setStorageSync(DEVICE_ID_KEY, made);
  return made;
}

/** `count` characters of `A-Za-z0-9` drawn with `random`. */
export function randomChars(random: () => number, count: number): string {
  let out = '';
  for (let n = 0; n < count; n++) out += ALPHABET.charAt(Math.min(ALPHABET.length - 1, Math.floor(random() * ALPHABET.length)));
  return out;
}
