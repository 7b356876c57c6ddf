/**
 * Jest global set-up: builds the mini-program root before each run (also each run of `--watch`), so the
 * page tests load the .js WeChat would load, generated from the .ts being tested. Fails the run on a
 * build error, with esbuild's messages.
 */
import { buildMiniprogram } from '../../scripts/build.mjs';

export default async function buildBeforeRun() {
  await buildMiniprogram();
}
