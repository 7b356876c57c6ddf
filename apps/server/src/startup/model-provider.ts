/**
 * The model provider the server talks to: the configured OpenAI-compatible one, or — when none is
 * configured — the embedded offline model, started here on a local port. Says in the start-up log
 * which it is (never the key itself).
 *
 * Contract: resolves to how to reach it (`connection`), how `RunningServer` describes it, and the
 * offline model to close on shutdown (undefined for a real provider).
 */
import type { Logger } from '../logger.ts';
import { OFFLINE_MODEL_API_KEY, startOfflineModel } from '../offline-model/offline-model.ts';
import type { OpenAICompatibleEmulator } from '../offline-model/openai-compatible-emulator.ts';
import type { ServerConfig } from '../server-config.ts';

export interface UpstreamDescription {
  readonly kind: 'offline' | 'openai-compatible';
  /** Undefined means the SDK's default (api.openai.com). */
  readonly baseURL: string | undefined;
  readonly model: string;
}

export interface ModelProvider {
  readonly connection: { apiKey: string | undefined; baseURL: string | undefined; model: string };
  readonly description: UpstreamDescription;
  readonly offlineModel: OpenAICompatibleEmulator | undefined;
}

export async function startModelProvider(config: ServerConfig, logger: Logger): Promise<ModelProvider> {
  const { upstream } = config;
  if (upstream.kind === 'offline') {
    const offlineModel = await startOfflineModel({ model: upstream.model, chunkDelayMs: upstream.chunkDelayMs });
    logger.warn(
      { upstream: 'offline', baseURL: offlineModel.baseURL, model: upstream.model },
      'no model configured (OPENAI_API_KEY / OPENAI_BASE_URL unset): replies come from the built-in offline model',
    );
    return {
      connection: { apiKey: OFFLINE_MODEL_API_KEY, baseURL: offlineModel.baseURL, model: upstream.model },
      description: { kind: 'offline', baseURL: offlineModel.baseURL, model: upstream.model },
      offlineModel,
    };
  }
  logger.info(
    {
      upstream: 'openai-compatible',
      baseURL: upstream.baseURL ?? 'https://api.openai.com/v1 (SDK default)',
      model: upstream.model,
      apiKey: upstream.apiKey === undefined ? 'not set' : 'set',
    },
    'using an OpenAI-compatible model provider',
  );
  return {
    connection: { apiKey: upstream.apiKey, baseURL: upstream.baseURL, model: upstream.model },
    description: { kind: 'openai-compatible', baseURL: upstream.baseURL, model: upstream.model },
    offlineModel: undefined,
  };
}
