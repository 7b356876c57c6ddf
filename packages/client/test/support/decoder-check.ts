/**
 * Runs Utf8StreamDecoder over a chunking and checks every call against the spec reference, and Node's
 * own streaming TextDecoder wherever that one is not hit by its known BOM bug.
 */
import assert from 'node:assert/strict';
import { Utf8StreamDecoder } from '../../src/utf8-stream-decoder.ts';
import {
  codePoints,
  describeChunks,
  isNodeStreamBomBug,
  nativeStreamOutputs,
  referenceStreamOutputs,
} from './utf8-reference.ts';

/** Our outputs for `stream: true` calls on each chunk, then a final `decode()`. */
export function decodeInCalls(chunks: readonly Uint8Array[], decoder = new Utf8StreamDecoder()): string[] {
  const outputs = chunks.map((chunk) => decoder.decode(chunk, { stream: true }));
  outputs.push(decoder.decode());
  return outputs;
}

export interface ChunkingCheck {
  /** How many calls Node's streaming decoder got wrong by its known BOM bug (and the spec reference right). */
  nodeBomBugHits: number;
}

/** Asserts that every call returns what the spec says; `context` goes into failure messages (e.g. a seed). */
export function assertDecodesLikeSpec(chunks: readonly Uint8Array[], context = ''): ChunkingCheck {
  const ours = decodeInCalls(chunks);
  const spec = referenceStreamOutputs(chunks);
  const where = `${context}${context === '' ? '' : ', '}chunks ${describeChunks(chunks)}`;
  for (let index = 0; index < spec.length; index++) {
    if (ours[index] !== spec[index]) {
      assert.fail(
        `call ${index} returned ${codePoints(ours[index]!) || '(empty)'} but the spec says ` +
          `${codePoints(spec[index]!) || '(empty)'} — ${where}`,
      );
    }
  }
  const native = nativeStreamOutputs(chunks);
  let nodeBomBugHits = 0;
  for (let index = 0; index < spec.length; index++) {
    if (native[index] === spec[index]) continue;
    assert.ok(
      isNodeStreamBomBug(chunks, spec, native, index),
      `Node's streaming TextDecoder and the spec reference disagree at call ${index} in a way other than ` +
        `Node's known BOM bug: native ${codePoints(native[index]!)}, spec ${codePoints(spec[index]!)} — ${where}`,
    );
    nodeBomBugHits++;
  }
  return { nodeBomBugHits };
}
