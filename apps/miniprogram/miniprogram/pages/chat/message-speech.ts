/**
 * 朗读 through the speech route: a finished reply's audio fetched afresh (`POST /api/messages/:id/speech`)
 * — a reply reopened from history, or one whose audio links have expired — and fed to the page's
 * reply playback (reply-audio.ts).
 *
 * Contract: one speech stream at a time; `speak` stops the one before and drops the playback's queue,
 * then feeds the new reply's `audio` segments to the playback in order (a segment out of order is
 * ignored), playing them only while `visible()` holds. `done` ends the reading (so it offers 重播); an
 * `error` event or a failed request ends it too and gives one `notify` with the code's message. `stop()`
 * ends the stream without touching the playback; after it (or once `live()` is false) nothing the old
 * stream says reaches the playback.
 */
import { userMessageFor, type AudioData, type ReplyStreamHandle, type ReplyStreamHandlers } from '../../vendor/wxstream-client.js';
import type { MessageAt } from './chat-view-model.ts';
import type { ReplyAudio } from './reply-audio.ts';

export interface MessageSpeechDeps {
  openMessageSpeech(messageId: string, handlers: ReplyStreamHandlers): ReplyStreamHandle;
  audio: ReplyAudio;
  notify(message: string): void;
  /** The page is still there (false once it is disposed). */
  live(): boolean;
  /** The page is on screen: segments play only then. */
  visible(): boolean;
}

export class MessageSpeech {
  /** The speech route's stream, while it runs. */
  private handle: ReplyStreamHandle | undefined;

  private readonly deps: MessageSpeechDeps;

  constructor(deps: MessageSpeechDeps) {
    this.deps = deps;
  }

  /** Reads the stored reply `serverId`, shown at `at`, from its first segment. */
  speak(serverId: string, at: MessageAt): void {
    const { audio } = this.deps;
    this.handle?.stop();
    audio.drop();
    const segments: AudioData[] = [];
    const finish = (failure?: string): void => {
      this.handle = undefined;
      audio.finish();
      if (failure !== undefined) this.deps.notify(userMessageFor(failure));
    };
    let handle: ReplyStreamHandle | undefined;
    const current = (): boolean => this.deps.live() && handle !== undefined && this.handle === handle;
    handle = this.deps.openMessageSpeech(serverId, {
      onEvent: (event) => {
        if (!current()) return;
        if (event.type === 'audio' && event.data.index === segments.length) {
          segments.push(event.data);
          audio.update(at, segments, { play: this.deps.visible() });
        } else if (event.type === 'done') finish();
        else if (event.type === 'error') finish(event.data.code);
      },
      onError: (error) => {
        if (current()) finish(error.code);
      },
    });
    this.handle = handle;
  }

  /** Ends the speech stream, if one runs (the playback is the caller's to stop). */
  stop(): void {
    this.handle?.stop();
    this.handle = undefined;
  }
}
