/**
 * Offers a new version of the mini-program as soon as WeChat has downloaded it.
 *
 * Contract: `watchForUpdate(source)` uses `wx.getUpdateManager()` (base library 1.9.90+; absent → nothing).
 * When the update is ready, a modal asks to restart into it; 重启 applies it (`applyUpdate`), 稍后 keeps
 * the running version (WeChat applies the new one at the next cold start anyway). A failed download is
 * only logged: the running version keeps working.
 */
export interface UpdateManagerLike {
  onUpdateReady(listener: () => void): void;
  onUpdateFailed(listener: () => void): void;
  applyUpdate(): void;
}

export interface UpdateSource {
  getUpdateManager?: () => UpdateManagerLike;
  showModal(options: { title: string; content: string; confirmText: string; cancelText: string; success(result: { confirm: boolean }): void }): void;
}

export const UPDATE_TITLE = '发现新版本';
export const UPDATE_CONTENT = '新版本已经准备好，重启小程序即可使用。';

export function watchForUpdate(source: UpdateSource): void {
  if (typeof source.getUpdateManager !== 'function') return;
  const manager = source.getUpdateManager();
  manager.onUpdateReady(() => {
    source.showModal({
      title: UPDATE_TITLE,
      content: UPDATE_CONTENT,
      confirmText: '重启',
      cancelText: '稍后',
      success: (result) => {
        if (result.confirm) manager.applyUpdate();
      },
    });
  });
  manager.onUpdateFailed(() => console.warn('wxstream: the new version could not be downloaded; the current one keeps running'));
}
