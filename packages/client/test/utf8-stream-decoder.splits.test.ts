/**
 * Utf8StreamDecoder against the spec for every way of cutting hand-picked byte strings, and for
 * thousands of random byte strings in random chunkings. Random tests use a seeded generator; a failure
 * names its seed, and `WXSTREAM_SEED=<seed>` replays it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Utf8StreamDecoder } from '../src/utf8-stream-decoder.ts';
import { assertDecodesLikeSpec, decodeInCalls } from './support/decoder-check.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';
import { decodeWhole, hex } from './support/utf8-reference.ts';
import { HAND_PICKED, randomChunks, randomUtf8ish, threeWaySplits, twoWaySplits } from './support/utf8-samples.ts';

describe('decoder at every split point of hand-picked sequences', () => {
  for (const { name, bytes } of HAND_PICKED) {
    test(`decoder returns what the spec says for ${name} at every 2-way and 3-way split`, () => {
      let chunkings = 0;
      for (const chunks of twoWaySplits(bytes)) {
        assertDecodesLikeSpec(chunks, name);
        chunkings++;
      }
      for (const chunks of threeWaySplits(bytes)) {
        assertDecodesLikeSpec(chunks, name);
        chunkings++;
      }
      assert.equal(chunkings, bytes.length + 1 + ((bytes.length + 1) * (bytes.length + 2)) / 2);
    });
  }

  test('decoder returns the whole-string result when the last chunk comes with the final non-stream call', () => {
    for (const { name, bytes } of HAND_PICKED) {
      for (const [head, tail] of twoWaySplits(bytes)) {
        const decoder = new Utf8StreamDecoder();
        const text = decoder.decode(head, { stream: true }) + decoder.decode(tail);
        assert.equal(text, decodeWhole(bytes), `${name}: [${hex(head!)}] [${hex(tail!)}]`);
      }
    }
  });

  test('decoder one byte per call returns the spec output for each byte', () => {
    for (const { name, bytes } of HAND_PICKED) {
      assertDecodesLikeSpec(Array.from(bytes, (_byte, index) => bytes.subarray(index, index + 1)), name);
    }
  });
});

describe('decoder on random byte strings', () => {
  test('decoder matches the spec for 4000 random byte strings in random chunkings', (t) => {
    const seed = testSeed(0x5eed_0001);
    const random = createSeededRandom(seed);
    let nodeBomBugHits = 0;
    for (let round = 0; round < 4000; round++) {
      const bytes = randomUtf8ish(random, 16);
      const chunks = randomChunks(bytes, random, random.pick([1, 2, 3, 5, 8, 64]));
      nodeBomBugHits += assertDecodesLikeSpec(chunks, `seed ${seed}, round ${round}`).nodeBomBugHits;
    }
    t.diagnostic(`seed ${seed}; calls where Node's streaming TextDecoder showed its BOM bug: ${nodeBomBugHits}`);
  });

  test('decoder output concatenated over any chunking equals the whole-string decode for long random inputs', () => {
    const seed = testSeed(0x5eed_0002);
    const random = createSeededRandom(seed);
    for (let round = 0; round < 200; round++) {
      const bytes = randomUtf8ish(random, 400);
      const chunks = randomChunks(bytes, random, random.pick([3, 17, 100, 1000]));
      const text = decodeInCalls(chunks).join('');
      if (text !== decodeWhole(bytes)) assert.fail(`seed ${seed}, round ${round}: mismatch for ${hex(bytes)}`);
    }
  });

  test('one decoder reused for many streams matches the spec for each stream', () => {
    const seed = testSeed(0x5eed_0003);
    const random = createSeededRandom(seed);
    const decoder = new Utf8StreamDecoder();
    for (let round = 0; round < 500; round++) {
      const bytes = randomUtf8ish(random, 12);
      const text = decodeInCalls(randomChunks(bytes, random, 4), decoder).join('');
      if (text !== decodeWhole(bytes)) assert.fail(`seed ${seed}, round ${round}: mismatch for ${hex(bytes)}`);
    }
  });
});
