/**
 * The share page (`pages/share/share?id=…`): a shared conversation, read-only, for whoever opened the
 * card — signed in or not. `Component` glue only: `wx` into ShareController (share-controller.ts),
 * template events and lifecycle into its calls. The page can be shared on (the same snapshot), also to
 * Moments, where WeChat opens it in its single-page mode: nothing here needs a login to read.
 */
import { SERVER_URL } from '../../config.ts';
import { CHAT_PAGE, sharePageUrl, shareIdFromQuery, shareQuery } from '../../lib/page-routes.ts';
import { forgetShare, isOwnShare } from '../../lib/own-shares.ts';
import { fetchSharedConversation } from '../../lib/shared-conversation.ts';
import { createWxAuthSession, createWxReplyActionsApi } from '../../lib/wx-services.ts';
import { initialShareData, ShareController } from './share-controller.ts';

const controllers = new WeakMap<object, ShareController>();

function createController(page: WechatMiniprogram.Component.TrivialInstance): ShareController {
  return new ShareController({
    setData: (data) => page.setData(data),
    fetch: (shareId) => fetchSharedConversation({ serverUrl: SERVER_URL, request: (options) => wx.request(options) }, shareId),
    // Signing in only when the owner revokes: a reader never needs an account.
    revoke: (shareId) => createWxReplyActionsApi(createWxAuthSession()).revokeShare(shareId),
    isOwn: (shareId) => isOwnShare(wx, shareId),
    forget: (shareId) => forgetShare(wx, shareId),
    confirm: (content) =>
      new Promise<boolean>((resolve) => {
        wx.showModal({
          title: '取消分享',
          content,
          confirmText: '取消分享',
          cancelText: '保留',
          success: (result) => resolve(result.confirm),
          fail: () => resolve(false),
        });
      }),
    notify: (message) => wx.showToast({ title: message, icon: 'none' }),
    startChat: () => wx.reLaunch({ url: CHAT_PAGE }),
  });
}

Component({
  data: initialShareData(),

  lifetimes: {
    attached() {
      controllers.set(this, createController(this));
    },
    detached() {
      controllers.delete(this);
    },
  },

  methods: {
    onLoad(query: Record<string, string | undefined>) {
      controllers.get(this)?.open(shareIdFromQuery(query));
      if (typeof wx.showShareMenu === 'function') wx.showShareMenu({ menus: ['shareAppMessage', 'shareTimeline'] });
    },
    onShareAppMessage() {
      const controller = controllers.get(this);
      const shareId = controller?.currentShareId;
      return { title: controller?.title ?? '', path: shareId === undefined ? CHAT_PAGE : sharePageUrl(shareId) };
    },
    onShareTimeline() {
      const controller = controllers.get(this);
      const shareId = controller?.currentShareId;
      return { title: controller?.title ?? '', query: shareId === undefined ? '' : shareQuery(shareId) };
    },
    onReachEnd() {
      controllers.get(this)?.more();
    },
    onRetry() {
      controllers.get(this)?.retry();
    },
    onStartChat() {
      controllers.get(this)?.startChat();
    },
    onRevoke() {
      void controllers.get(this)?.revoke();
    },
  },
});
