/**
 * The privacy authorization flow, between WeChat and the dialog that shows the agreement.
 *
 * Contract: `installPrivacyGate(source)` registers `wx.onNeedPrivacyAuthorization` once per app (base
 * library 2.32.3+, with `__usePrivacyCheck__` in app.json; older ones do nothing) and returns the gate.
 * When a privacy-protected API (clipboard, recording, …) waits for the user's consent, WeChat hands over
 * a `resolve`; the gate keeps the latest and tells every subscribed dialog to show the agreement (one that
 * subscribes later, e.g. on the next page, is told at once). `agree(buttonId)` — called from the dialog's
 * `open-type="agreePrivacyAuthorization"` button, after WeChat saw it tapped — and `disagree()` answer it
 * exactly once; the waiting API then goes on or fails with `privacy permission is not authorized`. The
 * exposure is reported (`exposureAuthorization`) when a dialog shows it. Dialogs unsubscribe on detach.
 */
export type PrivacyResolve = (result: { event: 'exposureAuthorization' | 'agree' | 'disagree'; buttonId?: string }) => void;

export interface PrivacySource {
  // miniprogram-api-typings types the listener's argument as a result object; the documented argument is
  // the `resolve` function, so it is taken as unknown and checked.
  onNeedPrivacyAuthorization?: (listener: (resolve: unknown) => void) => void;
}

export interface PrivacyGate {
  /** `show` runs whenever consent is asked for; returns the unsubscribe. */
  subscribe(show: () => void): () => void;
  /** The dialog was shown to the user. */
  exposed(): void;
  agree(buttonId: string): void;
  disagree(): void;
}

export function createPrivacyGate(source: PrivacySource): PrivacyGate {
  let pending: PrivacyResolve | undefined;
  const listeners = new Set<() => void>();
  if (typeof source.onNeedPrivacyAuthorization === 'function') {
    source.onNeedPrivacyAuthorization((resolve) => {
      if (typeof resolve !== 'function') return;
      pending = resolve as PrivacyResolve;
      for (const show of [...listeners]) show();
    });
  }
  const answer = (result: Parameters<PrivacyResolve>[0]): void => {
    const resolve = pending;
    pending = undefined;
    resolve?.(result);
  };
  return {
    subscribe(show) {
      listeners.add(show);
      if (pending !== undefined) show();
      return () => {
        listeners.delete(show);
      };
    },
    exposed() {
      pending?.({ event: 'exposureAuthorization' });
    },
    agree(buttonId) {
      answer({ event: 'agree', buttonId });
    },
    disagree() {
      answer({ event: 'disagree' });
    },
  };
}

let installed: PrivacyGate | undefined;

/** The app's one gate, registered with WeChat on first use. */
export function installPrivacyGate(source: PrivacySource): PrivacyGate {
  installed ??= createPrivacyGate(source);
  return installed;
}
