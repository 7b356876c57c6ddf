/**
 * The chat page: `Component` glue between WeChat and `ChatController`.
 *
 * Built with the `Component` constructor (pages may be, given `usingComponents` in chat.json) so the
 * same file runs in miniprogram-simulate. This module only wires: the real `wx.request`, `wx.login` and
 * storage into the auth session, the stream and the conversations API, the engine's timers into the
 * controller, and template events and page lifecycle into controller calls. Page visibility arrives
 * twice on some base libraries (the page's own `onShow`/`onHide` and `pageLifetimes`); the controller
 * ignores a repeated state. Opened with `?conversationId=…` (from the history page), the page shows
 * that stored conversation and continues it.
 */
import { openReplyStream, ROUTES, supportsChunkedRequest, userMessageFor } from '../../vendor/wxstream-client.js';
import { SERVER_URL } from '../../config.ts';
import { openAuthedStream } from '../../lib/authed-stream.ts';
import { conversationIdFromQuery, HISTORY_PAGE } from '../../lib/page-routes.ts';
import { baseLibraryVersion, systemClock, timerScheduler } from '../../lib/platform.ts';
import { createWxAuthSession, createWxConversationsApi } from '../../lib/wx-services.ts';
import { ChatController, initialChatData } from './chat-controller.ts';

/**
 * `wx.request`'s own limit for one whole request, streaming included. WeChat's default (60 s) would cut
 * long replies; the server's heartbeats and idle watchdog catch a stalled stream long before this.
 */
const STREAM_REQUEST_TIMEOUT_MS = 10 * 60_000;

/** One controller per page instance; a WeakMap so a page that WeChat drops takes its controller with it. */
const controllers = new WeakMap<object, ChatController>();

function createController(page: WechatMiniprogram.Component.TrivialInstance): ChatController {
  const streamingSupported = supportsChunkedRequest(baseLibraryVersion(wx));
  const auth = createWxAuthSession();
  const conversations = createWxConversationsApi(auth);
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
    clock: systemClock,
    scheduler: timerScheduler,
    streamingSupported,
    loadConversation: (id) => conversations.get(id),
    openHistory: () => wx.navigateTo({ url: HISTORY_PAGE }),
  });
  // Said once, up front, rather than after the user has typed a question.
  if (!streamingSupported) page.setData({ notice: userMessageFor('unsupported_platform') });
  return controller;
}

Component({
  data: initialChatData(),

  lifetimes: {
    attached() {
      controllers.set(this, createController(this));
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
