/** The chat route's settings, read from the server's configuration. Pure. */
import type { ChatSettings } from '../chat/chat-deps.ts';
import type { ServerConfig } from '../server-config.ts';

export function chatSettingsFrom(config: ServerConfig): ChatSettings {
  const { limits } = config;
  return {
    maxBodyBytes: config.maxBodyBytes,
    maxMessageChars: config.maxMessageChars,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    upstreamIdleTimeoutMs: config.upstreamIdleTimeoutMs,
    maxConversationMessages: limits.maxConversationMessages,
    maxContextTokens: limits.maxContextTokens,
    systemPrompt: limits.systemPrompt,
    // Renewed three times per TTL, so one late renewal never loses the lock.
    leaseRenewIntervalMs: Math.max(1, Math.floor(limits.replyLockTtlMs / 3)),
    checkpointIntervalMs: config.storage.checkpointIntervalMs,
    checkpointChars: config.storage.checkpointChars,
    logMessageText: config.logMessageText,
    continueOnDisconnect: config.continueOnDisconnect,
    sideCalls: config.sideCalls,
  };
}
