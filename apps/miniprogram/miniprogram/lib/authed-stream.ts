/**
 * Opens a reply stream with the signed-in user's token, logging in again once if the server refuses it —
 * the chat POST (`openAuthedStream`) or any other stream route (`openAuthed`, e.g. a reply's events).
 *
 * Contract: the returned handle's `stop()` works at any moment — while the token is still being fetched
 * (no request is made at all), during the stream, or between the refused attempt and the retry. When
 * the first attempt fails with `token_expired` or `invalid_token` before any event arrived, the token
 * is dropped, a new one is fetched and the same request is sent once more with the same handlers; a
 * second refusal, or any other error, goes to `handlers.onError` as it is. Nothing reaches the handlers
 * after `stop()`. A failed login surfaces as its `WxstreamError` through `onError`. Heartbeats and the
 * first answer (`onOpen`) pass through, so the session's idle watchdog sees a live connection. `abandon()`
 * passes through too (the request is left running, unheard).
 */
import {
  WxstreamError,
  type ChatRequest,
  type ReplyStreamHandle,
  type ReplyStreamHandlers,
} from '../vendor/wxstream-client.js';
import type { AuthSession } from './auth-session.ts';

export interface AuthedStreamDeps {
  auth: AuthSession;
  open(token: string, body: ChatRequest, handlers: ReplyStreamHandlers): ReplyStreamHandle;
}

function isRefusedToken(error: WxstreamError): boolean {
  return error.code === 'token_expired' || error.code === 'invalid_token';
}

function asWxstreamError(error: unknown): WxstreamError {
  if (error instanceof WxstreamError) return error;
  return new WxstreamError('login_failed', error instanceof Error ? error.message : String(error));
}

export function openAuthedStream(deps: AuthedStreamDeps, body: ChatRequest, handlers: ReplyStreamHandlers): ReplyStreamHandle {
  return openAuthed(deps.auth, (token, streamHandlers) => deps.open(token, body, streamHandlers), handlers);
}

/** `open` makes one request with the token it is given; it is called again, once, after a re-login. */
export function openAuthed(
  auth: AuthSession,
  open: (token: string, handlers: ReplyStreamHandlers) => ReplyStreamHandle,
  handlers: ReplyStreamHandlers,
): ReplyStreamHandle {
  let stopped = false;
  let current: ReplyStreamHandle | undefined;
  let retried = false;

  const attempt = (): void => {
    let sawEvent = false;
    auth.token().then(
      (token) => {
        if (stopped) return;
        current = open(token, {
          onEvent(event) {
            if (stopped) return;
            sawEvent = true;
            handlers.onEvent(event);
          },
          onError(error) {
            if (stopped) return;
            if (!sawEvent && !retried && isRefusedToken(error)) {
              retried = true;
              current = undefined;
              auth.invalidate();
              attempt();
              return;
            }
            handlers.onError(error);
          },
          onHeartbeat() {
            if (!stopped) handlers.onHeartbeat?.();
          },
          onOpen() {
            if (!stopped) handlers.onOpen?.();
          },
        });
      },
      (error: unknown) => {
        if (!stopped) handlers.onError(asWxstreamError(error));
      },
    );
  };

  attempt();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      current?.stop();
    },
    abandon() {
      if (stopped) return;
      stopped = true;
      if (current?.abandon !== undefined) current.abandon();
      else current?.stop();
    },
  };
}
