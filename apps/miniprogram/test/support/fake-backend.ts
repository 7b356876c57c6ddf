/**
 * An in-memory wxstream server for the conversation routes, answering as the HTTP contract says: JSON
 * bodies, `Authorization: Bearer <token>`, errors as `{"error":{"code","message"}}` with the protocol's
 * statuses, another user's conversation answered 404 `not_found`, lists newest first with an opaque
 * cursor. Rename is accepted as `PATCH` (the contract) and as `PUT` (what WeChat can send).
 *
 * The cursor is an offset into the list, the simplest cursor a server might use — which means pages
 * overlap when a conversation is added between two page loads, the case the client must dedupe.
 *
 * Contract: `handle` decides an answer synchronously from the request and the current state. Tests
 * seed conversations and tokens, read `requests` and the state back, and may replace the next answer
 * for a route with `answerNext` (an error body, or a network failure).
 */
import {
  errorBody,
  MAX_TITLE_CHARS,
  ROUTES,
  type ConversationSummary,
  type ErrorCode,
  type StoredMessage,
} from '@wxstream/protocol';

export const DEFAULT_USER = 'user-1';
export const MAX_PAGE_SIZE = 50;

export interface BackendRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

export interface BackendAnswer {
  statusCode: number;
  data: unknown;
}

/** What a request gets: an HTTP answer, or no answer at all (wx reports a network failure). */
export type BackendOutcome = BackendAnswer | { network: string };

interface StoredConversation {
  owner: string;
  summary: ConversationSummary;
  messages: StoredMessage[];
}

export interface SeedConversation {
  id: string;
  title: string;
  /** ISO 8601; defaults to `createdAt`, which defaults to the backend's now. */
  updatedAt?: string;
  createdAt?: string;
  owner?: string;
  messages?: StoredMessage[];
}

interface Override {
  method: string;
  path: string;
  outcome: BackendOutcome;
}

function fail(code: ErrorCode, statusCode: number, message: string): BackendAnswer {
  return { statusCode, data: errorBody(code, message) };
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class FakeBackend {
  readonly requests: BackendRequest[] = [];
  private readonly conversations: StoredConversation[] = [];
  private readonly tokens = new Map<string, { user: string; expired: boolean }>();
  private readonly overrides: Override[] = [];
  private readonly now: () => number;

  constructor(now: () => number = () => Date.now()) {
    this.now = now;
  }

  issueToken(token: string, user = DEFAULT_USER): void {
    this.tokens.set(token, { user, expired: false });
  }

  /** A token the server issued once and now refuses with `token_expired`. */
  expiredToken(token: string, user = DEFAULT_USER): void {
    this.tokens.set(token, { user, expired: true });
  }

  addConversation(seed: SeedConversation): ConversationSummary {
    const createdAt = seed.createdAt ?? seed.updatedAt ?? new Date(this.now()).toISOString();
    const summary: ConversationSummary = { id: seed.id, title: seed.title, createdAt, updatedAt: seed.updatedAt ?? createdAt };
    this.conversations.push({ owner: seed.owner ?? DEFAULT_USER, summary, messages: copy(seed.messages ?? []) });
    return copy(summary);
  }

  /** `count` conversations c-1 … c-count, c-1 the most recent, one minute apart, ending `minutesAgo` before now. */
  addConversations(count: number, options: { minutesAgo?: number; owner?: string } = {}): ConversationSummary[] {
    const start = this.now() - (options.minutesAgo ?? 0) * 60_000;
    const added: ConversationSummary[] = [];
    for (let i = 1; i <= count; i++) {
      const updatedAt = new Date(start - (i - 1) * 60_000).toISOString();
      added.push(this.addConversation({ id: `c-${i}`, title: `对话 ${i}`, updatedAt, owner: options.owner }));
    }
    return added;
  }

  summary(id: string): ConversationSummary | undefined {
    const found = this.conversations.find((entry) => entry.summary.id === id);
    return found ? copy(found.summary) : undefined;
  }

  /** Replaces the next answer to `method path` (path without the query) with `outcome`. */
  answerNext(method: string, path: string, outcome: BackendOutcome): void {
    this.overrides.push({ method, path, outcome });
  }

  handle(method: string, url: string, header: Record<string, string> | undefined, data: unknown): BackendOutcome {
    const parsed = new URL(url);
    const request: BackendRequest = {
      method,
      path: parsed.pathname,
      query: parsed.searchParams,
      authorization: header?.Authorization ?? header?.authorization,
      body: data === undefined ? undefined : copy(data),
    };
    this.requests.push(request);
    const index = this.overrides.findIndex((o) => o.method === method && o.path === request.path);
    if (index !== -1) {
      const [override] = this.overrides.splice(index, 1);
      if (override) return copy(override.outcome);
    }
    return copy(this.route(request));
  }

  private route(request: BackendRequest): BackendAnswer {
    const user = this.authenticate(request.authorization);
    if (typeof user !== 'string') return user;
    if (request.path === ROUTES.conversations) {
      if (request.method !== 'GET') return fail('method_not_allowed', 405, `${request.method} is not allowed here`);
      return this.list(user, request.query);
    }
    const prefix = `${ROUTES.conversations}/`;
    if (!request.path.startsWith(prefix) || request.path.slice(prefix.length).includes('/')) {
      return fail('not_found', 404, `no route ${request.path}`);
    }
    const id = decodeURIComponent(request.path.slice(prefix.length));
    const found = this.conversations.find((entry) => entry.summary.id === id && entry.owner === user);
    if (!found) return fail('not_found', 404, `conversation ${id} not found`);
    switch (request.method) {
      case 'GET':
        return { statusCode: 200, data: { conversation: found.summary, messages: found.messages } };
      case 'PATCH':
      case 'PUT':
        return this.rename(found, request.body);
      case 'DELETE':
        this.conversations.splice(this.conversations.indexOf(found), 1);
        return { statusCode: 204, data: '' };
      default:
        return fail('method_not_allowed', 405, `${request.method} is not allowed here`);
    }
  }

  private authenticate(authorization: string | undefined): string | BackendAnswer {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return fail('unauthorized', 401, 'missing bearer token');
    const known = this.tokens.get(token);
    if (!known) return fail('invalid_token', 401, 'unknown token');
    if (known.expired) return fail('token_expired', 401, 'token has expired');
    return known.user;
  }

  private list(user: string, query: URLSearchParams): BackendAnswer {
    const limitText = query.get('limit') ?? '20';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_PAGE_SIZE) return fail('invalid_request', 400, `bad limit ${limitText}`);
    const cursor = query.get('cursor');
    const offset = cursor === null ? 0 : decodeCursor(cursor);
    if (offset === undefined) return fail('invalid_request', 400, 'bad cursor');
    const mine = this.conversations
      .filter((entry) => entry.owner === user)
      .map((entry) => entry.summary)
      .sort((a, b) => (a.updatedAt === b.updatedAt ? a.id.localeCompare(b.id) : a.updatedAt < b.updatedAt ? 1 : -1));
    const items = mine.slice(offset, offset + limit);
    const next = offset + limit;
    return { statusCode: 200, data: { items, nextCursor: next < mine.length ? encodeCursor(next) : null } };
  }

  private rename(found: StoredConversation, body: unknown): BackendAnswer {
    const title = typeof body === 'object' && body !== null ? (body as { title?: unknown }).title : undefined;
    if (typeof title !== 'string') return fail('invalid_request', 400, 'title must be a string');
    const trimmed = title.trim();
    const length = Array.from(trimmed).length;
    if (length < 1 || length > MAX_TITLE_CHARS) return fail('invalid_request', 400, `title must be 1..${MAX_TITLE_CHARS} characters`);
    found.summary.title = trimmed;
    return { statusCode: 200, data: found.summary };
  }
}

/** A stored message, for seeding; timestamps default to the epoch (tests do not read them). */
export function storedMessage(fields: Pick<StoredMessage, 'id' | 'role' | 'text'> & Partial<StoredMessage>): StoredMessage {
  return { status: 'complete', createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z', ...fields };
}
