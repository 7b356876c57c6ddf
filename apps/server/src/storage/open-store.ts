/**
 * Opens the conversation store the configuration asks for: PostgreSQL when `DATABASE_URL` is set
 * (any number of servers share it), otherwise the SQLite file at `DATABASE_PATH` (one server).
 *
 * Contract: resolves to a migrated store, tagged with its engine, where it lives (for the start-up
 * log — a URL's password is never part of it) and the migrations this open applied. Rejects when
 * the database cannot be opened, reached or migrated; the caller should then refuse to start.
 */
import type { ConversationStore } from './conversation-store.ts';
import { openPostgresStore } from './postgres-store.ts';
import { openSqliteStore } from './sqlite-store.ts';

export interface StoreLocation {
  /** `DATABASE_URL`; blank counts as unset. */
  readonly databaseUrl?: string | undefined;
  /** `DATABASE_PATH`, used only without a URL. */
  readonly databasePath: string;
}

export interface StoreDependencies {
  readonly clock: { now(): number };
  readonly ids?: () => string;
  /** PostgreSQL only: an idle pooled connection failed and was replaced (see `openPostgresStore`). */
  readonly onIdleConnectionError: (error: Error) => void;
}

export type StoreEngine = 'sqlite' | 'postgres';

export interface OpenedStore extends ConversationStore {
  readonly engine: StoreEngine;
  /** The SQLite path, or the URL without its password. */
  readonly location: string;
  readonly appliedMigrations: readonly number[];
}

/** `postgres://user@host:5432/db` — what to log about a URL. Unparseable ones are not echoed at all. */
export function describeDatabaseUrl(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return 'DATABASE_URL (not shown: not a URL)';
  }
  const user = url.username === '' ? '' : `${url.username}@`;
  return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

export async function openStore(location: StoreLocation, dependencies: StoreDependencies): Promise<OpenedStore> {
  const { clock, ids } = dependencies;
  const databaseUrl = location.databaseUrl?.trim() ?? '';
  if (databaseUrl !== '') {
    const store = await openPostgresStore({
      connectionString: databaseUrl,
      clock,
      ids,
      onIdleConnectionError: dependencies.onIdleConnectionError,
    });
    return Object.assign(store, { engine: 'postgres' as const, location: describeDatabaseUrl(databaseUrl) });
  }
  const store = await openSqliteStore({ path: location.databasePath, clock, ids });
  return Object.assign(store, { engine: 'sqlite' as const, location: store.path });
}
