/**
 * diffPaths: applying its keys to a view holding `before` gives `after`, and it sends only what changed.
 */
import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { readPath } from './support/sim-page.ts';
import { diffPaths } from '../miniprogram/pages/chat/path-diff.ts';

/** Applies setData keys to a deep copy of `root`, as the view layer does. */
function apply(root: Record<string, unknown>, data: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(root)) as Record<string, unknown>;
  for (const [path, value] of Object.entries(data)) {
    const parts = path.match(/[^.[\]]+/g) ?? [];
    const last = parts.pop() ?? '';
    const parent = readPath(copy, parts.join('.')) as Record<string, unknown>;
    parent[last] = JSON.parse(JSON.stringify(value)) as unknown;
  }
  return copy;
}

const block = (texts: string[]) => ({ key: '1', kind: 'para', parts: [{ kind: 'text', runs: texts.map((text) => ({ text, cls: '' })) }] });

test('equal values send nothing', () => {
  const out: Record<string, unknown> = {};
  diffPaths('m.blocks[1]', block(['a', 'b']), block(['a', 'b']), out);
  assert.deepEqual(out, {});
});

test('a grown run is one key, a new run one key', () => {
  const out: Record<string, unknown> = {};
  diffPaths('m.blocks[1]', block(['a', 'b']), block(['a', 'bc', 'd']), out);
  assert.deepEqual(out, { 'm.blocks[1].parts[0].runs[1].text': 'bc', 'm.blocks[1].parts[0].runs[2]': { text: 'd', cls: '' } });
});

test('a shrunk array or a changed shape is sent whole at its path', () => {
  const out: Record<string, unknown> = {};
  diffPaths('m.blocks[1]', block(['a', 'b']), block(['ab']), out);
  assert.deepEqual(out, { 'm.blocks[1].parts[0].runs': [{ text: 'ab', cls: '' }] });
  const shape: Record<string, unknown> = {};
  diffPaths('m.blocks[1]', block(['a']), { key: '1', kind: 'hr' }, shape);
  assert.deepEqual(shape, { 'm.blocks[1]': { key: '1', kind: 'hr' } });
});

test('applying the keys to the view gives the new value, for random edits', () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const before = block(Array.from({ length: random(5) }, () => 'x'.repeat(random(4))));
    const after = random(4) === 0 ? { key: '1', kind: 'code', lines: [[{ text: 'y', cls: '' }]] } : block(Array.from({ length: random(6) }, () => 'y'.repeat(random(4))));
    const out: Record<string, unknown> = {};
    diffPaths('m.blocks[1]', before, after, out);
    assert.deepEqual(apply({ m: { blocks: [null, before] } }, out), { m: { blocks: [null, after] } });
  }
});
