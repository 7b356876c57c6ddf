/**
 * Narrowing of raw Redis replies (script results and MULTI results arrive untyped) to the shapes
 * the stores expect.
 *
 * Contract: each function returns its input typed when it has the expected shape, and throws an
 * Error naming what came back otherwise — a reply of the wrong shape means a bug or a foreign
 * writer in our key space, never something to guess around.
 */

function unexpected(what: string, reply: unknown): Error {
  return new Error(`expected ${what} from Redis, got ${JSON.stringify(reply)}`);
}

export function integerReply(reply: unknown): number {
  if (typeof reply !== 'number') throw unexpected('an integer', reply);
  return reply;
}

/** Lua numbers come back as integers (truncated), so a script returns whole numbers only. */
export function integerArrayReply(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((item) => typeof item === 'number')) {
    throw unexpected(`${length} integers`, reply);
  }
  return reply as number[];
}

export function stringArrayReply(reply: unknown, length: number): string[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((item) => typeof item === 'string')) {
    throw unexpected(`${length} strings`, reply);
  }
  return reply as string[];
}

/** HMGET: one string or null per field asked for. */
export function optionalStringArrayReply(reply: unknown, length: number): Array<string | null> {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((item) => item === null || typeof item === 'string')) {
    throw unexpected(`${length} strings or nulls`, reply);
  }
  return reply as Array<string | null>;
}

/** HGETALL: an object of strings, empty when the key does not exist. */
export function stringRecordReply(reply: unknown): Record<string, string> {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply) || !Object.values(reply).every((value) => typeof value === 'string')) {
    throw unexpected('a hash', reply);
  }
  return reply as Record<string, string>;
}

export interface StreamEntry {
  readonly id: string;
  readonly message: Readonly<Record<string, string>>;
}

/** XRANGE: entries of id and fields. */
export function streamEntriesReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) throw unexpected('stream entries', reply);
  for (const entry of reply) {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { id?: unknown }).id !== 'string') throw unexpected('a stream entry', entry);
    stringRecordReply((entry as { message?: unknown }).message);
  }
  return reply as StreamEntry[];
}
