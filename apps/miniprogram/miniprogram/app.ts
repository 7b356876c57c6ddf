/**
 * The mini-program entry. The app holds no state: the chat page owns its conversation, and the login
 * token lives in storage (lib/auth-session.ts), so nothing here needs to outlive a page. At launch it
 * watches for a new version (lib/update-prompt.ts) and registers the privacy authorization listener
 * once (lib/privacy-gate.ts), which the privacy dialog on each page answers.
 */
import { installPrivacyGate } from './lib/privacy-gate.ts';
import { watchForUpdate } from './lib/update-prompt.ts';

App({
  onLaunch() {
    watchForUpdate(wx);
    installPrivacyGate(wx);
  },
  onError(error: string) {
    console.error('wxstream: uncaught error', error);
  },
  onUnhandledRejection(result: WechatMiniprogram.OnUnhandledRejectionListenerResult) {
    console.error('wxstream: unhandled promise rejection', result.reason);
  },
});
