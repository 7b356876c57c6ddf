/**
 * The history page's behaviour, apart from the `Component` glue: loading the list page by page,
 * refreshing it, opening, renaming and deleting conversations.
 *
 * Contract:
 * - The first page loads on `load()`; while it loads the page shows a loading state, if it fails an
 *   error with retry (`load()` again). Pull-down `refresh()` reloads the first page and replaces the
 *   list; if that fails the list stays and the error is a toast.
 * - `loadMore()` fetches the page after the last one, one at a time, and appends only conversations
 *   not listed yet (conversation-list.ts). A page answered after the list was replaced is dropped. A
 *   page that added nothing new is followed at once by the next one (at most MAX_EMPTY_PAGES in a
 *   row), since the list did not grow for the reader to scroll further.
 * - Rename asks for a title (re-asking with the reason while it is invalid), shows the new title at
 *   once and sends it; on failure the old title comes back and the error is a toast. Delete asks for
 *   confirmation, removes the row at once and sends it; on failure the row comes back where it was.
 *   A conversation the server no longer has (`not_found`) leaves the list in both cases. One operation
 *   per conversation at a time.
 * - Errors are shown as `userMessageFor(code)`, never as server text.
 * - After `dispose()` nothing reaches the view.
 * All I/O — the API, dialogs, navigation, `setData`, time — comes in through `HistoryControllerDeps`.
 */
import { userMessageFor, WxstreamError, type Clock, type ConversationSummary } from '../../vendor/wxstream-client.js';
import type { ConversationsApi } from '../../lib/conversations-api.ts';
import { appendPage, indexOfConversation, removeConversation, replaceConversation, restoreConversation } from './conversation-list.ts';
import { checkTitle, displayTitle } from '../../lib/conversation-title.ts';
import {
  appendItemsData,
  historyItems,
  itemChangesData,
  type HistoryItem,
  type SetDataObject,
  type TimeContext,
} from './history-view-model.ts';
import type { UtcOffsetAt } from './relative-time.ts';

/** How many pages that add nothing new are fetched back to back before waiting for the reader. */
export const MAX_EMPTY_PAGES = 3;

export type HistoryPhase = 'loading' | 'ready' | 'failed';

/** Everything the page template reads. */
export interface HistoryPageData {
  items: HistoryItem[];
  /** The first page: being loaded, shown (possibly empty), or failed. */
  phase: HistoryPhase;
  /** Why the first page failed (Chinese); '' otherwise. */
  errorMessage: string;
  /** The pull-down refresher is showing. */
  refreshing: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  /** Why the last load-more failed (Chinese); '' otherwise. */
  moreError: string;
}

export type HistoryAction = 'rename' | 'delete';

export interface HistoryDialogs {
  /** The action sheet for one conversation; undefined when dismissed. */
  chooseAction(): Promise<HistoryAction | undefined>;
  /** The rename dialog, pre-filled with `current`; `hint` says why the last input was refused. Undefined on cancel. */
  askTitle(current: string, hint: string): Promise<string | undefined>;
  confirmDelete(title: string): Promise<boolean>;
  toast(message: string): void;
}

export interface HistoryNavigator {
  openConversation(id: string): void;
  newConversation(): void;
}

export interface HistoryControllerDeps {
  api: Pick<ConversationsApi, 'list' | 'rename' | 'remove'>;
  setData(data: SetDataObject): void;
  clock: Clock;
  utcOffsetAt: UtcOffsetAt;
  dialogs: HistoryDialogs;
  navigator: HistoryNavigator;
  pageSize?: number;
}

export function initialHistoryData(): HistoryPageData {
  return { items: [], phase: 'loading', errorMessage: '', refreshing: false, hasMore: false, loadingMore: false, moreError: '' };
}

function codeOf(error: unknown): string {
  return error instanceof WxstreamError ? error.code : 'internal_error';
}

const GONE_MESSAGE = '这个对话已经不存在了。';

export class HistoryController {
  private readonly deps: HistoryControllerDeps;
  /*
   * `list` — the conversations shown, in order; `rows` — the rows the view holds for them (to diff).
   * `cursor` — where the next page starts; null when the last page has been read.
   * `generation` — bumped whenever the list is replaced; a page answered for an older one is dropped.
   * `phase`, `refreshing`, `loadingMore` — mirrors of the view's flags, so requests never overlap.
   * `busy` — ids with a rename or delete in flight.
   * `disposed` — the page is gone: nothing reaches the view.
   */
  private list: ConversationSummary[] = [];
  private rows: HistoryItem[] = [];
  private cursor: string | null = null;
  private generation = 0;
  private phase: HistoryPhase = 'loading';
  private refreshing = false;
  private loadingMore = false;
  private readonly busy = new Set<string>();
  private disposed = false;

  constructor(deps: HistoryControllerDeps) {
    this.deps = deps;
  }

  /** Loads the first page into an empty or failed page (and retries after a failure). */
  load(): Promise<void> {
    if (this.disposed || this.refreshing) return Promise.resolve();
    if (this.phase !== 'loading') {
      this.phase = 'loading';
      this.set({ phase: 'loading', errorMessage: '' });
    }
    return this.reloadFirstPage();
  }

  /** The reader pulled down: reload the first page, keeping the list if that fails. */
  refresh(): Promise<void> {
    if (this.disposed || this.refreshing) return Promise.resolve();
    this.refreshing = true;
    this.set({ refreshing: true });
    return this.reloadFirstPage();
  }

  /** The reader reached the end of the list (or tapped the footer). */
  async loadMore(): Promise<void> {
    for (let empty = 0; empty < MAX_EMPTY_PAGES; empty++) {
      if (this.disposed || this.phase !== 'ready' || this.refreshing || this.loadingMore || this.cursor === null) return;
      const generation = this.generation;
      this.loadingMore = true;
      this.set({ loadingMore: true, moreError: '' });
      let added: ConversationSummary[];
      try {
        const page = await this.deps.api.list({ cursor: this.cursor, limit: this.deps.pageSize });
        if (this.disposed || generation !== this.generation) return;
        const merged = appendPage(this.list, page.items);
        added = merged.added;
        const count = this.list.length;
        this.list = merged.list;
        this.cursor = page.nextCursor;
        const newRows = historyItems(added, this.time());
        this.rows = [...this.rows, ...newRows];
        this.loadingMore = false;
        this.set({ ...appendItemsData(count, newRows), loadingMore: false, hasMore: this.cursor !== null });
      } catch (error) {
        if (this.disposed || generation !== this.generation) return;
        this.loadingMore = false;
        this.set({ loadingMore: false, moreError: userMessageFor(codeOf(error)) });
        return;
      }
      if (added.length > 0) return;
    }
  }

  open(id: string): void {
    if (this.disposed || indexOfConversation(this.list, id) === -1) return;
    this.deps.navigator.openConversation(id);
  }

  newConversation(): void {
    if (!this.disposed) this.deps.navigator.newConversation();
  }

  /** Long-press or the row's "more" button: rename or delete that conversation. */
  async actions(id: string): Promise<void> {
    if (this.disposed || this.busy.has(id) || indexOfConversation(this.list, id) === -1) return;
    const action = await this.deps.dialogs.chooseAction();
    if (action === 'rename') await this.rename(id);
    else if (action === 'delete') await this.remove(id);
  }

  async rename(id: string): Promise<void> {
    const found = this.find(id);
    if (!found || this.busy.has(id)) return;
    let input = found.title;
    let hint = '';
    let title: string;
    // Each round waits for the user, who ends it by entering a valid title or cancelling.
    for (;;) {
      const entered = await this.deps.dialogs.askTitle(input, hint);
      if (entered === undefined || this.disposed) return;
      const check = checkTitle(entered);
      if (check.ok) {
        title = check.title;
        break;
      }
      input = entered;
      hint = check.message;
    }
    const current = this.find(id);
    if (!current || this.busy.has(id) || current.title === title) return;
    this.busy.add(id);
    this.replace({ ...current, title });
    try {
      const renamed = await this.deps.api.rename(id, title);
      if (this.disposed) return;
      if (this.find(id)) this.replace(renamed);
    } catch (error) {
      if (this.disposed) return;
      if (codeOf(error) === 'not_found') {
        this.drop(id);
        this.deps.dialogs.toast(GONE_MESSAGE);
        return;
      }
      const shown = this.find(id);
      // Put the old title back only over our own optimistic one (a refresh may have brought newer data).
      if (shown && shown.title === title) this.replace({ ...shown, title: current.title });
      this.deps.dialogs.toast(userMessageFor(codeOf(error)));
    } finally {
      this.busy.delete(id);
    }
  }

  async remove(id: string): Promise<void> {
    const found = this.find(id);
    if (!found || this.busy.has(id)) return;
    const confirmed = await this.deps.dialogs.confirmDelete(displayTitle(found.title));
    if (!confirmed || this.disposed) return;
    const index = indexOfConversation(this.list, id);
    const summary = this.list[index];
    if (!summary || this.busy.has(id)) return;
    const generation = this.generation;
    this.busy.add(id);
    this.drop(id);
    try {
      await this.deps.api.remove(id);
    } catch (error) {
      if (this.disposed) return;
      // Already gone on the server: what the reader asked for.
      if (codeOf(error) === 'not_found') return;
      if (generation === this.generation) {
        this.list = restoreConversation(this.list, summary, index);
        this.showList();
      }
      this.deps.dialogs.toast(userMessageFor(codeOf(error)));
    } finally {
      this.busy.delete(id);
    }
  }

  /** The page is on screen again: relative times move on. */
  shown(): void {
    if (this.disposed || this.list.length === 0) return;
    const rows = historyItems(this.list, this.time());
    const data = itemChangesData(this.rows, rows);
    this.rows = rows;
    if (Object.keys(data).length > 0) this.set(data);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async reloadFirstPage(): Promise<void> {
    const generation = ++this.generation;
    // A load-more in flight belongs to the list being replaced.
    this.loadingMore = false;
    try {
      const page = await this.deps.api.list({ limit: this.deps.pageSize });
      if (this.disposed || generation !== this.generation) return;
      this.list = appendPage([], page.items).list;
      this.cursor = page.nextCursor;
      this.phase = 'ready';
      this.refreshing = false;
      this.rows = historyItems(this.list, this.time());
      this.set({
        items: this.rows,
        phase: 'ready',
        errorMessage: '',
        refreshing: false,
        hasMore: this.cursor !== null,
        loadingMore: false,
        moreError: '',
      });
    } catch (error) {
      if (this.disposed || generation !== this.generation) return;
      const message = userMessageFor(codeOf(error));
      const wasRefresh = this.refreshing;
      this.refreshing = false;
      if (this.phase === 'ready') {
        this.set({ refreshing: false, loadingMore: false });
        if (wasRefresh) this.deps.dialogs.toast(message);
        return;
      }
      this.phase = 'failed';
      this.set({ phase: 'failed', errorMessage: message, refreshing: false });
    }
  }

  private find(id: string): ConversationSummary | undefined {
    return this.list[indexOfConversation(this.list, id)];
  }

  /** Shows `summary` in place of the conversation with its id: path keys for what changed. */
  private replace(summary: ConversationSummary): void {
    this.list = replaceConversation(this.list, summary);
    const rows = historyItems(this.list, this.time());
    const data = itemChangesData(this.rows, rows);
    this.rows = rows;
    if (Object.keys(data).length > 0) this.set(data);
  }

  private drop(id: string): void {
    this.list = removeConversation(this.list, id);
    this.showList();
  }

  /** Sends the whole list: rows were removed or inserted, which path keys cannot express. */
  private showList(): void {
    this.rows = historyItems(this.list, this.time());
    this.set({ items: this.rows });
  }

  private time(): TimeContext {
    return { now: this.deps.clock.now(), offsetAt: this.deps.utcOffsetAt };
  }

  private set(data: SetDataObject): void {
    if (!this.disposed) this.deps.setData(data);
  }
}
