/**
 * The history page: `Component` glue between WeChat and `HistoryController`.
 *
 * Built with the `Component` constructor, like the chat page, so it runs in miniprogram-simulate. This
 * module only wires: the real `wx` into the API, the dialogs and navigation, the engine's clock and
 * time zone into the controller, and template events and page lifecycle into controller calls.
 *
 * Opening a conversation (or a new one) relaunches the chat page rather than pushing another one: the
 * stack stays one chat page deep (WeChat allows ten pages), and no chat page is left underneath
 * showing a conversation that was just renamed or deleted here.
 */
import { chatPageUrl } from '../../lib/page-routes.ts';
import { localUtcOffsetAt, systemClock } from '../../lib/platform.ts';
import { createWxAuthSession, createWxConversationsApi } from '../../lib/wx-services.ts';
import { createHistoryDialogs } from './history-dialogs.ts';
import { HistoryController, initialHistoryData } from './history-controller.ts';

const controllers = new WeakMap<object, HistoryController>();

type RowEvent = WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>;

function createController(page: WechatMiniprogram.Component.TrivialInstance): HistoryController {
  return new HistoryController({
    api: createWxConversationsApi(createWxAuthSession()),
    setData: (data) => page.setData(data),
    clock: systemClock,
    utcOffsetAt: localUtcOffsetAt,
    dialogs: createHistoryDialogs({
      showModal: (options) => wx.showModal(options),
      showActionSheet: (options) => wx.showActionSheet(options),
      showToast: (options) => wx.showToast(options),
    }),
    navigator: {
      openConversation: (id) => wx.reLaunch({ url: chatPageUrl(id) }),
      newConversation: () => wx.reLaunch({ url: chatPageUrl() }),
    },
  });
}

function rowId(event: RowEvent): string {
  return String(event.currentTarget.dataset.id);
}

Component({
  data: initialHistoryData(),

  lifetimes: {
    attached() {
      const controller = createController(this);
      controllers.set(this, controller);
      void controller.load();
    },
    detached() {
      controllers.get(this)?.dispose();
      controllers.delete(this);
    },
  },

  pageLifetimes: {
    show() {
      controllers.get(this)?.shown();
    },
  },

  methods: {
    onRetry() {
      void controllers.get(this)?.load();
    },
    onRefresh() {
      void controllers.get(this)?.refresh();
    },
    onLoadMore() {
      void controllers.get(this)?.loadMore();
    },
    onOpen(event: RowEvent) {
      controllers.get(this)?.open(rowId(event));
    },
    onActions(event: RowEvent) {
      void controllers.get(this)?.actions(rowId(event));
    },
    onNewChat() {
      controllers.get(this)?.newConversation();
    },
  },
});
