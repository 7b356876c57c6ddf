/**
 * The shares this user made on this phone, kept in storage (`wxstream.shares`), so the share page can
 * offer 取消分享 to the person who shared — the snapshot itself says nothing about its owner.
 *
 * Contract: `remember` adds a share id (newest first, at most MAX_OWN_SHARES kept, each once); `isOwn`
 * says whether an id was shared from here; `forget` drops one (after it was revoked). Storage failures
 * are swallowed: losing this list only hides the button, the server still checks ownership on DELETE.
 */
export const OWN_SHARES_KEY = 'wxstream.shares';
export const MAX_OWN_SHARES = 100;

export interface ShareStorage {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
}

function load(storage: ShareStorage): string[] {
  try {
    const value = storage.getStorageSync(OWN_SHARES_KEY);
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function save(storage: ShareStorage, ids: string[]): void {
  try {
    storage.setStorageSync(OWN_SHARES_KEY, ids);
  } catch (error) {
    console.warn('wxstream: could not save the list of own shares', error);
  }
}

export function rememberShare(storage: ShareStorage, shareId: string): void {
  save(storage, [shareId, ...load(storage).filter((id) => id !== shareId)].slice(0, MAX_OWN_SHARES));
}

export function isOwnShare(storage: ShareStorage, shareId: string): boolean {
  return load(storage).includes(shareId);
}

export function forgetShare(storage: ShareStorage, shareId: string): void {
  save(storage, load(storage).filter((id) => id !== shareId));
}
