/**
 * `markdown-block`: renders one display block of a Markdown reply (see display-block.ts for the shape).
 *
 * Behaviour: text is selectable; tapping a link copies its URL (a mini-program cannot open arbitrary web
 * pages) and says so in a toast; tapping an image opens it in `wx.previewImage`; images load lazily.
 * The component holds no state of its own: the page sets `block` (finished blocks once, the open block
 * by path keys), so nothing here runs per frame.
 */
import { copyWithToast } from '../../lib/clipboard.ts';

type RunTap = WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { href?: string }>;
type ImageTap = WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { src?: string }>;

/** The toast after a link's URL was copied. */
export const LINK_COPIED = '链接已复制';

Component({
  properties: {
    block: { type: Object, value: { key: '', kind: 'none' } },
  },
  methods: {
    onRunTap(event: RunTap) {
      const href = event.currentTarget.dataset.href;
      if (href) copyWithToast(href, LINK_COPIED);
    },
    onImageTap(event: ImageTap) {
      const src = event.currentTarget.dataset.src;
      if (src) wx.previewImage({ urls: [src], current: src });
    },
  },
});
