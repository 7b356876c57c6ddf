/**
 * The older pages of a long conversation, loaded as the reader scrolls up.
 *
 * Why sections: prepending to `messages` would shift every index, so the whole list would have to be
 * sent again. Instead each older page is one entry of the `older` object (`older.p3`), set with a single
 * `setData` that carries that page only, and `olderKeys` lists the pages oldest first (a few short
 * strings). Messages on them are addressed by full path (`older.p3[5]`, see `MessageAt`), so a rating
 * or a version switch there touches that message only. `messages` keeps the newest page and every
 * message sent on this visit, with the index paths the streaming code uses.
 *
 * Contract: `cursor` is the server's cursor for the next older page (null: nothing older). `begin()`
 * hands it out once until `added` or `failed` is called, so a scroll burst loads a page once. The
 * `setData` object of `added` carries one page, the new key list and the anchor that keeps the reader's
 * place: the message that was first on screen.
 */
import type { ChatMessage, ReplyRender, SetDataObject } from './chat-view-model.ts';

export class OlderPages {
  private cursor: string | null = null;
  private keys: string[] = [];
  private loading = false;
  private nextKey = 1;
  /** Reply renders of messages on older pages, by path (for reasoning toggles). */
  readonly renders = new Map<string, ReplyRender>();

  /** Forgets every older page; `cursor` is where the next one starts (null when the newest page was all). */
  reset(cursor: string | null): void {
    this.cursor = cursor;
    this.keys = [];
    this.loading = false;
    this.renders.clear();
  }

  get hasMore(): boolean {
    return this.cursor !== null;
  }

  /** The cursor to load next, or undefined when there is nothing older or a load is under way. */
  begin(): string | undefined {
    if (this.loading || this.cursor === null) return undefined;
    this.loading = true;
    return this.cursor;
  }

  failed(): void {
    this.loading = false;
  }

  /** The path of message `index` on the page `key`. */
  static path(key: string, index: number): string {
    return `older.${key}[${index}]`;
  }

  /**
   * Adds a loaded page above everything shown. `firstShownId` is the element id of the message at the
   * top until now, which the list scrolls to so the reader stays where they were.
   */
  added(messages: ChatMessage[], renders: Map<number, ReplyRender>, nextCursor: string | null, firstShownId: string | undefined): { key: string; data: SetDataObject } {
    const key = `p${this.nextKey++}`;
    this.loading = false;
    this.cursor = nextCursor;
    this.keys = [key, ...this.keys];
    for (const [index, render] of renders) this.renders.set(OlderPages.path(key, index), render);
    const data: SetDataObject = {
      [`older.${key}`]: messages,
      olderKeys: this.keys,
      hasOlder: nextCursor !== null,
      loadingOlder: false,
      olderError: '',
    };
    if (firstShownId !== undefined) data.scrollAnchor = firstShownId;
    return { key, data };
  }
}
