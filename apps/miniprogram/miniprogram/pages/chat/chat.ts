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
 * storage (lib/voice-preference.ts); detaching destroys every audio context the page made.
 */
import {
  openReplyEvents,
  openReplyStream,
  routePath,
  ROUTES,
  supportsChunkedRequest,
  userMessageFor,
  type ReplyStreamHandlers,
} from '../../vendor/wxstream-client.js';
import { SERVER_URL } from '../../config.ts';
import { openAuthed, openAuthedStream } from '../../lib/authed-stream.ts';
import { conversationIdFromQuery, HISTORY_PAGE } from '../../lib/page-routes.ts';
import { createInnerAudioPlayerFactory } from '../../lib/inner-audio.ts';
import { baseLibraryVersion, systemClock, systemRandom, timerScheduler } from '../../lib/platform.ts';
import { loadVoicePreference, saveVoicePreference } from '../../lib/voice-preference.ts';
import { createWxAuthSession, createWxConversationsApi, createWxReplyStopper } from '../../lib/wx-services.ts';
import { ChatController, initialChatData } from './chat-controller.ts';

/**
 * `wx.request`'s own limit for one whole request, streaming included. WeChat's default (60 s) would cut
 * long replies; the server's heartbeats and idle watchdog catch a stalled stream long before this.
 */
const STREAM_REQUEST_TIMEOUT_MS = 10 * 60_000;

/** One controller per page instance; a WeakMap so a page that WeChat drops takes its controller with it. */
const controllers = new WeakMap<object, ChatController>();

/** The app-wide listeners a page instance registered, to remove exactly those on detach. */
interface AppListeners {
  appShow: () => void;
  networkChange: (result: { isConnected: boolean }) => void;
}
const appListeners = new WeakMap<object, AppListeners>();

function listenToApp(page: object, controller: ChatController): void {
  const listeners: AppListeners = {
    appShow: () => controller.appShown(),
    networkChange: (result) => controller.networkChanged(result.isConnected),
  };
  appListeners.set(page, listeners);
  wx.onAppShow(listeners.appShow);
  wx.onNetworkStatusChange(listeners.networkChange);
}

function stopListeningToApp(page: object): void {
  const listeners = appListeners.get(page);
  if (!listeners) return;
  appListeners.delete(page);
  wx.offAppShow(listeners.appShow);
  // The typings give the off-listener a different parameter type than the on-listener; WeChat removes
  // by identity, so it must be the very function that was registered.
  wx.offNetworkStatusChange(listeners.networkChange as unknown as WechatMiniprogram.OffNetworkStatusChangeCallback);
}

function createController(page: WechatMiniprogram.Component.TrivialInstance): ChatController {
  const streamingSupported = supportsChunkedRequest(baseLibraryVersion(wx));
  const auth = createWxAuthSession();
  const conversations = createWxConversationsApi(auth);
  const openEvents = (messageId: string, lastEventId: number, handlers: ReplyStreamHandlers) =>
    openAuthed(
      auth,
      (token, streamHandlers) =>
        openReplyEvents({
          request: (options) => wx.request(options),
          url: SERVER_URL + routePath(ROUTES.replyEvents, { messageId }),
          token,
          lastEventId,
          handlers: streamHandlers,
          chunkedSupported: streamingSupported,
          timeoutMs: STREAM_REQUEST_TIMEOUT_MS,
        }),
      handlers,
    );
  const controller = new ChatController({
    setData: (data) => page.setData(data),
    openStream: (body, handlers) =>
      openAuthedStream(
        {
          auth,
          open: (token, request, streamHandlers) =>
            openReplyStream({
              request: (options) => wx.request(options),
              url: SERVER_URL + ROUTES.chat,
              token,
              body: request,
              handlers: streamHandlers,
              chunkedSupported: streamingSupported,
              timeoutMs: STREAM_REQUEST_TIMEOUT_MS,
            }),
        },
        body,
        handlers,
      ),
    openReplyEvents: openEvents,
    stopReply: createWxReplyStopper(auth),
    random: systemRandom,
    clock: systemClock,
    scheduler: timerScheduler,
    streamingSupported,
    loadConversation: (id) => conversations.get(id),
    openHistory: () => wx.navigateTo({ url: HISTORY_PAGE }),
    createAudioPlayer: createInnerAudioPlayerFactory(),
    audioBaseUrl: SERVER_URL,
    voicePreference: {
      load: () => loadVoicePreference(wx),
      save: (on) => saveVoicePreference(wx, on),
    },
    notify: (message) => wx.showToast({ title: message, icon: 'none' }),
    audioError: (index, error) => console.warn(`wxstream: spoken segment ${index} skipped (${error.errCode} ${error.errMsg})`),
  });
  controller.restoreVoice();
  // Said once, up front, rather than after the user has typed a question.
  if (!streamingSupported) page.setData({ notice: userMessageFor('unsupported_platform') });
  return controller;
}

Component({
  data: initialChatData(),

  lifetimes: {
    attached() {
      const controller = createController(this);
      controllers.set(this, controller);
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
    onReplayAudio() {
      controllers.get(this)?.replayAudio();
    },
    onStopAudio() {
      controllers.get(this)?.stopAudio();
    },
    onContinue() {
      controllers.get(this)?.continueReply();
    },
    onToggleReasoning(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { index: number }>) {
      controllers.get(this)?.toggleReasoning(Number(event.currentTarget.dataset.index));
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
