/**
 * The share page's behaviour apart from its `Component` glue: show a shared snapshot read-only, page by
 * page; offer 开始我的对话; let the person who shared it take it back.
 *
 * Contract:
 * - `open(shareId)` reads the snapshot (no sign-in needed) and shows its title and first page of
 *   messages; the rest are appended a page per `setData` as the reader reaches the end (`more()`), so no
 *   call carries more than SHARE_PAGE_SIZE messages, however long the conversation.
 * - A share the server does not have (`not_found`: revoked, or never existed — the server cannot tell
 *   them apart for a stranger) shows SHARE_GONE; other failures show their message and 重试.
 * - `revoke()` is offered only on the phone that made the share (`deps.isOwn`); it asks first, then
 *   `DELETE`s it and shows SHARE_REVOKED. `startChat()` opens a new conversation on the chat page.
 */
import { renderMarkdown, userMessageFor, WxstreamError, type SharedConversation } from '../../vendor/wxstream-client.js';
import { displayBlocks, plainBlock, type DisplayBlock } from '../../components/markdown-block/display-block.ts';

export const SHARE_PAGE_SIZE = 30;
export const SHARE_GONE = '这个分享已被取消或不存在。';
export const SHARE_REVOKED = '已取消分享，别人将无法再打开这个链接。';

export type SharePhase = 'loading' | 'ready' | 'gone' | 'failed';

export interface SharedBubble {
  id: string;
  role: 'user' | 'assistant';
  /** Markdown blocks of a reply (as the chat page shows a stored one); one plain block for a question. */
  blocks: DisplayBlock[];
}

export interface SharePageData {
  phase: SharePhase;
  title: string;
  messages: SharedBubble[];
  /** More messages follow those shown. */
  hasMore: boolean;
  /** Why it cannot be shown (`gone` / `failed`). */
  message: string;
  /** This phone made the share: 取消分享 is offered. */
  own: boolean;
  revoking: boolean;
}

export function initialShareData(): SharePageData {
  return { phase: 'loading', title: '', messages: [], hasMore: false, message: '', own: false, revoking: false };
}

export interface ShareControllerDeps {
  setData(data: Record<string, unknown>): void;
  fetch(shareId: string): Promise<SharedConversation>;
  revoke(shareId: string): Promise<void>;
  isOwn(shareId: string): boolean;
  forget(shareId: string): void;
  confirm(message: string): Promise<boolean>;
  notify(message: string): void;
  startChat(): void;
}

function bubbles(snapshot: SharedConversation, from: number, to: number): SharedBubble[] {
  return snapshot.messages.slice(from, to).map((message, offset) => ({
    id: `s${from + offset}`,
    role: message.role,
    blocks: message.role === 'assistant' ? displayBlocks(renderMarkdown(message.text)) : [plainBlock(message.text)],
  }));
}

function codeOf(error: unknown): string {
  return error instanceof WxstreamError ? error.code : 'internal_error';
}

export class ShareController {
  private readonly deps: ShareControllerDeps;
  private shareId: string | undefined;
  private snapshot: SharedConversation | undefined;
  private shown = 0;
  private generation = 0;

  constructor(deps: ShareControllerDeps) {
    this.deps = deps;
  }

  get title(): string {
    return this.snapshot?.title ?? '';
  }

  get currentShareId(): string | undefined {
    return this.shareId;
  }

  open(shareId: string | undefined): void {
    if (shareId === undefined) {
      this.deps.setData({ phase: 'gone', message: SHARE_GONE });
      return;
    }
    this.shareId = shareId;
    const generation = ++this.generation;
    this.deps.setData({ phase: 'loading', message: '' });
    this.deps.fetch(shareId).then(
      (snapshot) => {
        if (generation !== this.generation) return;
        this.snapshot = snapshot;
        this.shown = Math.min(SHARE_PAGE_SIZE, snapshot.messages.length);
        this.deps.setData({
          phase: 'ready',
          title: snapshot.title,
          messages: bubbles(snapshot, 0, this.shown),
          hasMore: this.shown < snapshot.messages.length,
          own: this.deps.isOwn(shareId),
        });
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        const code = codeOf(error);
        if (code === 'not_found') {
          this.deps.forget(shareId);
          this.deps.setData({ phase: 'gone', message: SHARE_GONE, own: false });
        } else {
          this.deps.setData({ phase: 'failed', message: userMessageFor(code) });
        }
      },
    );
  }

  retry(): void {
    this.open(this.shareId);
  }

  /** The reader reached the end of what is shown: the next page is appended by path keys. */
  more(): void {
    const snapshot = this.snapshot;
    if (!snapshot || this.shown >= snapshot.messages.length) return;
    const from = this.shown;
    const to = Math.min(from + SHARE_PAGE_SIZE, snapshot.messages.length);
    const data: Record<string, unknown> = { hasMore: to < snapshot.messages.length };
    bubbles(snapshot, from, to).forEach((bubble, offset) => {
      data[`messages[${from + offset}]`] = bubble;
    });
    this.shown = to;
    this.deps.setData(data);
  }

  async revoke(): Promise<void> {
    const shareId = this.shareId;
    if (shareId === undefined || !this.deps.isOwn(shareId)) return;
    if (!(await this.deps.confirm('取消后，收到链接的人将无法再查看这段对话。'))) return;
    this.deps.setData({ revoking: true });
    try {
      await this.deps.revoke(shareId);
    } catch (error) {
      const code = codeOf(error);
      // Already gone on the server: the outcome the owner wanted.
      if (code !== 'not_found') {
        this.deps.setData({ revoking: false });
        this.deps.notify(userMessageFor(code));
        return;
      }
    }
    this.deps.forget(shareId);
    this.generation++;
    this.snapshot = undefined;
    this.deps.setData({ phase: 'gone', message: SHARE_REVOKED, messages: [], hasMore: false, own: false, revoking: false });
  }

  startChat(): void {
    this.deps.startChat();
  }
}
