/**
 * The action bar under a finished reply: 复制, 重新生成 (the last reply only), 👍 / 👎, 分享, and the
 * version switcher ‹ 2/3 › of a turn that has versions.
 *
 * Contract: presentation only — it holds no state of its own and calls no API. Each tap becomes one
 * event for the page (`copy`, `regenerate`, `rate` with `{ rating: 'up' | 'down' }`, `version` with
 * `{ delta: -1 | 1 }`); the page decides what they do. 分享 is a `<button open-type="share">`, the only
 * way a tap may open WeChat's share sheet: the page's `onShareAppMessage` receives it (`from: 'button'`).
 * A rating is shown as pressed when `rating` says so; a second tap on it is still a `rate` event (the
 * page takes the rating back). `disabled` (a reply is streaming) disables what would start or change a
 * reply — regenerating and switching versions — but never copying or rating.
 */
Component({
  options: { styleIsolation: 'isolated' },

  properties: {
    /** '' | 'up' | 'down' */
    rating: { type: String, value: '' },
    /** 1-based index of the version shown; 0 when the turn has a single version. */
    versionIndex: { type: Number, value: 0 },
    versionCount: { type: Number, value: 0 },
    canRegenerate: { type: Boolean, value: false },
    disabled: { type: Boolean, value: false },
  },

  methods: {
    onCopy() {
      this.triggerEvent('copy');
    },
    onRegenerate() {
      if (this.data.disabled) return;
      this.triggerEvent('regenerate');
    },
    onRateUp() {
      this.triggerEvent('rate', { rating: 'up' });
    },
    onRateDown() {
      this.triggerEvent('rate', { rating: 'down' });
    },
    onPreviousVersion() {
      if (this.data.disabled || this.data.versionIndex <= 1) return;
      this.triggerEvent('version', { delta: -1 });
    },
    onNextVersion() {
      if (this.data.disabled || this.data.versionIndex >= this.data.versionCount) return;
      this.triggerEvent('version', { delta: 1 });
    },
  },
});
