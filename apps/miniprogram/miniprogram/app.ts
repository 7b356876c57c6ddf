/**
 * The mini-program entry. The app holds no state: the chat page owns its conversation, and the login
 * token lives in storage (lib/auth-session.ts), so nothing here needs to outlive a page.
 */
App({
  onError(error: string) {
    console.error('wxstream: uncaught error', error);
  },
  onUnhandledRejection(result: WechatMiniprogram.OnUnhandledRejectionListenerResult) {
    console.error('wxstream: unhandled promise rejection', result.reason);
  },
});
