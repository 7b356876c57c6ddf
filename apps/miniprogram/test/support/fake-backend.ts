/**
 * An in-memory wxstream server for the conversation routes, answering as the HTTP contract says: JSON
 * bodies, `Authorization: Bearer <token>`, errors as `{"error":{"code","message"}}` with the protocol's
 * statuses, another user's conversation answered 404 `not_found`, lists newest first with an opaque
 * cursor. Rename is accepted as `PATCH` (the contract) and as `PUT` (what WeChat can send).
 *
 * The cursor is an offset into the list, the simplest cursor a server might use — which means pages
 * overlap when a conversation is added between two page loads, the case the client must dedupe.
 *
 * #10's routes too: a conversation's messages in pages (`?limit=N&before=<cursor>`, newest first, each
 * page in reading order, an offset cursor), feedback on a reply, versions of a turn (`PUT …/current`
 * answers the turn as it now reads), and shares (`POST …/shares`, `GET /api/shares/:id` without a
 * token and without any owner's identifiers, `DELETE` by the owner only; 404 afterwards).
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
  /** Turns with several versions, by the reply id of each of their versions. */
  turns: Map<string, StoredTurn>;
}

/** The versions of one turn: question and reply each; `current` is the one in `messages`. */
interface StoredTurn {
  versions: { question: StoredMessage; reply: StoredMessage }[];
  current: number;
}

interface StoredShare {
  owner: string;
  title: string;
  createdAt: string;
  messages: { role: 'user' | 'assistant'; text: string; createdAt: string }[];
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
    this.conversations.push({ owner: seed.owner ?? DEFAULT_USER, summary, messages: copy(seed.messages ?? []), turns: new Map() });
    return copy(summary);
  }

  /** A conversation `id` of `count` messages, alternating question (q-1…) and reply (a-2…), oldest first. */
  addLongConversation(id: string, count: number, title = '长对话'): void {
    const messages: StoredMessage[] = [];
    for (let i = 1; i <= count; i++) {
      const role = i % 2 === 1 ? 'user' : 'assistant';
      messages.push(storedMessage({ id: `${role === 'user' ? 'q' : 'a'}-${i}`, role, text: role === 'user' ? `问题 ${i}` : `回答 ${i}：第 ${i} 条消息。` }));
    }
    this.addConversation({ id, title, messages });
  }

  /** Appends a turn to conversation `id` (what the server stores after a reply the test streamed). */
  appendTurn(id: string, question: StoredMessage, reply: StoredMessage): void {
    const found = this.find(id);
    found.messages.push(copy(question), copy(reply));
  }

  /**
   * Makes the last turn of `id` have another version, `question`/`reply`, now current (what regenerate
   * and edit store). The previous last turn stays as a version.
   */
  addVersion(id: string, question: StoredMessage, reply: StoredMessage): void {
    const found = this.find(id);
    const last = found.messages.length - 2;
    const oldQuestion = found.messages[last];
    const oldReply = found.messages[last + 1];
    if (!oldQuestion || !oldReply) throw new Error(`conversation ${id} has no turn to version`);
    const turn = found.turns.get(oldReply.id) ?? { versions: [{ question: oldQuestion, reply: oldReply }], current: 0 };
    turn.versions.push({ question: copy(question), reply: copy(reply) });
    turn.current = turn.versions.length - 1;
    for (const version of turn.versions) found.turns.set(version.reply.id, turn);
    found.messages.splice(last, 2, copy(question), copy(reply));
  }

  /** Sets a conversation's title as the server's title generation would. */
  setTitle(id: string, title: string): void {
    this.find(id).summary.title = title;
  }

  /** The stored message `messageId` of conversation `id`, as the server holds it now. */
  message(id: string, messageId: string): StoredMessage | undefined {
    const found = this.conversations.find((entry) => entry.summary.id === id);
    const message = found?.messages.find((entry) => entry.id === messageId);
    return message ? copy(message) : undefined;
  }

  /**
   * Answer conversation reads in the unpaged form whatever the query says — how a server from before
   * paging answers `?limit=N` (the benchmark's "before").
   */
  unpaged = false;

  /** Every share made, by id. */
  readonly shares = new Map<string, StoredShare>();
  private shareSeq = 0;

  private find(id: string): StoredConversation {
    const found = this.conversations.find((entry) => entry.summary.id === id);
    if (!found) throw new Error(`no conversation ${id}`);
    return found;
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
    const share = /^\/api\/shares\/([^/]+)$/.exec(request.path);
    // Reading a share needs no token (revoking one does).
    if (share && request.method === 'GET') return this.readShare(decodeURIComponent(share[1] ?? ''));
    const user = this.authenticate(request.authorization);
    if (typeof user !== 'string') return user;
    if (share && request.method === 'DELETE') return this.revokeShare(user, decodeURIComponent(share[1] ?? ''));
    const feedback = /^\/api\/messages\/([^/]+)\/feedback$/.exec(request.path);
    if (feedback) return this.feedback(user, decodeURIComponent(feedback[1] ?? ''), request);
    const nested = /^\/api\/conversations\/([^/]+)\/(shares|messages\/([^/]+)\/current)$/.exec(request.path);
    if (nested) {
      const found = this.conversations.find((entry) => entry.summary.id === decodeURIComponent(nested[1] ?? '') && entry.owner === user);
      if (!found) return fail('not_found', 404, 'conversation not found');
      if (nested[2] === 'shares' && request.method === 'POST') return this.createShare(found);
      if (nested[3] !== undefined && request.method === 'PUT') return this.makeCurrent(found, decodeURIComponent(nested[3]));
      return fail('method_not_allowed', 405, `${request.method} is not allowed here`);
    }
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
        return this.detail(found, request.query);
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

  /** The whole conversation (no `limit` / `before`), or one page of it, newest first, in reading order. */
  private detail(found: StoredConversation, query: URLSearchParams): BackendAnswer {
    const messages = found.messages.map((message) => this.withVersions(found, message));
    const limitText = query.get('limit');
    const before = query.get('before');
    if (this.unpaged || (limitText === null && before === null)) return { statusCode: 200, data: { conversation: found.summary, messages } };
    const limit = Number(limitText ?? '30');
    if (!/^\d+$/.test(limitText ?? '30') || limit < 1 || limit > 100) return fail('invalid_request', 400, `bad limit ${limitText}`);
    const end = before === null ? messages.length : decodeCursor(before);
    if (end === undefined || end > messages.length) return fail('invalid_request', 400, 'bad cursor');
    const start = Math.max(0, end - limit);
    return {
      statusCode: 200,
      data: { conversation: found.summary, messages: messages.slice(start, end), nextCursor: start > 0 ? encodeCursor(start) : null },
    };
  }

  /** A reply of a turn with several versions carries them, as the contract says. */
  private withVersions(found: StoredConversation, message: StoredMessage): StoredMessage {
    const turn = found.turns.get(message.id);
    if (!turn) return message;
    const items = turn.versions.map(({ question, reply }) => ({
      messageId: reply.id,
      userMessageId: question.id,
      createdAt: reply.createdAt,
      status: reply.status,
    }));
    return { ...message, versions: { current: turn.current, items } } as StoredMessage;
  }

  private makeCurrent(found: StoredConversation, messageId: string): BackendAnswer {
    const turn = found.turns.get(messageId);
    if (!turn) return fail('not_found', 404, `no version ${messageId}`);
    const shown = turn.versions[turn.current];
    const target = turn.versions.findIndex((version) => version.reply.id === messageId);
    const next = turn.versions[target];
    const at = shown ? found.messages.findIndex((message) => message.id === shown.reply.id) : -1;
    if (!next || at < 1) return fail('not_found', 404, `no version ${messageId}`);
    turn.current = target;
    found.messages.splice(at - 1, 2, copy(next.question), copy(next.reply));
    return { statusCode: 200, data: { messages: [next.question, this.withVersions(found, next.reply)] } };
  }

  private feedback(user: string, messageId: string, request: BackendRequest): BackendAnswer {
    if (request.method !== 'PUT') return fail('method_not_allowed', 405, `${request.method} is not allowed here`);
    const message = this.conversations
      .filter((entry) => entry.owner === user)
      .flatMap((entry) => entry.messages)
      .find((entry) => entry.id === messageId && entry.role === 'assistant');
    if (!message) return fail('not_found', 404, `message ${messageId} not found`);
    const body = (request.body ?? {}) as { rating?: unknown; comment?: unknown };
    if (body.rating !== null && body.rating !== 'up' && body.rating !== 'down') return fail('invalid_request', 400, 'rating must be up, down or null');
    if (body.comment !== undefined && (typeof body.comment !== 'string' || Array.from(body.comment).length > 500)) {
      return fail('invalid_request', 400, 'comment must be a string of at most 500 characters');
    }
    const record = message as StoredMessage & { feedback?: unknown };
    if (body.rating === null) delete record.feedback;
    else record.feedback = body.comment === undefined ? { rating: body.rating, updatedAt: record.updatedAt } : { rating: body.rating, comment: body.comment, updatedAt: record.updatedAt };
    return { statusCode: 204, data: '' };
  }

  private createShare(found: StoredConversation): BackendAnswer {
    const shareId = `share${String(++this.shareSeq).padStart(19, '0')}`;
    const createdAt = new Date(this.now()).toISOString();
    const messages = found.messages
      .filter((message) => message.status !== 'blocked')
      .map((message) => ({ role: message.role, text: message.text, createdAt: message.createdAt }));
    this.shares.set(shareId, { owner: found.owner, title: found.summary.title, createdAt, messages });
    return {
      statusCode: 201,
      data: { shareId, title: found.summary.title, createdAt, messageCount: messages.length, path: `/api/shares/${shareId}` },
    };
  }

  private readShare(shareId: string): BackendAnswer {
    const share = this.shares.get(shareId);
    if (!share) return fail('not_found', 404, 'share not found');
    return { statusCode: 200, data: { title: share.title, createdAt: share.createdAt, messages: share.messages } };
  }

  private revokeShare(user: string, shareId: string): BackendAnswer {
    const share = this.shares.get(shareId);
    if (!share || share.owner !== user) return fail('not_found', 404, 'share not found');
    this.shares.delete(shareId);
    return { statusCode: 204, data: '' };
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
