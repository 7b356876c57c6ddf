/**
 * The conversation title the chat page shows, and the one delayed look-up of a new conversation's title.
 *
 * Why a look-up later: the server titles a new conversation by asking the model after its first reply, in
 * the background, so the turn read back right after that reply usually still has the first message as
 * title. It is looked up once more, TITLE_RECHECK_MS later (`?limit=1`).
 *
 * Contract: `shown` is the title on screen ('' for a new conversation). `change(raw)` returns `{ title }`
 * when `raw` changes what is shown, else `{}` (the caller puts it in its own `setData`). `recheckLater`
 * keeps at most one look-up pending; it shows its answer only while `stillCurrent()` holds (the page was
 * not cleared or disposed meanwhile). `cancel()` drops a pending look-up and leaves no timer behind.
 */
import type { Scheduler } from '../../vendor/wxstream-client.js';
import { displayTitle } from '../../lib/conversation-title.ts';
import type { ConversationMessagesPage } from '../../lib/conversations-api.ts';
import type { SetDataObject } from './chat-view-model.ts';

/** How long after a conversation's first reply its title is looked up again (the server's model title). */
export const TITLE_RECHECK_MS = 5_000;

export interface TitleSyncDeps {
  setData(data: SetDataObject): void;
  loadMessages(id: string, before?: string, limit?: number): Promise<ConversationMessagesPage>;
  scheduler: Scheduler;
}

export class TitleSync {
  private title = '';
  private timer: unknown;

  private readonly deps: TitleSyncDeps;

  constructor(deps: TitleSyncDeps) {
    this.deps = deps;
  }

  /** The title on screen ('' for a new conversation). */
  get shown(): string {
    return this.title;
  }

  /** `{ title }` when `raw` changes the title shown, else nothing. */
  change(raw: string): SetDataObject {
    const title = displayTitle(raw);
    if (title === this.title) return {};
    this.title = title;
    return { title };
  }

  /** The page shows no conversation: no title, and no look-up pending. */
  clear(): void {
    this.cancel();
    this.title = '';
  }

  /** Looks the title of `conversationId` up once more, TITLE_RECHECK_MS from now (once at a time). */
  recheckLater(conversationId: string, stillCurrent: () => boolean): void {
    if (this.timer !== undefined) return;
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = undefined;
      if (!stillCurrent()) return;
      this.deps.loadMessages(conversationId, undefined, 1).then(
        (page) => {
          if (!stillCurrent()) return;
          const data = this.change(page.conversation.title);
          if (Object.keys(data).length > 0) this.deps.setData(data);
        },
        (error: unknown) => console.warn('wxstream: could not read the conversation title', error),
      );
    }, TITLE_RECHECK_MS);
  }

  cancel(): void {
    if (this.timer === undefined) return;
    this.deps.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
