/**
 * What the chat page knows about each message it shows, by the message's local id (the template's
 * `item.id`), for the actions under replies: where the message lives in page data, its server id, its
 * text, its rating and its turn's versions.
 *
 * Contract: entries are kept in reading order across every page shown (older pages are prepended,
 * new messages appended), so `previous(id)` finds a reply's question even when a page boundary falls
 * between them. `text` is the message's Markdown source as stored or as streamed — what 复制 copies.
 * A server id is '' until known (a live reply learns it from `start`, its question from the stored turn
 * read after the reply ends). Entries are plain data; the controller decides what changes them.
 */
import type { FeedbackRating, StoredMessage, TurnVersions } from '../../vendor/wxstream-client.js';
import type { MessageAt } from './chat-view-model.ts';

export interface LedgerEntry {
  at: MessageAt;
  role: 'user' | 'assistant';
  serverId: string;
  text: string;
  rating: '' | FeedbackRating;
  /** On a reply whose turn has more than one version. */
  versions?: TurnVersions;
}

export class MessageLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  private order: string[] = [];

  get(id: string): LedgerEntry | undefined {
    return this.entries.get(id);
  }

  /** Adds messages before everything shown (an older page), in their reading order. */
  prepend(items: readonly (readonly [string, LedgerEntry])[]): void {
    for (const [id, entry] of items) this.entries.set(id, entry);
    this.order = [...items.map(([id]) => id), ...this.order];
  }

  append(id: string, entry: LedgerEntry): void {
    this.entries.set(id, entry);
    this.order.push(id);
  }

  /** Puts `next` (under the id `nextId`) where `id` was: a bubble whose message was replaced. */
  replace(id: string, nextId: string, next: LedgerEntry): void {
    const position = this.order.indexOf(id);
    this.entries.delete(id);
    this.entries.set(nextId, next);
    if (position === -1) this.order.push(nextId);
    else this.order[position] = nextId;
  }

  update(id: string, change: Partial<LedgerEntry>): void {
    const entry = this.entries.get(id);
    if (entry) this.entries.set(id, { ...entry, ...change });
  }

  /** The id of the first message shown (the top of the list), if any. */
  first(): string | undefined {
    return this.order[0];
  }

  /** The id of the message shown just before `id`, across pages. */
  previous(id: string): string | undefined {
    const position = this.order.indexOf(id);
    return position > 0 ? this.order[position - 1] : undefined;
  }

  clear(): void {
    this.entries.clear();
    this.order = [];
  }
}

/** What the ledger keeps of a stored message shown at `at`. */
export function storedLedgerEntry(at: MessageAt, stored: StoredMessage | undefined): LedgerEntry {
  if (!stored) return { at, role: 'assistant', serverId: '', text: '', rating: '' };
  const entry: LedgerEntry = { at, role: stored.role, serverId: stored.id, text: stored.text, rating: stored.feedback?.rating ?? '' };
  if (stored.versions) entry.versions = stored.versions;
  return entry;
}
