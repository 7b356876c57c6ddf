/**
 * Jest transformer for the built mini-program scripts (the generated .js in the root): runs them exactly
 * as built, and hands jest the source map the build wrote for each (sourcemap-dir.cjs), so coverage is
 * reported — and stack traces point — in the .ts source. A script without a map (the vendor bundle, or
 * a root built without maps) runs as is, reported as itself.
 *
 * Contract: never changes the code; the cache key covers the script, its map and this file.
 */
'use strict';

const { createHash } = require('node:crypto');
const { existsSync, readFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');
const sourcemapDir = require('./sourcemap-dir.cjs');

const root = resolve(__dirname, '..', '..', 'miniprogram');
const self = readFileSync(__filename);

function mapOf(scriptPath) {
  const file = join(sourcemapDir, `${relative(root, scriptPath)}.map`);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

module.exports = {
  process(sourceText, sourcePath) {
    const map = mapOf(sourcePath);
    // An object, not the JSON text: coverage keeps the map as given, and a string would not survive it.
    return map === undefined ? { code: sourceText } : { code: sourceText, map: JSON.parse(map) };
  },
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha1').update(self).update(sourceText).update(mapOf(sourcePath) ?? '').digest('hex');
  },
};
