/**
 * @wxstream/client — the platform-neutral client core. No `wx`, no DOM globals: platform APIs
 * (wx.request, timers, clock) come in by injection, so every module runs and is tested in Node.
 */
export * from './utf8-stream-decoder.ts';
export * from './sse-parser.ts';
export * from './reply-reducer.ts';
export * from './grapheme-boundary.ts';
export * from './typewriter.ts';
export * from './wx-request-transport.ts';
export * from './reply-session.ts';
export * from './resume-backoff.ts';
export * from './audio-playback-queue.ts';
export * from './polled-reply.ts';
export * from './reply-delivery.ts';
export * from './markdown/index.ts';
