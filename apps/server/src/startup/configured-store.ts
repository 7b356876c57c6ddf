/**
 * The conversation store as configured — PostgreSQL with `DATABASE_URL`, else SQLite (a file, or
 * memory) — migrated, with the replies a dead process left `streaming` marked as interrupted.
 *
 * Contract: resolves to the open store, having logged where the database is, which migrations were
 * applied and how many replies were marked; closes the store again if that marking fails.
 */
import { resolve as resolvePath } from 'node:path';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { ServerConfig } from '../server-config.ts';
import { openStore, type OpenedStore } from '../storage/open-store.ts';
import { MEMORY_DATABASE_PATH } from '../storage/sqlite-store.ts';

/** How long a reply another server is generating may go without a store write before it counts as dead. */
const LIVE_REPLY_MARGIN_MS = 60_000;

export async function openConfiguredStore(config: ServerConfig, clock: Clock, ids: () => string, logger: Logger): Promise<OpenedStore> {
  const configured = config.storage.databasePath;
  const path = configured === MEMORY_DATABASE_PATH ? configured : resolvePath(configured);
  const store = await openStore(
    { databaseUrl: config.storage.databaseUrl, databasePath: path },
    { clock, ids, onIdleConnectionError: (error) => logger.warn({ err: error }, 'database connection dropped while idle; replaced') },
  );
  try {
    // One process owns a SQLite file, so every reply still `streaming` was cut off by the last one's
    // death; a shared PostgreSQL may hold live replies of other servers, so only stale ones count.
    const interrupted =
      store.engine === 'postgres'
        ? await store.markInterruptedReplies({
            updatedBefore: clock.now() - (config.storage.checkpointIntervalMs + config.upstreamIdleTimeoutMs + LIVE_REPLY_MARGIN_MS),
          })
        : await store.markInterruptedReplies();
    const fields = { engine: store.engine, databasePath: store.location, appliedMigrations: store.appliedMigrations, interruptedReplies: interrupted };
    if (path === MEMORY_DATABASE_PATH && store.engine === 'sqlite') logger.warn(fields, 'database is in memory: conversations are lost when the server stops');
    else logger.info(fields, 'database ready');
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
