/**
 * Decoder benchmark: our Utf8StreamDecoder against Node's native TextDecoder (stream mode) and the
 * pure-JS `text-encoding` polyfill, on a CJK-heavy LLM-like corpus cut into small and medium chunks.
 *
 * `node bench/decoder.bench.ts` measures with the JIT; `node bench/decoder.bench.ts --jitless` measures
 * under `--jitless`, the closest Node gets to iOS, where mini-program JS runs in an interpreter.
 * `node --jitless` cannot load `.ts` itself (its type stripper is WebAssembly, which --jitless disables),
 * so the `--jitless` form strips the types of this file and its relative imports into a temporary
 * directory and runs that copy in a `node --jitless` child.
 *
 * Prints MB/s (median of several timed repetitions after a warm-up) and the ratios; targets are
 * reported, not asserted. Before timing, it checks that all three decoders produce the same text as a
 * whole-corpus decode for every chunking, and fails if they do not.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire, stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Utf8StreamDecoder } from '../src/utf8-stream-decoder.ts';
import { buildLlmCorpus, chunkBytes } from './corpus.ts';

interface StreamDecoder {
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
type DecoderFactory = () => StreamDecoder;
interface NamedDecoder {
  name: string;
  create: DecoderFactory;
}

const jitless = process.execArgv.includes('--jitless');
// The interpreter is far slower; a smaller corpus keeps the jitless run to seconds, not minutes.
const CORPUS_BYTES = jitless ? 1_000_000 : 4_000_000;
const REPETITIONS = 7;
const CHUNK_LIMITS = [64, 4096];
const CORPUS_SEED = 20240601;
const STREAM = { stream: true };

function loadDecoders(): NamedDecoder[] {
  // text-encoding is CommonJS. Its module wrapper binds `this` to its own exports, so it exports its own
  // pure-JS TextDecoder even though Node has a global one; the identity check makes sure of that.
  const require = createRequire(import.meta.url);
  const polyfill = require('text-encoding') as { TextDecoder: new (label?: string) => StreamDecoder };
  if ((polyfill.TextDecoder as unknown) === globalThis.TextDecoder) {
    throw new Error('text-encoding returned the native TextDecoder; the comparison would be meaningless');
  }
  return [
    { name: 'Utf8StreamDecoder', create: () => new Utf8StreamDecoder() },
    { name: 'native TextDecoder', create: () => new TextDecoder('utf-8') },
    { name: 'text-encoding polyfill', create: () => new polyfill.TextDecoder('utf-8') },
  ];
}

function decodeToString(create: DecoderFactory, chunks: readonly Uint8Array[]): string {
  const decoder = create();
  const parts: string[] = [];
  for (const chunk of chunks) parts.push(decoder.decode(chunk, STREAM));
  parts.push(decoder.decode());
  return parts.join('');
}

/** One timed pass; appending to a string is what the client does with each decoded chunk. */
function timedPass(create: DecoderFactory, chunks: readonly Uint8Array[]): { ms: number; length: number } {
  const started = performance.now();
  const decoder = create();
  let text = '';
  for (const chunk of chunks) text += decoder.decode(chunk, STREAM);
  text += decoder.decode();
  const ms = performance.now() - started;
  return { ms, length: text.length };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function runBenchmark(): void {
  const decoders = loadDecoders();
  const corpus = buildLlmCorpus(CORPUS_BYTES, CORPUS_SEED);
  const expected = new TextDecoder('utf-8').decode(corpus);
  const ascii = corpus.reduce((count, byte) => count + (byte < 0x80 ? 1 : 0), 0);
  console.log(
    `\nUTF-8 stream decoding — Node ${process.version}, ${jitless ? 'JITLESS (interpreter only)' : 'with JIT'}\n` +
      `corpus: ${(corpus.length / 1e6).toFixed(2)} MB, ${expected.length} UTF-16 units, ` +
      `${((100 * ascii) / corpus.length).toFixed(0)}% ASCII bytes; median of ${REPETITIONS} runs after warm-up`,
  );

  const chunkings = CHUNK_LIMITS.map((limit) => ({ limit, chunks: chunkBytes(corpus, limit, CORPUS_SEED + limit) }));
  const mismatches: string[] = [];
  for (const { limit, chunks } of chunkings) {
    for (const { name, create } of decoders) {
      if (decodeToString(create, chunks) !== expected) mismatches.push(`${name} on chunks of ≤ ${limit} B`);
    }
  }
  if (mismatches.length > 0) {
    throw new Error(`decoders disagree with the whole-corpus decode (${mismatches.join('; ')}): figures would be meaningless`);
  }
  console.log('output check: all three decoders agree with the whole-corpus decode for every chunking\n');

  for (const { limit, chunks } of chunkings) {
    const times = new Map<string, number[]>(decoders.map(({ name }) => [name, []]));
    for (const { create } of decoders) timedPass(create, chunks);
    // Interleave the decoders so drift (thermal, other processes) hits them all alike.
    for (let run = 0; run < REPETITIONS; run++) {
      for (const { name, create } of decoders) {
        const { ms, length } = timedPass(create, chunks);
        if (length !== expected.length) throw new Error(`${name} produced ${length} units, expected ${expected.length}`);
        times.get(name)!.push(ms);
      }
    }
    const speed = new Map<string, number>();
    console.log(`chunks of 1…${limit} B (${chunks.length} chunks):`);
    for (const { name } of decoders) {
      const ms = median(times.get(name)!);
      const mbPerSecond = corpus.length / 1e6 / (ms / 1000);
      speed.set(name, mbPerSecond);
      console.log(`  ${name.padEnd(24)} ${mbPerSecond.toFixed(1).padStart(8)} MB/s   (${ms.toFixed(1)} ms)`);
    }
    const ours = speed.get('Utf8StreamDecoder')!;
    console.log(`  ours / native   = ${(ours / speed.get('native TextDecoder')!).toFixed(2)}×`);
    console.log(`  ours / polyfill = ${(ours / speed.get('text-encoding polyfill')!).toFixed(2)}×\n`);
  }
  console.log(jitless ? 'target (jitless): ours ≥ 5× the polyfill' : 'target (JIT): ours ≥ native on 64 B chunks');
}

/**
 * Copies `entry` and every module it imports by a relative `.ts` specifier into `outDir` as type-stripped
 * `.mjs` files (same layout relative to `root`), so a `node --jitless` process can run them.
 */
function writeStrippedCopy(entry: string, root: string, outDir: string, done = new Set<string>()): string {
  const target = join(outDir, relative(root, entry)).replace(/\.ts$/, '.mjs');
  if (done.has(entry)) return target;
  done.add(entry);
  const source = stripTypeScriptTypes(readFileSync(entry, 'utf8'), { mode: 'strip' });
  const rewritten = source.replace(/(from\s+['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, (_match, open: string, path: string, close: string) => {
    writeStrippedCopy(resolve(dirname(entry), `${path}.ts`), root, outDir, done);
    return `${open}${path}.mjs${close}`;
  });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, rewritten);
  return target;
}

function rerunJitless(): void {
  const packageRoot = fileURLToPath(new URL('..', import.meta.url));
  const outDir = mkdtempSync(join(tmpdir(), 'wxstream-decoder-bench-'));
  try {
    // The copy resolves `text-encoding` through the package's own node_modules.
    symlinkSync(join(packageRoot, 'node_modules'), join(outDir, 'node_modules'), 'junction');
    const entry = writeStrippedCopy(fileURLToPath(import.meta.url), packageRoot, outDir);
    const child = spawnSync(process.execPath, ['--jitless', entry], { stdio: 'inherit' });
    if (child.error !== undefined) throw child.error;
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (process.argv.slice(2).includes('--jitless') && !jitless) rerunJitless();
else runBenchmark();
