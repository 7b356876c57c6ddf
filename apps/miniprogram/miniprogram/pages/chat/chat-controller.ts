/**
 * The chat page's behaviour, apart from the `Component` glue: what sending, stopping, retrying,
 * scrolling, hiding and leaving the page do to the conversation and to the view. It coordinates; the
 * parts with a job of their own live beside it: reply-audio.ts (playback), message-speech.ts (朗读
 * through the speech route), voice-settings.ts (朗读 toggle, input mode), title-sync.ts (the title and
 * its delayed look-up), older-pages.ts, message-ledger.ts, reply-commands.ts, chat-view-model.ts.
 *
 * Contract:
 * - One stream at a time (iOS delivers chunks to only one chunked request): `send` and `retry` refuse
 *   while a reply is streaming, and the send button is disabled meanwhile.
 * - Every reply is typed out by its own `ReplySession`; each render patch becomes one path-key
 *   `setData` (chat-view-model.ts) — at most one per frame, and none while the page is hidden (the
 *   session catches up in one render when it is shown again).
 * - A finished reply's conversation id is sent with the next message. `retry` after a reply whose
 *   connection kept breaking until its session gave up (`ReplySession.reopenable`) reopens that reply
 *   from its last event id — the server keeps generating it and would refuse (409 reply_in_progress)
 *   or duplicate a second send — so the text goes on where it stopped; only if the server no longer
 *   has it (404), and after any other retryable error, the last user message is sent again into the
 *   failed reply's bubble.
 * - `openConversation(id)` loads the newest page of a stored conversation and shows it with one
 *   `setData`; nothing can be sent until it is shown, and the next message continues that conversation.
 *   `loadOlder()` (the list reached its top) puts the page before it above, one `setData` per page,
 *   scrolled so the reader stays in place (older-pages.ts). A
 *   conversation the server does not have (`not_found`, also another user's) says so and offers a
 *   new one; other failures offer a retry. `newConversation()` clears the page. Both, and leaving for
 *   the history page, are refused while a reply streams (leaving the page would abort it).
 * - A reply whose connection breaks is continued by its session (events route, from its last event
 *   id); `appShown()` and `networkChanged(true)` make it continue at once rather than after its backoff.
 *   Stop also tells the server to stop the model (`deps.stopReply`, fire and forget).
 * - A reply cut by the length limit offers 继续: `continueReply()` sends 继续 in the same conversation.
 * - Voice: with the toggle on (saved through `deps.voicePreference`) messages ask for `voice: true`, and
 *   the latest reply's `audio` segments go to its playback (reply-audio.ts) as the session reports them
 *   (`onStateChange`, not renders: an audio event changes no view). The view hears of it only on its
 *   edges — a reply's control becomes 停止朗读 while it reads and 重播 once read — never per segment.
 *   停止 silences the audio with the text; 停止朗读 and turning voice off silence the audio only; a
 *   hidden page stops reading (InnerAudioContext would go on behind another page or app), and 重播 then
 *   reads the reply from the start. A `start` that says `voice: false` to a request that asked for voice
 *   gets one `deps.notify` with the tts_unavailable message — once, until voice is turned on again.
 *   Audio failures skip the segment (`deps.audioError` logs them) and never touch the text. A reply the
 *   content check stopped (`content_blocked`) is silenced at once and offers no 重播.
 * - Replies: `regenerate()` streams a new version of the last reply into its bubble
 *   (`{conversationId, regenerate: true}`); `editLastQuestion()` puts the last question in the composer
 *   and the next `send()` replaces that turn's two bubbles (`{conversationId, message, editOf}`);
 *   `sendSuggestion(text)` sends a follow-up chip. A reply that ends done or stopped has its turn read
 *   back (`?limit=2`) for its question's id, its versions and the conversation's title; its
 *   `suggestions` show as chips until the next question. `replaceTurn` shows a turn as the server
 *   answered a version switch, wherever it is on screen. What the action bar does lives in
 *   reply-commands.ts, over the `ledger` this controller keeps.
 * - `keyboardHeightChanged(px)` sizes the dock's spacer; a reader at the bottom stays there.
 * - Every request carries a `requestId` (a new one per message, regenerate or edit); 重试 of a reply that
 *   never started (no `start`: the send may have been committed before the network failed) sends the same
 *   one again, so the server answers with that turn instead of starting a second. 停止 stops by the
 *   requestId at once, also before `start`; the next request waits until the server has answered that stop.
 * - Audio interruptions hold the reading (继续朗读 when it cannot go on by itself); 重播 of a reply whose
 *   audio links have expired, and 朗读 under a finished reply (also one reopened from history), get the
 *   reply's audio afresh from the speech route.
 * - Voice input (components/voice-input): the composer shows the keyboard or the 按住 说话 button
 *   (`toggleInputMode`, saved through `deps.inputModePreference`). Pressing it is a barge-in
 *   (`bargeIn`): the reply being read falls silent at once, and a reply still streaming is stopped as by
 *   停止, so the user's words come next. `sendSpoken(text)` sends the transcript as the user's message
 *   and **asks for a spoken reply whatever the 朗读 toggle says** — a spoken question gets a spoken
 *   answer; when it cannot be sent now (a stored conversation still loading, an edit in progress, an
 *   old WeChat) the transcript goes into the text box in keyboard mode instead of being lost.
 *   `voiceFailed` shows what went wrong with a recording.
 * - `dispose()` aborts the stream (without stopping the model: the server finishes and stores the reply),
 *   disposes the session and the audio (every player destroyed) and leaves no timer behind; the
 *   controller is inert afterwards.
 * All time and I/O come in through `ChatControllerDeps`.
 */
import {
  ReplySession,
  userMessageFor,
  WxstreamError,
  type AudioPlayer,
  type AudioPlayerError,
  type ChatRequest,
  type Clock,
  type ReplyState,
  type StoredMessage,
  type ReplyStreamHandle,
  type ReplyStreamHandlers,
  type ReplyViewPatch,
  type Scheduler,
} from '../../vendor/wxstream-client.js';
import {
  appendMessages,
  emptyReplyRender,
  pendingReply,
  messagePath,
  reasoningToggleData,
  replaceMessage,
  replyPatchData,
  statusData,
  storedMessages,
  userMessage,
  versionData,
  type ChatMessage,
  type MessageAt,
  type ReplyRender,
  type SetDataObject,
} from './chat-view-model.ts';
import type { ConversationMessagesPage } from '../../lib/conversations-api.ts';
import type { InputMode } from '../../lib/input-mode-preference.ts';
import { MessageLedger, storedLedgerEntry, type LedgerEntry } from './message-ledger.ts';
import { OlderPages } from './older-pages.ts';
import { ReplyAudio } from './reply-audio.ts';
import { MessageSpeech } from './message-speech.ts';
import { VoiceSettings } from './voice-settings.ts';
import { TitleSync } from './title-sync.ts';
import { afterScroll, initialFollowState, nextBottomAnchor, resumeFollowing, type FollowState, type ScrollMetrics } from './scroll-follow.ts';

/** Shown when the conversation to open does not exist (deleted, or someone else's). */
export const CONVERSATION_NOT_FOUND = '这个对话不存在或已被删除。';

/** Everything the page template reads. */
export interface ChatPageData {
  messages: ChatMessage[];
  draft: string;
  /** There is something to send and this WeChat can stream (the button also waits for `streaming`). */
  canSend: boolean;
  streaming: boolean;
  following: boolean;
  scrollAnchor: string;
  /** A page-wide notice (an unsupported WeChat version); '' when there is none. */
  notice: string;
  /** A stored conversation is being loaded. */
  loading: boolean;
  /** Why loading the conversation failed (Chinese); '' otherwise. */
  loadError: string;
  /** Loading again may help (it cannot for a conversation that does not exist). */
  loadRetryable: boolean;
  /** The stored conversation's title; '' for a new conversation. */
  title: string;
  /** Replies are read aloud (the toggle in the toolbar). */
  voice: boolean;
  /** The composer shows the text box or the 按住 说话 button. */
  inputMode: InputMode;
  /** Older pages of a long conversation, by key (older-pages.ts), and their keys oldest first. */
  older: Record<string, ChatMessage[]>;
  olderKeys: string[];
  /** The conversation has messages before the ones shown. */
  hasOlder: boolean;
  loadingOlder: boolean;
  /** Why the last older page could not be loaded ('' otherwise); tapping it loads again. */
  olderError: string;
  /** Follow-up questions under the last reply (its `suggestions` event); [] when none. */
  suggestions: string[];
  /** The composer holds the last question to send again in its place (编辑). */
  editing: boolean;
  /** The keyboard's height in px: the composer and the 回到底部 pill sit above it. */
  keyboardHeight: number;
}

/** Said when a transcript could not be sent at once and waits in the text box. */
export const SPOKEN_TEXT_KEPT = '识别的文字已放进输入框，可以稍后发送。';

/** What 继续 sends after a reply that hit the length limit. */
export const CONTINUE_MESSAGE = '继续';

export interface ChatControllerDeps {
  setData(data: SetDataObject): void;
  openStream(body: ChatRequest, handlers: ReplyStreamHandlers): ReplyStreamHandle;
  /** Opens a reply's events route after `lastEventId`, to continue it after a broken connection. */
  openReplyEvents(messageId: string, lastEventId: number, handlers: ReplyStreamHandlers): ReplyStreamHandle;
  /** `POST /api/chat/:messageId/stop`; fire and forget (the page logs a failure). */
  stopReply(messageId: string): void;
  /**
   * `POST /api/chat/requests/:requestId/stop`: settles (never rejects) once the server has answered; the next
   * message waits for it, so it is not refused while the stopped reply is still ending.
   */
  stopRequest(requestId: string): Promise<void>;
  /** A new `requestId` for a message (lib/request-id.ts). */
  newRequestId(): string;
  /** `POST /api/messages/:messageId/speech`: a stored reply's `audio` events and one `done`. */
  openMessageSpeech(messageId: string, handlers: ReplyStreamHandlers): ReplyStreamHandle;
  /** The platform's audio options, awaited before the first segment plays. */
  prepareAudio?(): Promise<void>;
  /** Uniform in [0, 1): the jitter of reconnect backoffs. */
  random(): number;
  clock: Clock;
  scheduler: Scheduler;
  /** Whether replies can be received here at all (the page polls where it cannot stream, so it passes true). */
  streamingSupported: boolean;
  /** `GET /api/conversations/:id?limit=N&before=…`: the newest page before `before` (the newest of all without). */
  loadMessages(id: string, before?: string, limit?: number): Promise<ConversationMessagesPage>;
  /** Goes to the history page. */
  openHistory(): void;
  /** A new, unused audio player (InnerAudioContext on a device). */
  createAudioPlayer(): AudioPlayer;
  /** Where relative segment URLs are fetched from: the server the replies come from. */
  audioBaseUrl: string;
  /** The saved voice toggle. */
  voicePreference: { load(): boolean; save(on: boolean): void };
  /** The saved keyboard / voice choice of the composer. */
  inputModePreference: { load(): InputMode; save(mode: InputMode): void };
  /** A short notice that goes away by itself (a toast). */
  notify(message: string): void;
  /** A spoken segment could not be played and was skipped. */
  audioError(index: number, error: AudioPlayerError): void;
}

export function initialChatData(): ChatPageData {
  return {
    messages: [],
    draft: '',
    canSend: false,
    streaming: false,
    following: true,
    scrollAnchor: '',
    notice: '',
    loading: false,
    loadError: '',
    loadRetryable: false,
    title: '',
    voice: false,
    inputMode: 'keyboard',
    older: {},
    olderKeys: [],
    hasOlder: false,
    loadingOlder: false,
    olderError: '',
    suggestions: [],
    editing: false,
    keyboardHeight: 0,
  };
}

export { TITLE_RECHECK_MS } from './title-sync.ts';

/** Shown when an older page could not be loaded; the line itself is the retry. */
export const OLDER_LOAD_FAILED = '更早的消息加载失败，点击重试';
/** Shown when a question cannot be edited yet (its id is not known: the turn was not read back). */
export const CANNOT_EDIT = '这条消息暂时无法编辑，请稍后再试。';

type Phase = 'ready' | 'loading' | 'load-failed';

export class ChatController {
  private readonly deps: ChatControllerDeps;
  /*
   * `count` — messages in the view's list (the controller never reads the view's data back).
   * `renders` — per assistant message index, what the view holds of it (for diffs and reasoning toggles).
   * `session` — the latest reply's session. It outlives its settling: a reply that ended while the page
   *   was hidden is shown by the session's catch-up render, so it is disposed only when the next reply
   *   starts or the page goes away.
   * `streaming` — the latest reply has not settled: sending is refused.
   * `lastRequest` — what the last send asked, for retry.
   * `lastFinishReason` — how the last reply on the page finished (a stored one too), for 继续.
   * `conversationId` — from the last reply that reported one; sent with the next message.
   * `draft` — the composer text as typed (mirrored into data so the textarea can be cleared).
   * `visible` — the page is on screen; sessions render only then.
   * `follow` / `anchor` — auto-scroll state and the current `scroll-into-view` value.
   * `viewportHeight` — the list's height; 0 until measured (then only reaching the very end counts as bottom).
   * `phase` — `ready` to send; `loading` / `load-failed` while a stored conversation is not shown yet.
   * `loadGeneration` — bumped by every load and reset, so only the latest load's answer is shown.
   * `voice` — the 朗读 toggle, the composer's input mode, and whether the latest reply is read (voice-settings.ts).
   * `audio` — the latest reply's playback; it goes when the next reply starts, so only the latest
   *   reply offers 重播.
   * `disposed` — the page is gone: every entry point is a no-op.
   * `ids` — the local id of each message in the view's `messages` list, by index.
   * `ledger` — every message shown (older pages too), by local id: what the reply actions need.
   * `older` — the older pages loaded on scrolling up, and the cursor of the next one.
   * `editing` — the draft replaces the last question when sent (编辑).
   * `keyboardHeight` — px the keyboard covers; the dock sits above it.
   * `titles` — the title shown, and the one pending look-up of a new conversation's title (title-sync.ts).
   */
  private count = 0;
  private readonly renders = new Map<number, ReplyRender>();
  private session: ReplySession | undefined;
  private streaming = false;
  private lastRequest: ChatRequest | undefined;
  private lastFinishReason: string | undefined;
  private conversationId: string | undefined;
  private draft = '';
  private visible = true;
  private follow: FollowState = initialFollowState();
  private anchor = '';
  private viewportHeight = 0;
  private phase: Phase = 'ready';
  private loadGeneration = 0;
  private readonly voice: VoiceSettings;
  private readonly audio: ReplyAudio;
  private disposed = false;
  private nextId = 1;
  private ids: string[] = [];
  readonly ledger = new MessageLedger();
  private readonly older = new OlderPages();
  private editing = false;
  private keyboardHeight = 0;
  /** The stop of the last reply, until the server answered it: the next send waits for it. */
  private pendingStop: Promise<void> | undefined;
  /** 朗读 / an expired 重播 through the speech route (message-speech.ts). */
  private readonly speech: MessageSpeech;
  private readonly titles: TitleSync;

  constructor(deps: ChatControllerDeps) {
    this.deps = deps;
    this.voice = new VoiceSettings({
      setData: (data) => this.deps.setData(data),
      voicePreference: deps.voicePreference,
      inputModePreference: deps.inputModePreference,
      notify: (message) => this.deps.notify(message),
    });
    this.titles = new TitleSync({
      setData: (data) => this.deps.setData(data),
      loadMessages: (id, before, limit) => this.deps.loadMessages(id, before, limit),
      scheduler: deps.scheduler,
    });
    this.audio = new ReplyAudio({
      setData: (data) => this.deps.setData(data),
      createPlayer: () => this.deps.createAudioPlayer(),
      ...(deps.prepareAudio === undefined ? {} : { prepare: () => (this.deps.prepareAudio as () => Promise<void>)() }),
      now: () => this.deps.clock.now(),
      baseUrl: deps.audioBaseUrl,
      scheduler: deps.scheduler,
      audioError: (index, error) => this.deps.audioError(index, error),
    });
    this.speech = new MessageSpeech({
      openMessageSpeech: (messageId, handlers) => this.deps.openMessageSpeech(messageId, handlers),
      audio: this.audio,
      notify: (message) => this.deps.notify(message),
      live: () => !this.disposed,
      visible: () => this.visible,
    });
  }

  /** The conversation shown, once the server has named it. */
  get currentConversationId(): string | undefined {
    return this.conversationId;
  }

  /** The conversation's title as shown ('' for a new one). */
  get currentTitle(): string {
    return this.titles.shown;
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  /** Shows the saved voice toggle (called once, when the page is attached). */
  restoreVoice(): void {
    if (this.disposed) return;
    this.voice.restore();
  }

  /** Keyboard ⇄ 按住 说话, remembered. */
  toggleInputMode(): void {
    if (this.disposed) return;
    this.voice.toggleInputMode();
  }

  /** The user pressed to talk: silence the reply being read, and stop one still streaming. */
  bargeIn(): void {
    if (this.disposed) return;
    this.audio.stop();
    if (this.streaming) this.stop();
  }

  /** Sends a transcript as the user's message, asking for a spoken reply; false when it went into the text box instead. */
  sendSpoken(text: string): boolean {
    const message = text.trim();
    if (this.disposed || message === '') return false;
    if (this.canStartReply() && !this.editing) {
      this.sendMessage(message, {}, true);
      return true;
    }
    this.input(this.draft === '' ? message : `${this.draft} ${message}`);
    this.voice.useKeyboard();
    this.deps.notify(SPOKEN_TEXT_KEPT);
    return false;
  }

  /** A recording failed: say what happened (the button keeps a recording worth retrying). */
  voiceFailed(message: string): void {
    if (this.disposed) return;
    this.deps.notify(message);
  }


  /** Turns reading aloud on or off for the next messages (off also silences the reply being read). */
  toggleVoice(): void {
    if (this.disposed) return;
    if (!this.voice.toggle()) this.audio.stop();
  }

  /** 停止朗读: silences the latest reply's audio; the text is untouched. */
  stopAudio(): void {
    if (this.disposed) return;
    this.audio.stop();
  }

  /** 重播: reads the latest reply again from its first segment (fetched again once its links expired). */
  replayAudio(): boolean {
    if (this.disposed || this.streaming) return false;
    const latest = this.ids[this.count - 1];
    if (latest !== undefined && this.audio.linksExpired(this.deps.clock.now())) return this.speakMessage(latest);
    return this.audio.replay();
  }

  /** 继续朗读: reads on from where an audio interruption held it. */
  resumeAudio(): boolean {
    if (this.disposed) return false;
    return this.audio.resume();
  }

  /** An audio interruption began (a call, an alarm, another app's sound): the reading is held. */
  audioInterrupted(): void {
    if (this.disposed) return;
    this.audio.interrupt();
  }

  /** The interruption ended: the held segment goes on from where it was (on screen), or offers 继续朗读. */
  audioInterruptionEnded(): void {
    if (this.disposed) return;
    this.audio.interruptionEnded();
  }

  /**
   * 朗读: speaks the finished reply with local id `id` through the speech route — a reply from the history,
   * or one whose audio links expired. Refused while a reply streams or before the reply has a server id.
   */
  speakMessage(id: string): boolean {
    const entry = this.ledger.get(id);
    if (this.disposed || this.streaming || entry === undefined || entry.role !== 'assistant' || entry.serverId === '') return false;
    this.speech.speak(entry.serverId, entry.at);
    return true;
  }

  input(value: string): void {
    if (this.disposed) return;
    const couldSend = this.canSend();
    this.draft = value;
    const data: SetDataObject = { draft: value };
    if (this.canSend() !== couldSend) data.canSend = this.canSend();
    this.deps.setData(data);
  }

  /** Sends the draft. Returns false (and changes nothing) when a reply is streaming or there is nothing to send. */
  send(): boolean {
    if (!this.canStartReply()) return false;
    const message = this.draft.trim();
    if (message === '') return false;
    if (this.editing) return this.sendEdit(message);
    this.draft = '';
    this.sendMessage(message, { draft: '', canSend: false });
    return true;
  }

  /** A follow-up chip was tapped: it is sent as the next message (the draft stays). */
  sendSuggestion(text: string): boolean {
    if (!this.canStartReply() || this.editing || text.trim() === '') return false;
    this.sendMessage(text.trim(), {});
    return true;
  }

  /**
   * 重新生成: a new version of the last reply from the same question, in the last reply's bubble. Only
   * once the reply has ended (not while it streams) and its conversation is known to the server.
   */
  regenerate(): boolean {
    const index = this.count - 1;
    const render = this.renders.get(index);
    if (!this.canStartReply() || this.conversationId === undefined || render === undefined || render.status === 'streaming') return false;
    const request: ChatRequest = { conversationId: this.conversationId, regenerate: true };
    if (this.voice.on) request.voice = true;
    this.clearEditing();
    this.streaming = true;
    this.follow = resumeFollowing(this.follow);
    const reply = this.place(index, pendingReply(this.newId()), { role: 'assistant', text: '' });
    this.deps.setData({
      ...replaceMessage(index, reply),
      streaming: true,
      following: true,
      suggestions: [],
      scrollAnchor: this.nextAnchor(),
    });
    this.startReply(index, request);
    return true;
  }

  /** 编辑 on the last question: its text goes back into the composer; sending replaces the turn. */
  editLastQuestion(): boolean {
    const index = this.count - 2;
    const id = this.ids[index];
    const entry = id === undefined ? undefined : this.ledger.get(id);
    if (this.disposed || this.streaming || this.phase !== 'ready' || entry?.role !== 'user') return false;
    if (entry.serverId === '' || this.conversationId === undefined) {
      this.deps.notify(CANNOT_EDIT);
      return false;
    }
    this.editing = true;
    this.draft = entry.text;
    this.deps.setData({ draft: entry.text, editing: true, canSend: this.canSend() });
    return true;
  }

  /** Leaves editing; the draft is kept as typed. */
  cancelEdit(): void {
    if (this.disposed || !this.editing) return;
    this.clearEditing();
    this.deps.setData({ editing: false });
  }

  private clearEditing(): void {
    this.editing = false;
  }

  /** Sends `message` as a new version of the last turn: its question and reply bubbles start over. */
  private sendEdit(message: string): boolean {
    const userIndex = this.count - 2;
    const replyIndex = this.count - 1;
    const editedId = this.ids[userIndex];
    const edited = editedId === undefined ? undefined : this.ledger.get(editedId);
    if (edited?.role !== 'user' || edited.serverId === '' || this.conversationId === undefined) return false;
    const request: ChatRequest = { conversationId: this.conversationId, message, editOf: edited.serverId };
    if (this.voice.on) request.voice = true;
    this.draft = '';
    this.editing = false;
    this.streaming = true;
    this.follow = resumeFollowing(this.follow);
    const question = this.place(userIndex, userMessage(this.newId(), message), { role: 'user', text: message });
    const reply = this.place(replyIndex, pendingReply(this.newId()), { role: 'assistant', text: '' });
    this.deps.setData({
      ...replaceMessage(userIndex, question),
      ...replaceMessage(replyIndex, reply),
      draft: '',
      canSend: false,
      editing: false,
      streaming: true,
      following: true,
      suggestions: [],
      scrollAnchor: this.nextAnchor(),
    });
    this.startReply(replyIndex, request);
    return true;
  }

  /** Records `message` as the bubble at `index` of `messages` and returns it (the caller tells the view). */
  private place(index: number, message: ChatMessage, entry: Pick<LedgerEntry, 'role' | 'text'>): ChatMessage {
    const previous = this.ids[index];
    const next: LedgerEntry = { at: index, serverId: '', rating: '', ...entry };
    if (previous === undefined) this.ledger.append(message.id, next);
    else this.ledger.replace(previous, message.id, next);
    this.ids[index] = message.id;
    return message;
  }

  /** After a reply cut by the length limit: asks for the rest in the same conversation (the draft stays). */
  continueReply(): boolean {
    if (!this.canStartReply() || this.lastFinishReason !== 'length' || this.conversationId === undefined) return false;
    this.sendMessage(CONTINUE_MESSAGE, {});
    return true;
  }

  /** The app is in the foreground again: a broken reply continues now. */
  appShown(): void {
    if (this.disposed) return;
    this.session?.resume();
  }

  /** The network changed; an open connection belonged to the old one, so the reply reconnects. */
  networkChanged(isConnected: boolean): void {
    if (this.disposed || !isConnected) return;
    this.session?.resume({ force: true });
  }

  private canStartReply(): boolean {
    return !this.disposed && !this.streaming && this.phase === 'ready' && this.deps.streamingSupported;
  }

  private sendMessage(message: string, composer: SetDataObject, spoken = false): void {
    const request: ChatRequest = this.conversationId === undefined ? { message } : { message, conversationId: this.conversationId };
    if (this.voice.asksVoice(spoken)) request.voice = true;
    this.voice.messageSent(spoken);
    const userIndex = this.count;
    const replyIndex = userIndex + 1;
    this.count += 2;
    this.streaming = true;
    this.follow = resumeFollowing(this.follow);
    const question = this.place(userIndex, userMessage(this.newId(), message), { role: 'user', text: message });
    const reply = this.place(replyIndex, pendingReply(this.newId()), { role: 'assistant', text: '' });
    this.deps.setData({
      ...appendMessages(userIndex, [question, reply]),
      ...composer,
      streaming: true,
      following: true,
      suggestions: [],
      scrollAnchor: this.nextAnchor(),
    });
    this.startReply(replyIndex, request);
  }

  /**
   * Continues the failed last reply where it broke off, or sends its message again (see the contract).
   * Only the last reply, only after an error.
   */
  retry(): boolean {
    const replyIndex = this.count - 1;
    const request = this.lastRequest;
    const render = this.renders.get(replyIndex);
    if (this.disposed || this.streaming || request === undefined || render?.status !== 'error') return false;
    this.streaming = true;
    this.follow = resumeFollowing(this.follow);
    const failed = this.session;
    if (failed?.reopenable === true) {
      // The bubble keeps its text; only its status changes until the reopened reply renders.
      this.renders.set(replyIndex, { ...render, status: 'streaming' });
      this.deps.setData({
        ...statusData(replyIndex, 'streaming'),
        streaming: true,
        following: true,
        scrollAnchor: this.nextAnchor(),
      });
      this.reopenReply(replyIndex, failed.state, request);
      return true;
    }
    // A reply that never started may have been committed before the network failed: the same requestId
    // finds that turn again. One that started and failed is a new attempt, with a new id.
    const started = failed?.state.messageId !== undefined;
    this.resend(replyIndex, started ? { ...request, requestId: this.deps.newRequestId() } : request);
    return true;
  }

  /** Sends `request` again into the bubble at `index`, which starts over. */
  private resend(index: number, request: ChatRequest): void {
    const reply = this.place(index, pendingReply(this.newId()), { role: 'assistant', text: '' });
    this.deps.setData({
      ...replaceMessage(index, reply),
      streaming: true,
      following: true,
      scrollAnchor: this.nextAnchor(),
    });
    this.startReply(index, request);
  }

  /** Shows the stored conversation `id` and continues it. Refused while a reply streams. */
  openConversation(id: string): boolean {
    if (this.disposed || this.streaming) return false;
    // A page opened with an id (the usual case) has nothing to clear yet.
    const shown = this.count > 0 || this.phase !== 'ready';
    this.reset();
    this.conversationId = id;
    this.phase = 'loading';
    this.deps.setData({ ...(shown ? this.clearedData() : {}), loading: true, canSend: false });
    this.load(id);
    return true;
  }

  /** Loads the conversation again after a failure that retrying may fix. */
  retryLoad(): boolean {
    if (this.disposed || this.phase !== 'load-failed' || this.conversationId === undefined) return false;
    this.phase = 'loading';
    this.deps.setData({ loading: true, loadError: '', loadRetryable: false });
    this.load(this.conversationId);
    return true;
  }

  /** Clears the page for a new conversation (the draft stays). Refused while a reply streams. */
  newConversation(): boolean {
    if (this.disposed || this.streaming) return false;
    this.reset();
    this.deps.setData({ ...this.clearedData(), canSend: this.canSend() });
    return true;
  }

  /** Goes to the history page. Refused while a reply streams: opening a conversation there would abort it. */
  openHistory(): boolean {
    if (this.disposed || this.streaming) return false;
    this.deps.openHistory();
    return true;
  }

  /** The user pressed stop: the stream is aborted, the partial reply stays and is marked stopped. */
  stop(): void {
    if (this.disposed) return;
    this.session?.stop();
    this.speech.stop();
    this.audio.stop();
  }

  setVisible(visible: boolean): void {
    if (this.disposed || visible === this.visible) return;
    // Before hiding, so the control's last change reaches the view while it still takes setData. A reading
    // held by an interruption stays held: 继续朗读 picks it up where it was.
    if (!visible && !this.audio.paused) this.audio.stop();
    this.visible = visible;
    this.session?.setVisible(visible);
    this.audio.setVisible(visible);
  }

  /** Opens or closes the reasoning panel of the reply at `at` (an index into `messages`, or an older page's path). */
  toggleReasoning(at: MessageAt): void {
    if (this.disposed) return;
    const render = typeof at === 'number' ? this.renders.get(at) : this.older.renders.get(at);
    if (!render) return;
    const toggled = reasoningToggleData(at, !render.reasoningOpen, render);
    if (typeof at === 'number') this.renders.set(at, toggled.render);
    else this.older.renders.set(at, toggled.render);
    this.deps.setData(toggled.data);
  }

  /** The list's own height, measured once it is laid out. */
  setViewportHeight(height: number): void {
    this.viewportHeight = height;
  }

  scrolled(scrollTop: number, scrollHeight: number): void {
    if (this.disposed) return;
    const metrics: ScrollMetrics = { scrollTop, scrollHeight, viewportHeight: this.viewportHeight };
    this.setFollow(afterScroll(this.follow, metrics), false);
  }

  reachedBottom(): void {
    if (this.disposed) return;
    this.setFollow(resumeFollowing(this.follow), false);
  }

  jumpToBottom(): void {
    if (this.disposed) return;
    this.setFollow(resumeFollowing(this.follow), true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.titles.cancel();
    const session = this.session;
    this.session = undefined;
    session?.dispose();
    this.speech.stop();
    this.audio.dispose();
  }

  /** Shows the newest page of the conversation `id` (older pages come on scrolling up). */
  private load(id: string): void {
    const generation = ++this.loadGeneration;
    this.deps.loadMessages(id).then(
      (page) => {
        if (this.disposed || generation !== this.loadGeneration) return;
        const { messages, renders } = storedMessages(page.messages, () => this.newId());
        this.count = messages.length;
        for (const [index, render] of renders) this.renders.set(index, render);
        messages.forEach((message, index) => {
          this.ids[index] = message.id;
          this.ledger.append(message.id, storedLedgerEntry(index, page.messages[index]));
        });
        this.older.reset(page.nextCursor);
        const last = page.messages[page.messages.length - 1];
        this.lastFinishReason = last?.role === 'assistant' ? last.finishReason : undefined;
        this.conversationId = page.conversation.id;
        this.phase = 'ready';
        this.follow = resumeFollowing(this.follow);
        this.titles.change(page.conversation.title);
        this.deps.setData({
          messages,
          hasOlder: page.nextCursor !== null,
          loading: false,
          title: this.titles.shown,
          canSend: this.canSend(),
          following: true,
          scrollAnchor: this.nextAnchor(),
        });
      },
      (error: unknown) => {
        if (this.disposed || generation !== this.loadGeneration) return;
        const code = error instanceof WxstreamError ? error.code : 'internal_error';
        const missing = code === 'not_found';
        // Nothing to continue: a message sent from here starts a new conversation.
        if (missing) this.conversationId = undefined;
        this.phase = 'load-failed';
        this.deps.setData({
          loading: false,
          loadError: missing ? CONVERSATION_NOT_FOUND : userMessageFor(code),
          loadRetryable: !missing,
        });
      },
    );
  }

  /** Forgets the conversation shown (the caller makes sure no reply is streaming). */
  private reset(): void {
    this.loadGeneration++;
    this.titles.clear();
    const session = this.session;
    this.session = undefined;
    session?.dispose();
    this.audio.drop();
    this.count = 0;
    this.renders.clear();
    this.ids = [];
    this.ledger.clear();
    this.older.reset(null);
    this.editing = false;
    this.lastRequest = undefined;
    this.lastFinishReason = undefined;
    this.conversationId = undefined;
    this.phase = 'ready';
    this.follow = initialFollowState();
    this.anchor = '';
  }

  /** The view of an empty page (after `reset`). */
  private clearedData(): SetDataObject {
    // Everything about the conversation shown goes back to its initial value; the composer, the
    // notice, the voice toggle and the keyboard belong to the page and stay.
    const { draft: _draft, canSend: _canSend, streaming: _streaming, notice: _notice, voice: _voice, keyboardHeight: _keyboard, ...conversation } =
      initialChatData();
    return { ...conversation };
  }

  private startReply(index: number, asked: ChatRequest): void {
    // Every request names itself, so a retry of it is answered once and a stop can name it before `start`.
    const request: ChatRequest = asked.requestId === undefined ? { ...asked, requestId: this.deps.newRequestId() } : asked;
    this.lastRequest = request;
    this.renders.set(index, emptyReplyRender());
    // A new reply: the previous one's audio stops (its links are short-lived anyway).
    this.speech.stop();
    this.audio.drop(index);
    const session = this.newSession(index);
    const stopping = this.pendingStop;
    if (stopping === undefined) {
      session.start(request);
      return;
    }
    // The server is still ending the reply just stopped; sent now, this one would be refused (409).
    stopping.then(() => {
      if (!this.disposed && this.session === session) session.start(request);
    });
  }

  /** Continues the reply `previous` in its bubble; if the server no longer has it, sends `request` again. */
  private reopenReply(index: number, previous: ReplyState, request: ChatRequest): void {
    const session = this.newSession(index);
    session.reopen(previous, {
      onGone: () => {
        if (!this.disposed && this.session === session) this.resend(index, request);
      },
    });
  }

  /** A session for the reply shown at `index`, replacing (and disposing) the previous one. */
  private newSession(index: number): ReplySession {
    this.lastFinishReason = undefined;
    this.session?.dispose();
    const session = new ReplySession({
      openStream: (body, handlers) => this.deps.openStream(body, handlers),
      resume: {
        open: (messageId, lastEventId, handlers) => this.deps.openReplyEvents(messageId, lastEventId, handlers),
        random: () => this.deps.random(),
      },
      stopReply: (messageId) => this.deps.stopReply(messageId),
      stopRequest: (requestId) => {
        const stopping = this.deps.stopRequest(requestId);
        this.pendingStop = stopping;
        stopping.then(() => {
          if (this.pendingStop === stopping) this.pendingStop = undefined;
        });
      },
      clock: this.deps.clock,
      scheduler: this.deps.scheduler,
      onRender: (patch) => this.render(index, patch),
      onStateChange: (state, previous) => this.replyChanged(session, index, state, previous),
      onSettled: (state) => this.settled(session, index, state),
    });
    this.session = session;
    session.setVisible(this.visible);
    return session;
  }

  private render(index: number, patch: ReplyViewPatch): void {
    if (this.disposed) return;
    const { data, render } = replyPatchData(index, patch, this.renders.get(index) ?? emptyReplyRender());
    this.renders.set(index, render);
    if (Object.keys(data).length === 0) return;
    // The final status unlocks the composer in the same setData (the session settles right after it).
    if (patch.status !== undefined && patch.status !== 'streaming') data.streaming = false;
    if (this.follow.following && (patch.text !== undefined || patch.status !== undefined)) data.scrollAnchor = this.nextAnchor();
    this.deps.setData(data);
  }

  private settled(session: ReplySession, index: number, state: ReplyState): void {
    if (this.disposed || this.session !== session) return;
    if (state.conversationId !== undefined) this.conversationId = state.conversationId;
    this.lastFinishReason = state.finishReason;
    this.streaming = false;
    if (state.error?.code === 'content_blocked') this.audio.withdraw();
    else this.audio.finish();
    const id = this.ids[index];
    if (id !== undefined) this.ledger.update(id, { serverId: state.messageId ?? '', text: state.text });
    if (state.status === 'done' && state.suggestions && state.suggestions.length > 0) this.deps.setData({ suggestions: [...state.suggestions] });
    if (state.status === 'done' || state.status === 'stopped') this.readBackLastTurn(index);
  }

  /**
   * Reads the turn that just ended back from the server (`?limit=2`): its question's id (编辑 needs it;
   * the stream names only the reply), its versions after 重新生成 / 编辑, and the title the server may
   * have given a new conversation. Best effort: a failure leaves the page as it is.
   */
  private readBackLastTurn(replyIndex: number): void {
    const conversationId = this.conversationId;
    const replyId = this.ids[replyIndex];
    const questionId = this.ids[replyIndex - 1];
    const reply = replyId === undefined ? undefined : this.ledger.get(replyId);
    if (conversationId === undefined || replyId === undefined || reply === undefined || questionId === undefined || reply.serverId === '') return;
    const generation = this.loadGeneration;
    this.deps.loadMessages(conversationId, undefined, 2).then(
      (page) => {
        if (this.disposed || generation !== this.loadGeneration || this.ids[replyIndex] !== replyId) return;
        const [storedQuestion, storedReply] = page.messages.slice(-2);
        if (storedQuestion?.role !== 'user' || storedReply?.id !== reply.serverId) return;
        this.ledger.update(questionId, { serverId: storedQuestion.id });
        const data: SetDataObject = {};
        if (storedReply.versions) {
          this.ledger.update(replyId, { versions: storedReply.versions });
          Object.assign(data, versionData(replyIndex, storedReply.versions));
        }
        Object.assign(data, this.titles.change(page.conversation.title));
        if (Object.keys(data).length > 0) this.deps.setData(data);
        // The first turn of a conversation (nothing before it): the server is making its title now.
        if (replyIndex === 1 && page.nextCursor === null && this.conversationId !== undefined) {
          this.titles.recheckLater(this.conversationId, () => !this.disposed && generation === this.loadGeneration);
        }
      },
      (error: unknown) => {
        console.warn('wxstream: could not read the last turn back', error);
      },
    );
  }

  /** Scrolled to the top: the next older page goes above what is shown, the reader's place kept. */
  loadOlder(): boolean {
    if (this.disposed || this.phase !== 'ready' || this.conversationId === undefined) return false;
    const cursor = this.older.begin();
    if (cursor === undefined) return false;
    const conversationId = this.conversationId;
    const generation = this.loadGeneration;
    this.deps.setData({ loadingOlder: true, olderError: '' });
    this.deps.loadMessages(conversationId, cursor).then(
      (page) => {
        if (this.disposed || generation !== this.loadGeneration) return;
        const { messages, renders } = storedMessages(page.messages, () => this.newId());
        const firstShown = this.ledger.first();
        const { key, data } = this.older.added(messages, renders, page.nextCursor, firstShown);
        this.ledger.prepend(messages.map((message, index) => [message.id, storedLedgerEntry(OlderPages.path(key, index), page.messages[index])] as const));
        this.follow = { ...this.follow, following: false };
        if (data.scrollAnchor !== undefined) this.anchor = String(data.scrollAnchor);
        this.deps.setData({ ...data, following: false });
      },
      (error: unknown) => {
        if (this.disposed || generation !== this.loadGeneration) return;
        this.older.failed();
        console.warn('wxstream: could not load older messages', error);
        this.deps.setData({ loadingOlder: false, olderError: OLDER_LOAD_FAILED });
      },
    );
    return true;
  }

  /** The keyboard rose or fell: the dock moves above it, and a reader at the bottom stays there. */
  keyboardHeightChanged(height: number): void {
    if (this.disposed) return;
    const next = Math.max(0, Math.round(height));
    if (next === this.keyboardHeight) return;
    this.keyboardHeight = next;
    const data: SetDataObject = { keyboardHeight: next };
    if (this.follow.following && this.count > 0) data.scrollAnchor = this.nextAnchor();
    this.deps.setData(data);
  }

  /**
   * A turn now reads as `turn` (its question and reply, after a version switch): the bubbles at the
   * reply `replyId` and its question are replaced in place, wherever they are shown.
   */
  replaceTurn(replyId: string, turn: readonly StoredMessage[]): void {
    if (this.disposed) return;
    const questionId = this.ledger.previous(replyId);
    const ids = [questionId, replyId];
    const data: SetDataObject = {};
    const { messages, renders } = storedMessages(turn, () => this.newId());
    turn.forEach((stored, offset) => {
      const id = ids[offset];
      const entry = id === undefined ? undefined : this.ledger.get(id);
      const message = messages[offset];
      if (id === undefined || entry === undefined || message === undefined || entry.role !== stored.role) return;
      this.ledger.replace(id, message.id, storedLedgerEntry(entry.at, stored));
      data[messagePath(entry.at)] = message;
      const render = renders.get(offset);
      if (typeof entry.at === 'number') {
        this.ids[entry.at] = message.id;
        if (render) this.renders.set(entry.at, render);
        if (entry.at === this.count - 1 && stored.role === 'assistant') this.lastFinishReason = stored.finishReason;
      } else if (render) {
        this.older.renders.set(entry.at, render);
      }
    });
    if (Object.keys(data).length > 0) this.deps.setData(data);
  }

  /** What must not wait for a render: audio segments to the queue, and the voice-off notice. */
  private replyChanged(session: ReplySession, index: number, state: ReplyState, previous: ReplyState): void {
    if (this.disposed || this.session !== session) return;
    if (state.voice === false && previous.voice === undefined && this.lastRequest?.voice === true) this.voice.voiceRefused();
    if (state.audio !== previous.audio) this.audio.update(index, state.audio, { play: this.voice.readsAloud && this.visible });
  }

  private setFollow(next: FollowState, scroll: boolean): void {
    const changed = next.following !== this.follow.following;
    this.follow = next;
    const data: SetDataObject = {};
    if (changed) data.following = next.following;
    if (scroll) data.scrollAnchor = this.nextAnchor();
    if (Object.keys(data).length > 0) this.deps.setData(data);
  }

  private canSend(): boolean {
    return this.deps.streamingSupported && this.phase === 'ready' && this.draft.trim() !== '';
  }

  private nextAnchor(): string {
    this.anchor = nextBottomAnchor(this.anchor);
    return this.anchor;
  }

  private newId(): string {
    return `m${this.nextId++}`;
  }
}

