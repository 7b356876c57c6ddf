/**
 * The chat page's data model and the mapping from reply view patches to path-key `setData` objects.
 *
 * Contract: the page keeps one `ReplyRender` per reply being shown (what the view layer currently holds
 * for it) and passes it back in; the functions return the `setData` object to send and the next
 * `ReplyRender`. Replies and reasoning are Markdown: each `ReplyRender` owns the `ReplyMarkdown` of its
 * answer and of its reasoning (the one mutable part: it streams the revealed source into a
 * `MarkdownStream`), so finished blocks are sent once and each frame carries only the open block's
 * changed paths. Every key they produce is a path into one message
 * (`messages[3].blocks[2].text`, `messages[3].status`) or appends one message (`messages[4]`) —
 * never the `messages` array itself, so a frame costs what changed, not the whole conversation.
 * Reasoning text crosses the bridge only while its panel is open: collapsed, the view needs to know
 * only that there is some. A conversation loaded from history (`storedMessages`) is the one exception
 * to path keys: its messages arrive together and are set as one list, once.
 */
import { renderMarkdown, type FeedbackRating, type ReplyStatus, type ReplyViewPatch, type StoredMessage, type TurnVersions } from '../../vendor/wxstream-client.js';
import { displayBlocks, plainBlock, type DisplayBlock } from '../../components/markdown-block/display-block.ts';
import { ReplyMarkdown } from './reply-markdown.ts';

/** `blocked`: a stored reply the content check stopped (live replies end as `error` with its message). */
export type RenderStatus = ReplyStatus | 'blocked';
export type MessageStatus = 'sent' | RenderStatus;

/** The status line of a stored reply that did not complete (it failed, or was still being written). */
export const INCOMPLETE_REPLY = '回复不完整';

/**
 * The read-aloud control under a reply: '' none (not spoken, or nothing playable), `playing` offers
 * 停止朗读, `played` offers 重播, `paused` (held by an audio interruption) offers 继续朗读. A finished
 * reply with no control offers 朗读 (spoken through the speech route).
 */
export type AudioControl = '' | 'playing' | 'played' | 'paused';

/** One chat bubble as the view renders it. Every field always has a value: setData never carries undefined. */
export interface ChatMessage {
  /** Stable `wx:key`; also the element id the list can scroll to. */
  id: string;
  role: 'user' | 'assistant';
  /** Markdown display blocks of a reply; one `plain` block for the user's own text. */
  blocks: DisplayBlock[];
  status: MessageStatus;
  hasReasoning: boolean;
  reasoningOpen: boolean;
  reasoningBlocks: DisplayBlock[];
  /** Chinese, shown in the status line under an assistant bubble when `status` is `error`. */
  errorMessage: string;
  retryable: boolean;
  /** Why the model stopped ('' while streaming); `length` and `content_filter` get a note under the reply. */
  finishReason: string;
  audio: AudioControl;
  /** The owner's rating of a reply: '' none. */
  rating: '' | FeedbackRating;
  /** 1-based position of the version shown in its turn's versions; 0 for a turn with one version. */
  versionIndex: number;
  versionCount: number;
}

/** What the view currently shows of one reply, so the next patch can be sent as a difference. */
export interface ReplyRender {
  status: RenderStatus;
  /** The answer's Markdown as the view holds it. */
  markdown: ReplyMarkdown;
  /** The latest reasoning text, shown or not. */
  reasoning: string;
  reasoningOpen: boolean;
  /** The reasoning's Markdown as the view holds it (stale while collapsed: nothing is sent then). */
  reasoningMarkdown: ReplyMarkdown;
  /** The server's id of the reply, once known: what 朗读 asks the speech route for. */
  messageId?: string;
}

export type SetDataObject = Record<string, unknown>;

export function userMessage(id: string, text: string): ChatMessage {
  return {
    id,
    role: 'user',
    blocks: [plainBlock(text)],
    status: 'sent',
    hasReasoning: false,
    reasoningOpen: false,
    reasoningBlocks: [],
    errorMessage: '',
    retryable: false,
    finishReason: '',
    audio: '',
    rating: '',
    versionIndex: 0,
    versionCount: 0,
  };
}

export function pendingReply(id: string): ChatMessage {
  return { ...userMessage(id, ''), role: 'assistant', blocks: [], status: 'streaming' };
}

export function emptyReplyRender(): ReplyRender {
  return { status: 'streaming', markdown: new ReplyMarkdown(), reasoning: '', reasoningOpen: false, reasoningMarkdown: new ReplyMarkdown() };
}

/**
 * Where a message lives in page data: an index into `messages` (the newest page and everything sent on
 * this visit), or the full path of a message on an older page (`older.p2[5]`, see older-pages.ts).
 */
export type MessageAt = number | string;

export function messagePath(at: MessageAt): string {
  return typeof at === 'number' ? `messages[${at}]` : at;
}

/** A message path as the template writes it (`data-at`) back to a `MessageAt`; undefined for anything else. */
export function parseMessageAt(path: unknown): MessageAt | undefined {
  if (typeof path !== 'string') return undefined;
  const index = /^messages\[(\d+)\]$/.exec(path);
  if (index) return Number(index[1]);
  return /^older\.p\d+\[\d+\]$/.test(path) ? path : undefined;
}

/** Appends messages after the `count` already in the list, one path key each. */
export function appendMessages(count: number, messages: readonly ChatMessage[]): SetDataObject {
  const data: SetDataObject = {};
  messages.forEach((message, offset) => {
    data[messagePath(count + offset)] = message;
  });
  return data;
}

/** Replaces the message at `index` (a retried reply starts over in its own bubble). */
export function replaceMessage(index: MessageAt, message: ChatMessage): SetDataObject {
  return { [messagePath(index)]: message };
}

/** Sets the read-aloud control of the reply at `index`. */
export function audioControlData(index: MessageAt, control: AudioControl): SetDataObject {
  return { [`${messagePath(index)}.audio`]: control };
}

/** The version switcher of the reply at `at` (`versions` absent: a single version, no switcher). */
export function versionFields(versions: TurnVersions | undefined): Pick<ChatMessage, 'versionIndex' | 'versionCount'> {
  return versions ? { versionIndex: versions.current + 1, versionCount: versions.items.length } : { versionIndex: 0, versionCount: 0 };
}

/** Sets the rating shown under the reply at `at`. */
export function ratingData(at: MessageAt, rating: '' | FeedbackRating): SetDataObject {
  return { [`${messagePath(at)}.rating`]: rating };
}

/** Sets the version switcher of the reply at `at`. */
export function versionData(at: MessageAt, versions: TurnVersions | undefined): SetDataObject {
  const fields = versionFields(versions);
  return { [`${messagePath(at)}.versionIndex`]: fields.versionIndex, [`${messagePath(at)}.versionCount`]: fields.versionCount };
}

/** Sets only the status of the message at `index` (a reopened reply keeps its text while it reconnects). */
export function statusData(index: MessageAt, status: MessageStatus): SetDataObject {
  return { [`${messagePath(index)}.status`]: status };
}

/**
 * The `setData` object for one render patch of the reply shown at `index` (which starts out as a
 * `pendingReply`, i.e. as `emptyReplyRender()`), and what the view then holds.
 */
export function replyPatchData(index: MessageAt, patch: ReplyViewPatch, render: ReplyRender): { data: SetDataObject; render: ReplyRender } {
  const at = messagePath(index);
  const data: SetDataObject = {};
  const next: ReplyRender = { ...render };

  // The reply's last frame carries its final status: that is when its Markdown is finished.
  const final = (patch.status ?? render.status) !== 'streaming';
  if (patch.text !== undefined || (final && render.status === 'streaming')) {
    Object.assign(data, render.markdown.update(`${at}.blocks`, patch.text ?? render.markdown.text, final));
  }
  const reasoningChanged = patch.reasoning !== undefined && patch.reasoning !== render.reasoning;
  if (reasoningChanged && render.reasoning === '' && patch.reasoning !== '') data[`${at}.hasReasoning`] = true;
  if (patch.reasoning !== undefined) next.reasoning = patch.reasoning;
  if (render.reasoningOpen && (reasoningChanged || (final && render.status === 'streaming'))) {
    Object.assign(data, render.reasoningMarkdown.update(`${at}.reasoningBlocks`, next.reasoning, final));
  }
  if (patch.status !== undefined && patch.status !== render.status) {
    data[`${at}.status`] = patch.status;
    next.status = patch.status;
  }
  if (patch.errorMessage !== undefined) data[`${at}.errorMessage`] = patch.errorMessage;
  if (patch.retryable !== undefined) data[`${at}.retryable`] = patch.retryable;
  if (patch.finishReason !== undefined) data[`${at}.finishReason`] = patch.finishReason;
  if (patch.messageId !== undefined) next.messageId = patch.messageId;
  return { data, render: next };
}

/** Opens or closes the reasoning panel of the reply at `index`; opening sends the reasoning the view lacks. */
export function reasoningToggleData(index: MessageAt, open: boolean, render: ReplyRender): { data: SetDataObject; render: ReplyRender } {
  const at = messagePath(index);
  const data: SetDataObject = { [`${at}.reasoningOpen`]: open };
  if (!open) return { data, render: { ...render, reasoningOpen: false } };
  Object.assign(data, render.reasoningMarkdown.update(`${at}.reasoningBlocks`, render.reasoning, render.status !== 'streaming'));
  return { data, render: { ...render, reasoningOpen: true } };
}


/**
 * The messages of a stored conversation as the view shows them, with the render of each reply (for
 * reasoning toggles), keyed by index. Ids come from `newId` (stored ids need not be valid element ids).
 * Stored statuses map to what a live reply shows: complete → done, stopped → 已停止, blocked → its own
 * line; error and an unfinished streaming reply → `error` with INCOMPLETE_REPLY and no retry (a retry
 * resends the last message of this visit, and there is none yet).
 */
export function storedMessages(
  stored: readonly StoredMessage[],
  newId: () => string,
): { messages: ChatMessage[]; renders: Map<number, ReplyRender> } {
  const messages: ChatMessage[] = [];
  const renders = new Map<number, ReplyRender>();
  stored.forEach((entry, index) => {
    if (entry.role === 'user') {
      messages.push(userMessage(newId(), entry.text));
      return;
    }
    const blocks = displayBlocks(renderMarkdown(entry.text));
    const reasoning = entry.reasoning ?? '';
    let status: RenderStatus;
    if (entry.status === 'complete') status = 'done';
    else if (entry.status === 'stopped' || entry.status === 'blocked') status = entry.status;
    else status = 'error';
    messages.push({
      ...pendingReply(newId()),
      blocks,
      status,
      hasReasoning: reasoning !== '',
      errorMessage: status === 'error' ? INCOMPLETE_REPLY : '',
      finishReason: entry.finishReason ?? '',
      rating: entry.feedback?.rating ?? '',
      ...versionFields(entry.versions),
    });
    renders.set(index, {
      status,
      markdown: ReplyMarkdown.fromStored(entry.text, blocks),
      reasoning,
      reasoningOpen: false,
      reasoningMarkdown: new ReplyMarkdown(),
      messageId: entry.id,
    });
  });
  return { messages, renders };
}
