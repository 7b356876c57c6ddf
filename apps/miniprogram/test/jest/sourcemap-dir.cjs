/**
 * Where the jest set-up has the build write its source maps (see scripts/build.mjs `sourcemapDir`) and
 * where built-script.cjs reads them: a cache folder outside the mini-program root. CommonJS, so both
 * the ESM set-up and the CommonJS transformer can load it.
 */
'use strict';

const { join, resolve } = require('node:path');

module.exports = join(resolve(__dirname, '..', '..'), 'node_modules', '.cache', 'wxstream-build-maps');
