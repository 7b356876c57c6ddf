/**
 * The chat page: `Component` glue between WeChat and `ChatController`.
 *
 * Built with the `Component` constructor (pages may be, given `usingComponents` in chat.json) so the
 * same file runs in miniprogram-simulate. This module only wires: the real `wx.request`, `wx.login` and
 * storage into the auth session, the stream and the conversations API, the engine's timers into the
 * controller, and template events and page lifecycle into controller calls. Page visibility arrives
 * twice on some base libraries (the page's own `onShow`/`onHide` and `pageLifetimes`); the controller
 * ignores a repeated state. Opened with `?conversationId=…` (from the history page), the page shows
 * that stored conversation and continues it. While attached, the page listens to `wx.onAppShow` and
 * `wx.onNetworkStatusChange` so a reply broken in the background continues as soon as the app or the
 * network is back; both listeners are removed on detach (they are app-wide and would outlive the page).
 * Spoken replies play through InnerAudioContext (lib/inner-audio.ts); the voice toggle is kept in
 * storage (lib/voice-preference.ts); detaching destroys every audio context the page made. The reply
 * action bar's taps go to `ReplyCommands` (copy, rate, versions, share card); 重新生成, 编辑, the
 * follow-up chips, older pages and the keyboard go to the controller. The composer's 按住 说话 button
 * is the voice-input component: its press, transcript and failure events go to the controller too, and
 * the keyboard / voice choice is kept in storage (lib/input-mode-preference.ts).
 */
import {
  openAdaptiveReply,
  openMessageSpeech,
  openPolledReply,
  openReplyEvents,
  openReplyStream,
  platformPolls,
  pollReplyEvents,
  routePath,
  ROUTES,
  supportsChunkedRequest,
  type ChatRequest,
  type FeedbackRating,
  type ReplyStreamHandle,
  type ReplyStreamHandlers,
} from '../../vendor/wxstream-client.js';
import { SERVER_URL } from '../../config.ts';
import { openAuthed, openAuthedStream } from '../../lib/authed-stream.ts';
import { CHAT_PAGE, conversationIdFromQuery, HISTORY_PAGE } from '../../lib/page-routes.ts';
import { createInnerAudio } from '../../lib/inner-audio.ts';
import { baseLibraryVersion, clientPlatform, systemClock, systemRandom, timerScheduler } from '../../lib/platform.ts';
import { newRequestId } from '../../lib/request-id.ts';
import { copyText } from '../../lib/clipboard.ts';
import { loadInputMode, saveInputMode } from '../../lib/input-mode-preference.ts';
import { loadVoicePreference, saveVoicePreference } from '../../lib/voice-preference.ts';
import {
  createWxAuthSession,
  createWxConversationsApi,
  createWxReplyActionsApi,
  createWxReplyStopper,
  createWxRequestStopper,
} from '../../lib/wx-services.ts';
import type { AuthSession } from '../../lib/auth-session.ts';
import { askFeedbackComment } from '../../lib/feedback-dialog.ts';
import { rememberShare } from '../../lib/own-shares.ts';
import { parseMessageAt } from './chat-view-model.ts';
import { ChatController, initialChatData } from './chat-controller.ts';
import { ReplyCommands } from './reply-commands.ts';

/**
 * `wx.request`'s own limit for one whole request, streaming included. WeChat's default (60 s) would cut
 * long replies; the server's heartbeats and idle watchdog catch a stalled stream long before this.
 */
const STREAM_REQUEST_TIMEOUT_MS = 10 * 60_000;

/** One poll waits at most the server's poll wait (10 s by default) for its first event; this is ample. */
const POLL_REQUEST_TIMEOUT_MS = 30_000;

/** While a switch to polling repeats a request the server is still admitting, it asks again this often. */
const POLL_REPEAT_INTERVAL_MS = 1000;

/** The long-press menu's entry. */
export const COPY_REPLY = '复制全文';

/** One controller per page instance; a WeakMap so a page that WeChat drops takes its controller with it. */
const controllers = new WeakMap<object, ChatController>();
const commands = new WeakMap<object, ReplyCommands>();

/** The `data-id` a template event carries: the local id of the message it belongs to. */
type MessageEvent<Detail extends WechatMiniprogram.IAnyObject = Record<string, never>> = WechatMiniprogram.CustomEvent<Detail, Record<string, never>, { id?: string }>;

function messageIdOf(event: { currentTarget: { dataset: { id?: string } } }): string | undefined {
  const id = event.currentTarget.dataset.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function toast(message: string): void {
  wx.showToast({ title: message, icon: 'none' });
}

function createCommands(page: WechatMiniprogram.Component.TrivialInstance, controller: ChatController, auth: AuthSession): ReplyCommands {
  return new ReplyCommands({
    ledger: controller.ledger,
    setData: (data) => page.setData(data),
    api: createWxReplyActionsApi(auth),
    conversationId: () => controller.currentConversationId,
    busy: () => controller.isStreaming,
    replaceTurn: (replyId, turn) => controller.replaceTurn(replyId, turn),
    copyText,
    askComment: () => askFeedbackComment({ showModal: (options) => wx.showModal(options), notify: toast }),
    rememberShare: (shareId) => rememberShare(wx, shareId),
    notify: toast,
  });
}

/** The app-wide listeners a page instance registered, to remove exactly those on detach. */
interface AppListeners {
  appShow: () => void;
  networkChange: (result: { isConnected: boolean }) => void;
  interruptionBegin: () => void;
  interruptionEnd: () => void;
}
const appListeners = new WeakMap<object, AppListeners>();

function listenToApp(page: object, controller: ChatController): void {
  const listeners: AppListeners = {
    appShow: () => controller.appShown(),
    networkChange: (result) => controller.networkChanged(result.isConnected),
    interruptionBegin: () => controller.audioInterrupted(),
    interruptionEnd: () => controller.audioInterruptionEnded(),
  };
  appListeners.set(page, listeners);
  wx.onAppShow(listeners.appShow);
  wx.onNetworkStatusChange(listeners.networkChange);
  // A call, an alarm or another app's sound takes the audio session: the reading is held, not skipped.
  if (typeof wx.onAudioInterruptionBegin === 'function') wx.onAudioInterruptionBegin(listeners.interruptionBegin);
  if (typeof wx.onAudioInterruptionEnd === 'function') wx.onAudioInterruptionEnd(listeners.interruptionEnd);
}

function stopListeningToApp(page: object): void {
  const listeners = appListeners.get(page);
  if (!listeners) return;
  appListeners.delete(page);
  wx.offAppShow(listeners.appShow);
  // The typings give the off-listener a different parameter type than the on-listener; WeChat removes
  // by identity, so it must be the very function that was registered.
  wx.offNetworkStatusChange(listeners.networkChange as unknown as WechatMiniprogram.OffNetworkStatusChangeCallback);
  if (typeof wx.offAudioInterruptionBegin === 'function') wx.offAudioInterruptionBegin(listeners.interruptionBegin);
  if (typeof wx.offAudioInterruptionEnd === 'function') wx.offAudioInterruptionEnd(listeners.interruptionEnd);
}

function createController(page: WechatMiniprogram.Component.TrivialInstance, auth: AuthSession): ChatController {
  const streamingSupported = supportsChunkedRequest(baseLibraryVersion(wx));
  const conversations = createWxConversationsApi(auth);
  const request = (options: Parameters<typeof wx.request>[0]) => wx.request(options);
  const eventsUrl = (messageId: string): string => SERVER_URL + routePath(ROUTES.replyEvents, { messageId });
  // Windows and Mac WeChat deliver no chunks, and base libraries before 2.20.2 have no `enableChunked`:
  // every reply is polled there (a poll is read whole, which any base library can). Elsewhere a reply is
  // streamed, and polled only if its stream shows nothing for a few seconds (openAdaptiveReply); those
  // replies are remembered so that continuing one after a broken connection polls too.
  const pollsAlways = !streamingSupported || platformPolls(clientPlatform(wx));
  const polledReplies = new Set<string>();
  const openPolled = (body: ChatRequest, handlers: ReplyStreamHandlers, repeat: boolean): ReplyStreamHandle =>
    openAuthed(
      auth,
      (token, pollHandlers) =>
        openPolledReply({
          request,
          url: SERVER_URL + ROUTES.chat,
          eventsUrl,
          token,
          body,
          handlers: pollHandlers,
          clock: systemClock,
          scheduler: timerScheduler,
          timeoutMs: POLL_REQUEST_TIMEOUT_MS,
          onAccepted: (accepted) => polledReplies.add(accepted.messageId),
          ...(repeat ? { retryInProgressMs: POLL_REPEAT_INTERVAL_MS } : {}),
        }),
      handlers,
    );
  const openStreamed = (body: ChatRequest, handlers: ReplyStreamHandlers): ReplyStreamHandle =>
    openAuthedStream(
      {
        auth,
        open: (token, streamBody, streamHandlers) =>
          openReplyStream({
            request,
            url: SERVER_URL + ROUTES.chat,
            token,
            body: streamBody,
            handlers: streamHandlers,
            chunkedSupported: streamingSupported,
            timeoutMs: STREAM_REQUEST_TIMEOUT_MS,
          }),
      },
      body,
      handlers,
    );
  const openPolledEvents = (messageId: string, lastEventId: number, handlers: ReplyStreamHandlers): ReplyStreamHandle =>
    openAuthed(
      auth,
      (token, pollHandlers) =>
        pollReplyEvents({
          request,
          url: eventsUrl(messageId),
          token,
          lastEventId,
          handlers: pollHandlers,
          clock: systemClock,
          scheduler: timerScheduler,
          timeoutMs: POLL_REQUEST_TIMEOUT_MS,
        }),
      handlers,
    );
  const openStreamedEvents = (messageId: string, lastEventId: number, handlers: ReplyStreamHandlers) =>
    openAuthed(
      auth,
      (token, streamHandlers) =>
        openReplyEvents({
          request,
          url: SERVER_URL + routePath(ROUTES.replyEvents, { messageId }),
          token,
          lastEventId,
          handlers: streamHandlers,
          chunkedSupported: streamingSupported,
          timeoutMs: STREAM_REQUEST_TIMEOUT_MS,
        }),
      handlers,
    );
  const innerAudio = createInnerAudio();
  const controller = new ChatController({
    setData: (data) => page.setData(data),
    openStream: (body, handlers) =>
      pollsAlways
        ? openPolled(body, handlers, false)
        : openAdaptiveReply({ openStream: openStreamed, openPolled: (b, h) => openPolled(b, h, true), scheduler: timerScheduler }, body, handlers),
    openReplyEvents: (messageId, lastEventId, handlers) =>
      pollsAlways || polledReplies.has(messageId)
        ? openPolledEvents(messageId, lastEventId, handlers)
        : openStreamedEvents(messageId, lastEventId, handlers),
    stopReply: createWxReplyStopper(auth),
    stopRequest: createWxRequestStopper(auth),
    newRequestId: () => newRequestId(systemRandom),
    openMessageSpeech: (messageId, handlers) =>
      openAuthed(
        auth,
        (token, speechHandlers) =>
          openMessageSpeech({
            request,
            url: SERVER_URL + routePath(ROUTES.messageSpeech, { messageId }),
            token,
            handlers: speechHandlers,
            chunkedSupported: streamingSupported,
            timeoutMs: STREAM_REQUEST_TIMEOUT_MS,
          }),
        handlers,
      ),
    random: systemRandom,
    clock: systemClock,
    scheduler: timerScheduler,
    // Every client can receive replies: those that cannot stream poll them.
    streamingSupported: true,
    loadMessages: (id, before, limit) => conversations.messages(id, { before, limit }),
    openHistory: () => wx.navigateTo({ url: HISTORY_PAGE }),
    createAudioPlayer: () => innerAudio.createPlayer(),
    prepareAudio: () => innerAudio.prepare(),
    audioBaseUrl: SERVER_URL,
    voicePreference: {
      load: () => loadVoicePreference(wx),
      save: (on) => saveVoicePreference(wx, on),
    },
    inputModePreference: {
      load: () => loadInputMode(wx),
      save: (mode) => saveInputMode(wx, mode),
    },
    notify: toast,
    audioError: (index, error) => console.warn(`wxstream: spoken segment ${index} skipped (${error.errCode} ${error.errMsg})`),
  });
  controller.restoreVoice();
  return controller;
}

Component({
  data: initialChatData(),

  lifetimes: {
    attached() {
      const auth = createWxAuthSession();
      const controller = createController(this, auth);
      controllers.set(this, controller);
      commands.set(this, createCommands(this, controller, auth));
      listenToApp(this, controller);
    },
    ready() {
      // The list's height decides what "near the bottom" means for auto-scroll.
      this.createSelectorQuery()
        .select('.list')
        .boundingClientRect((rect) => {
          if (rect && typeof rect.height === 'number' && rect.height > 0) {
            controllers.get(this)?.setViewportHeight(rect.height);
          } else if (typeof wx.getWindowInfo === 'function') {
            controllers.get(this)?.setViewportHeight(wx.getWindowInfo().windowHeight);
          }
        })
        .exec();
    },
    detached() {
      stopListeningToApp(this);
      controllers.get(this)?.dispose();
      controllers.delete(this);
      commands.delete(this);
    },
  },

  pageLifetimes: {
    show() {
      controllers.get(this)?.setVisible(true);
    },
    hide() {
      controllers.get(this)?.setVisible(false);
    },
  },

  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const conversationId = conversationIdFromQuery(query);
      if (conversationId !== undefined) controllers.get(this)?.openConversation(conversationId);
    },
    /** 转发 from the menu or the 分享 button of a reply: a snapshot of the conversation (reply-commands.ts). */
    onShareAppMessage() {
      const controller = controllers.get(this);
      return commands.get(this)?.shareContent(controller?.currentTitle ?? '') ?? { title: '', path: CHAT_PAGE };
    },
    // No onShareTimeline: Moments opens a page in its single-page mode, where wx.login is unavailable,
    // so the chat page could not sign in there; and a private chat should not reach Moments in one tap.
    // The share page, which needs no login, offers it for a snapshot already shared.
    onShow() {
      controllers.get(this)?.setVisible(true);
    },
    onHide() {
      controllers.get(this)?.setVisible(false);
    },
    onInput(event: WechatMiniprogram.TextareaInput) {
      controllers.get(this)?.input(event.detail.value);
    },
    onSend() {
      controllers.get(this)?.send();
    },
    onStop() {
      controllers.get(this)?.stop();
    },
    onRetry() {
      controllers.get(this)?.retry();
    },
    onToggleVoice() {
      controllers.get(this)?.toggleVoice();
    },
    onToggleInputMode() {
      controllers.get(this)?.toggleInputMode();
    },
    onVoicePress() {
      controllers.get(this)?.bargeIn();
    },
    onTranscript(event: WechatMiniprogram.CustomEvent<{ text: string }>) {
      controllers.get(this)?.sendSpoken(event.detail.text);
    },
    onVoiceFailure(event: WechatMiniprogram.CustomEvent<{ message: string }>) {
      controllers.get(this)?.voiceFailed(event.detail.message);
    },
    onReplayAudio() {
      controllers.get(this)?.replayAudio();
    },
    onResumeAudio() {
      controllers.get(this)?.resumeAudio();
    },
    onSpeakMessage(event: MessageEvent) {
      const id = messageIdOf(event);
      if (id !== undefined) controllers.get(this)?.speakMessage(id);
    },
    onStopAudio() {
      controllers.get(this)?.stopAudio();
    },
    onContinue() {
      controllers.get(this)?.continueReply();
    },
    onToggleReasoning(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { at?: string }>) {
      const at = parseMessageAt(event.currentTarget.dataset.at);
      if (at !== undefined) controllers.get(this)?.toggleReasoning(at);
    },
    onCopyReply(event: MessageEvent) {
      const id = messageIdOf(event);
      if (id !== undefined) void commands.get(this)?.copy(id);
    },
    onRateReply(event: MessageEvent<{ rating: FeedbackRating }>) {
      const id = messageIdOf(event);
      if (id !== undefined) void commands.get(this)?.rate(id, event.detail.rating);
    },
    onSwitchVersion(event: MessageEvent<{ delta: number }>) {
      const id = messageIdOf(event);
      if (id !== undefined) void commands.get(this)?.switchVersion(id, event.detail.delta);
    },
    onRegenerate() {
      controllers.get(this)?.regenerate();
    },
    onEditQuestion() {
      controllers.get(this)?.editLastQuestion();
    },
    onCancelEdit() {
      controllers.get(this)?.cancelEdit();
    },
    onPickSuggestion(event: WechatMiniprogram.CustomEvent<{ text: string }>) {
      controllers.get(this)?.sendSuggestion(event.detail.text);
    },
    onListReachTop() {
      controllers.get(this)?.loadOlder();
    },
    onLoadOlder() {
      controllers.get(this)?.loadOlder();
    },
    onKeyboardHeightChange(event: WechatMiniprogram.CustomEvent<{ height: number; duration: number }>) {
      controllers.get(this)?.keyboardHeightChanged(event.detail.height);
    },
    /** Long-press on a message: offer to copy all of it — what the action bar's 复制 does. */
    onLongPressMessage(event: MessageEvent) {
      const id = messageIdOf(event);
      const reply = commands.get(this);
      if (id === undefined || !reply) return;
      wx.showActionSheet({
        itemList: [COPY_REPLY],
        success: (result) => {
          if (result.tapIndex === 0) void reply.copy(id);
        },
      });
    },
    onListScroll(event: WechatMiniprogram.ScrollViewScroll) {
      const { scrollTop, scrollHeight } = event.detail;
      // A scroll event without positions (seen from synthetic scrolls) cannot tell a direction.
      if (typeof scrollTop !== 'number' || typeof scrollHeight !== 'number') return;
      controllers.get(this)?.scrolled(scrollTop, scrollHeight);
    },
    onListReachBottom() {
      controllers.get(this)?.reachedBottom();
    },
    onJumpToBottom() {
      controllers.get(this)?.jumpToBottom();
    },
    onOpenHistory() {
      controllers.get(this)?.openHistory();
    },
    onNewChat() {
      controllers.get(this)?.newConversation();
    },
    onRetryLoad() {
      controllers.get(this)?.retryLoad();
    },
  },
});
