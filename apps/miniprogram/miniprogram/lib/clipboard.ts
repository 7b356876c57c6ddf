/**
 * The clipboard over `wx.setClipboardData`: `copyText` as a promise (rejects with WeChat's errMsg), and
 * `copyWithToast` for the taps that confirm in their own words (代码已复制, 链接已复制) — replacing the
 * system's generic toast — or say 复制失败.
 */
export function copyText(text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    wx.setClipboardData({ data: text, success: () => resolve(), fail: (error) => reject(new Error(error.errMsg)) });
  });
}

export function copyWithToast(text: string, done: string): void {
  copyText(text).then(
    () => wx.showToast({ title: done, icon: 'none' }),
    () => wx.showToast({ title: '复制失败', icon: 'none' }),
  );
}
