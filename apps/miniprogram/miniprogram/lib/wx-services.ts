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
import { systemClock } from './platform.ts';
import { createReplyActionsApi, type ReplyActionsApi } from './reply-actions-api.ts';
import { stopReplyOnServer } from './stop-reply.ts';

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
  });
}

export function createWxConversationsApi(auth: AuthSession): ConversationsApi {
  return createConversationsApi({ serverUrl: SERVER_URL, auth, request: wxRequest });
}

export function createWxReplyActionsApi(auth: AuthSession): ReplyActionsApi {
  return createReplyActionsApi({ serverUrl: SERVER_URL, auth, request: wxRequest });
}

/** Stops a reply on the server, fire and forget: the local stop has already kept the partial reply. */
export function createWxReplyStopper(auth: AuthSession): (messageId: string) => void {
  return (messageId) => {
    stopReplyOnServer({ serverUrl: SERVER_URL, auth, request: wxRequest }, messageId).catch((error: unknown) => {
      console.warn(`wxstream: could not stop reply ${messageId} on the server`, error);
    });
  };
}
