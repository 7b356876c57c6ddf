/**
 * Jest global set-up: builds the mini-program root before each run (also each run of `--watch`), so the
 * page tests load the .js WeChat would load, generated from the .ts being tested — with source maps
 * beside the cache (not in the root) for coverage and stack traces. Fails the run on a build error,
 * with esbuild's messages.
 */
import { buildMiniprogram } from '../../scripts/build.mjs';
import sourcemapDir from './sourcemap-dir.cjs';

export default async function buildBeforeRun() {
  await buildMiniprogram(undefined, { sourcemapDir });
}
