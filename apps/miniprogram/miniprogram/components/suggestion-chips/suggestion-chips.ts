/**
 * Follow-up questions under the last reply, as tappable chips.
 *
 * Contract: presentation only. `items` are the server's suggestions (at most three short questions);
 * a tap triggers `pick` with `{ text }` — the page sends it as the next message. `disabled` (a reply is
 * streaming, or the page cannot send) makes taps do nothing.
 */
Component({
  options: { styleIsolation: 'isolated' },

  properties: {
    items: { type: Array, value: [] as string[] },
    disabled: { type: Boolean, value: false },
  },

  methods: {
    onPick(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { index: number }>) {
      if (this.data.disabled) return;
      const text = (this.data.items as string[])[Number(event.currentTarget.dataset.index)];
      if (typeof text === 'string' && text !== '') this.triggerEvent('pick', { text });
    },
  },
});
