/**
 * What the taps on a reply's action bar do: 复制, 👍 / 👎 (with the optional comment), the version
 * switcher, and what 分享 hands to WeChat. Streaming actions (重新生成, 编辑, follow-up chips) belong
 * to the controller, which owns the stream.
 *
 * Contract:
 * - 复制 puts the reply's Markdown source — exactly the text the model wrote, as stored — on the
 *   clipboard (`deps.copyText`) and says 已复制. Markdown rather than plain text: pasted into notes or
 *   a document it keeps its lists, code fences and links.
 * - A rating shows at once and is sent as `PUT …/feedback`; tapping the shown rating again takes it back
 *   (`rating: null`). If the server refuses, the previous rating comes back and the error is shown. After
 *   a 👎 is saved, the user may add a comment (`deps.askComment`); it is sent with the rating.
 * - The switcher asks the server to make the neighbouring version current (`PUT …/current`) and shows
 *   the turn as the server answers it (question and reply, replaced in place, `deps.replaceTurn`). One
 *   switch at a time per reply; refused while a reply streams.
 * - `shareContent` gives `onShareAppMessage` a card at once (title, and the plain chat page as the
 *   fallback path) and, for a conversation the server knows, a promise of the snapshot's share page:
 *   WeChat waits up to 3 s for it and sends the fallback otherwise. A share made is remembered
 *   (`deps.rememberShare`) so its page offers 取消分享 to its owner.
 * Every failure becomes a `deps.notify` with the error's Chinese message; nothing throws.
 */
import { userMessageFor, WxstreamError, type FeedbackRating, type StoredMessage } from '../../vendor/wxstream-client.js';
import { CHAT_PAGE, sharePageUrl } from '../../lib/page-routes.ts';
import type { ReplyActionsApi } from '../../lib/reply-actions-api.ts';
import { ratingData, type SetDataObject } from './chat-view-model.ts';
import type { MessageLedger } from './message-ledger.ts';

export const COPIED = '已复制';
export const FEEDBACK_THANKS = '感谢反馈';
/** The share card's title when the conversation has none yet. */
export const DEFAULT_SHARE_TITLE = '和 AI 的对话';

export interface ShareCard {
  title: string;
  path: string;
  promise?: Promise<{ title: string; path: string }>;
}

export interface ReplyCommandsDeps {
  ledger: MessageLedger;
  setData(data: SetDataObject): void;
  api: Pick<ReplyActionsApi, 'rate' | 'setCurrentVersion' | 'share'>;
  /** The conversation shown, once the server knows it. */
  conversationId(): string | undefined;
  /** A reply is streaming. */
  busy(): boolean;
  replaceTurn(replyId: string, turn: readonly StoredMessage[]): void;
  copyText(text: string): Promise<void>;
  askComment(): Promise<string | undefined>;
  rememberShare(shareId: string): void;
  notify(message: string): void;
}

function messageOf(error: unknown): string {
  return userMessageFor(error instanceof WxstreamError ? error.code : 'internal_error');
}

export class ReplyCommands {
  private readonly deps: ReplyCommandsDeps;
  private readonly switching = new Set<string>();

  constructor(deps: ReplyCommandsDeps) {
    this.deps = deps;
  }

  async copy(id: string): Promise<void> {
    const entry = this.deps.ledger.get(id);
    if (!entry || entry.text === '') return;
    try {
      await this.deps.copyText(entry.text);
      this.deps.notify(COPIED);
    } catch (error) {
      console.warn('wxstream: could not copy the reply', error);
    }
  }

  async rate(id: string, rating: FeedbackRating): Promise<void> {
    const entry = this.deps.ledger.get(id);
    if (!entry || entry.role !== 'assistant' || entry.serverId === '') return;
    const previous = entry.rating;
    const next = previous === rating ? null : rating;
    this.show(id, next ?? '');
    try {
      await this.deps.api.rate(entry.serverId, next);
    } catch (error) {
      // Put the old rating back unless another tap has changed it since.
      if (this.deps.ledger.get(id)?.rating === (next ?? '')) this.show(id, previous);
      this.deps.notify(messageOf(error));
      return;
    }
    if (next !== 'down') return;
    const comment = await this.deps.askComment();
    if (comment === undefined || this.deps.ledger.get(id)?.rating !== 'down') return;
    try {
      await this.deps.api.rate(entry.serverId, 'down', comment);
      this.deps.notify(FEEDBACK_THANKS);
    } catch (error) {
      this.deps.notify(messageOf(error));
    }
  }

  async switchVersion(id: string, delta: number): Promise<void> {
    const entry = this.deps.ledger.get(id);
    const conversationId = this.deps.conversationId();
    const versions = entry?.versions;
    if (!entry || !versions || conversationId === undefined || this.deps.busy() || this.switching.has(id)) return;
    const target = versions.items[versions.current + delta];
    if (!target) return;
    this.switching.add(id);
    try {
      const { messages } = await this.deps.api.setCurrentVersion(conversationId, target.messageId);
      // The answer's reply carries the versions; if a server leaves them out, the switcher still shows.
      const turn = messages.map((message) =>
        message.role === 'assistant' && !message.versions ? { ...message, versions: { ...versions, current: versions.current + delta } } : message,
      );
      this.deps.replaceTurn(id, turn);
    } catch (error) {
      this.deps.notify(messageOf(error));
    } finally {
      this.switching.delete(id);
    }
  }

  shareContent(title: string): ShareCard {
    const cardTitle = title === '' ? DEFAULT_SHARE_TITLE : title;
    const card: ShareCard = { title: cardTitle, path: CHAT_PAGE };
    const conversationId = this.deps.conversationId();
    if (conversationId === undefined || this.deps.busy()) return card;
    card.promise = this.deps.api.share(conversationId).then(
      ({ shareId }) => {
        this.deps.rememberShare(shareId);
        return { title: cardTitle, path: sharePageUrl(shareId) };
      },
      (error: unknown) => {
        this.deps.notify(messageOf(error));
        throw error;
      },
    );
    return card;
  }

  private show(id: string, rating: '' | FeedbackRating): void {
    const entry = this.deps.ledger.get(id);
    if (!entry) return;
    this.deps.ledger.update(id, { rating });
    this.deps.setData(ratingData(entry.at, rating));
  }
}
