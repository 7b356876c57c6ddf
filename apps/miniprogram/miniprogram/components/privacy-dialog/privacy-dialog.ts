/**
 * The privacy dialog: shows the mini-program's privacy agreement when WeChat asks for the user's consent
 * (lib/privacy-gate.ts), with 同意 — WeChat's `agreePrivacyAuthorization` button, the only way consent
 * counts — and 拒绝. The agreement's name comes from `wx.getPrivacySetting` (as registered in the admin
 * console) and tapping it opens it (`wx.openPrivacyContract`). Subscribes on attach, unsubscribes on detach.
 */
import { installPrivacyGate } from '../../lib/privacy-gate.ts';

/** The agree button's id: WeChat checks that this very button was tapped before it accepts the consent. */
export const AGREE_BUTTON_ID = 'privacy-agree';
export const DEFAULT_CONTRACT_NAME = '《用户隐私保护指引》';

const unsubscribers = new WeakMap<object, () => void>();

Component({
  data: { show: false, contractName: DEFAULT_CONTRACT_NAME, agreeId: AGREE_BUTTON_ID },

  lifetimes: {
    attached() {
      const gate = installPrivacyGate(wx);
      const unsubscribe = gate.subscribe(() => {
        this.setData({ show: true });
        gate.exposed();
        if (typeof wx.getPrivacySetting === 'function') {
          wx.getPrivacySetting({
            success: (result) => {
              if (result.privacyContractName) this.setData({ contractName: result.privacyContractName });
            },
          });
        }
      });
      unsubscribers.set(this, unsubscribe);
    },
    detached() {
      unsubscribers.get(this)?.();
      unsubscribers.delete(this);
    },
  },

  methods: {
    onOpenContract() {
      if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({});
    },
    onAgree() {
      this.setData({ show: false });
      installPrivacyGate(wx).agree(AGREE_BUTTON_ID);
    },
    onDisagree() {
      this.setData({ show: false });
      installPrivacyGate(wx).disagree();
    },
  },
});
