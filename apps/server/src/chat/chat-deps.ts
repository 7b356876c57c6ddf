/**
 * What `POST /api/chat` is built from: its settings and its dependencies, shared by the route and
 * each of its phases (`chat-admission.ts` → `reply-preparation.ts` → `reply-commit.ts` →
 * `reply-delivery.ts` → `reply-relay-phase.ts`). Types only.
 */
import type { Clock } from '../clock.ts';
import type { ReplyAdmissionDeps } from '../limits/reply-admission.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import type { ReplyLog } from '../reply-log/reply-log.ts';
import type { RequestLedger } from '../requests/request-ledger.ts';
import type { ConversationStore } from '../storage/conversation-store.ts';
import type { UpstreamModel } from '../upstream/upstream-model.ts';
import type { VoiceService } from '../voice/voice-service.ts';
import type { ContentChecker } from '../wechat/content-checker.ts';
import type { ReplyRegistry } from './reply-registry.ts';
import type { SideCallsConfig } from '../side-calls/side-calls-config.ts';

export interface ChatSettings {
  maxBodyBytes: number;
  maxMessageChars: number;
  heartbeatIntervalMs: number;
  upstreamIdleTimeoutMs: number;
  maxConversationMessages: number;
  maxContextTokens: number;
  systemPrompt: string | undefined;
  /** How often a running reply renews its lease. */
  leaseRenewIntervalMs: number;
  checkpointIntervalMs: number;
  checkpointChars: number;
  /** Debugging only: the user's message and the reply's text in the `reply finished` record. */
  logMessageText: boolean;
  /** After the 200, a client that disconnects leaves the reply running to its end (true) or aborts it. */
  continueOnDisconnect: boolean;
  /** Titles and follow-up questions from the model. */
  sideCalls: SideCallsConfig;
}

export interface ChatRouteDeps {
  upstream: UpstreamModel;
  replies: ReplyRegistry;
  replyLog: ReplyLog;
  store: ConversationStore;
  admission: ReplyAdmissionDeps;
  contentChecker: ContentChecker;
  metrics: ServerMetrics;
  clock: Clock;
  ids: () => string;
  settings: ChatSettings;
  /** Undefined when voice is off: replies that ask for it say `voice: false` in `start`. */
  voice: VoiceService | undefined;
  /** Client-named requests (`requestId`): repeats and early stops. Without it a `requestId` is ignored. */
  requests?: RequestLedger;
}

/** Errors of the provider, counted apart in metrics. */
export function isUpstreamCode(code: string): boolean {
  return code.startsWith('upstream_');
}
