/**
 * The real `wx` wired into the modules that take it by injection, so every page gets the auth session
 * and the conversations API the same way instead of repeating the wiring.
 *
 * Contract: the returned objects call the global `wx` at the moment they use it (never a copy taken at
 * load time), like lib/platform.ts does for timers. Each call makes a new object; pages share the
 * signed-in state through storage, which is where the auth session keeps it.
 */
import { SERVER_URL } from '../config.ts';
import { createAuthSession, type AuthSession } from './auth-session.ts';
import { createConversationsApi, type ConversationsApi } from './conversations-api.ts';
import type { WxJsonRequest } from './json-request.ts';
import { deviceId } from './device-id.ts';
import { systemClock, systemRandom } from './platform.ts';
import { createReplyActionsApi, type ReplyActionsApi } from './reply-actions-api.ts';
import { stopReplyOnServer } from './stop-reply.ts';
import { stopRequestOnServer } from './stop-request.ts';

const wxRequest: WxJsonRequest = (options) => wx.request(options);

export function createWxAuthSession(): AuthSession {
  return createAuthSession({
    serverUrl: SERVER_URL,
    clock: systemClock,
    login: (options) => wx.login(options),
    request: wxRequest,
    getStorageSync: (key) => wx.getStorageSync(key),
    setStorageSync: (key, value) => wx.setStorageSync(key, value),
    removeStorageSync: (key) => wx.removeStorageSync(key),
    devCode: () =>
      deviceId({
        getStorageSync: (key) => wx.getStorageSync(key),
        setStorageSync: (key, value) => wx.setStorageSync(key, value),
        random: systemRandom,
      }),
  });
}

export function createWxConversationsApi(auth: AuthSession): ConversationsApi {
  return createConversationsApi({ serverUrl: SERVER_URL, auth, request: wxRequest });
}

export function createWxReplyActionsApi(auth: AuthSession): ReplyActionsApi {
  return createReplyActionsApi({ serverUrl: SERVER_URL, auth, request: wxRequest });
}

/**
 * Stops the reply a request started, by its requestId. The promise settles (never rejects) once the server
 * answered or the call failed: the page waits for it before sending the next message.
 */
export function createWxRequestStopper(auth: AuthSession): (requestId: string) => Promise<void> {
  return (requestId) =>
    stopRequestOnServer({ serverUrl: SERVER_URL, auth, request: wxRequest }, requestId).then(
      () => undefined,
      (error: unknown) => {
        console.warn(`wxstream: could not stop request ${requestId} on the server`, error);
      },
    );
}

/** Stops a reply on the server, fire and forget: the local stop has already kept the partial reply. */
export function createWxReplyStopper(auth: AuthSession): (messageId: string) => void {
  return (messageId) => {
    stopReplyOnServer({ serverUrl: SERVER_URL, auth, request: wxRequest }, messageId).catch((error: unknown) => {
      console.warn(`wxstream: could not stop reply ${messageId} on the server`, error);
    });
  };
}
