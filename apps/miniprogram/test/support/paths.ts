/** Where the mini-program lives, for tests and the benchmark. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const miniprogramRoot = join(appDir, 'miniprogram');
export const vendorBundlePath = join(miniprogramRoot, 'vendor', 'wxstream-client.js');
