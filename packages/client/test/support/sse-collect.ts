/**
 * Feeds text to a real SseParser in given pieces and records everything it reports, plus ways to cut a
 * stream into pieces: at every index, and into three pieces at seeded random points.
 */
import assert from 'node:assert/strict';
import { SseParser, type SseMessage } from '../../src/sse-parser.ts';
import type { SeededRandom } from './seeded-random.ts';

export interface ParseRecord {
  messages: SseMessage[];
  comments: string[];
  retries: number[];
}

/** Feeds each piece in order, then ends the stream. */
export function parsePieces(pieces: readonly string[]): ParseRecord {
  const record: ParseRecord = { messages: [], comments: [], retries: [] };
  const parser = new SseParser((message) => record.messages.push(message), {
    onComment: (comment) => record.comments.push(comment),
    onRetry: (ms) => record.retries.push(ms),
  });
  for (const piece of pieces) parser.feed(piece);
  parser.end();
  return record;
}

export function* splitsInTwo(text: string): Generator<string[]> {
  for (let cut = 0; cut <= text.length; cut++) yield [text.slice(0, cut), text.slice(cut)];
}

export function randomSplitInThree(text: string, random: SeededRandom): string[] {
  const a = random.int(text.length + 1);
  const b = random.int(text.length + 1);
  const [first, second] = a <= b ? [a, b] : [b, a];
  return [text.slice(0, first), text.slice(first, second), text.slice(second)];
}

const show = (pieces: readonly string[]): string => pieces.map((piece) => JSON.stringify(piece)).join(' | ');

/**
 * Asserts that `text` parses to `expected` fed whole, split at every index, and split into three pieces
 * at `randomSplits` seeded random points.
 */
export function assertParsesAtEverySplit(
  text: string,
  expected: ParseRecord,
  random: SeededRandom,
  randomSplits = 100,
): void {
  assert.deepEqual(parsePieces([text]), expected, 'fed in one piece');
  for (const pieces of splitsInTwo(text)) {
    assert.deepEqual(parsePieces(pieces), expected, `split in two: ${show(pieces)}`);
  }
  for (let round = 0; round < randomSplits; round++) {
    const pieces = randomSplitInThree(text, random);
    assert.deepEqual(parsePieces(pieces), expected, `seed ${random.seed}, split in three: ${show(pieces)}`);
  }
}
