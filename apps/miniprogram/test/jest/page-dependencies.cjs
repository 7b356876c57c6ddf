/**
 * Jest dependency extractor: tells jest which files a mini-program page or component test depends on,
 * so `jest --watch` (and `--findRelatedTests`, `--onlyChanged`) re-runs it when any of them changes.
 *
 * miniprogram-simulate loads a page by its path at run time (`new SimPage('pages/chat/chat')`), which
 * jest's static import scan cannot see; nor can it see that a page is its .wxml, .wxss and .json as
 * well as its script. On top of jest's own extraction this adds:
 *   - in test code: each string naming a page or component of the root ('pages/x/x', 'components/y/y',
 *     also as the start of a URL 'pages/x/x?id=…') → that page's .ts, .wxml, .wxss and .json;
 *   - in a page's or component's .wxml: `<import>`, `<include>` and `<wxs>` sources, and each
 *     `usingComponents` entry of the .json beside it → that component's four files (jest extracts
 *     nothing from .json files, so the template that uses the components carries them);
 *   - the vendor bundle (built from the client core and protocol) → those packages' entry points.
 * The .ts sources bring their own imports through jest's extraction, so a change to a controller or a
 * view model — or to the client core — re-runs the page tests too.
 *
 * Contract: returns a Set of absolute paths and specifiers; never throws on malformed input (a .json
 * that is missing or does not parse adds nothing). A change to a .json alone is seen once its
 * template changes too (as it does when a component is put to use).
 */
'use strict';

const { createHash } = require('node:crypto');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, extname, join, resolve, sep } = require('node:path');

const appDir = resolve(__dirname, '..', '..');
const root = join(appDir, 'miniprogram');
const testDir = join(appDir, 'test');
const vendorBundle = join(root, 'vendor', 'wxstream-client.js');
/** What scripts/build.mjs bundles into the vendor file. */
const BUNDLED_PACKAGES = ['@wxstream/client', '@wxstream/protocol'];

const COMPONENT_FILES = ['.ts', '.wxml', '.wxss', '.json'];
const COMPONENT_PATH = /['"`]((?:pages|components)(?:\/[\w.-]+)+?)(?=['"`?])/g;
const WXML_SOURCE = /<(?:import|include|wxs)\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']/g;

function inside(dir, file) {
  return file.startsWith(dir + sep);
}

/** The files of the page or component at `base` (a path without extension), if it is one. */
function componentFiles(base) {
  if (!existsSync(`${base}.json`)) return [];
  return COMPONENT_FILES.map((ext) => base + ext).filter((file) => existsSync(file));
}

/** The files of the components in the `usingComponents` of the .json beside `wxmlPath`. */
function usedComponents(wxmlPath) {
  const jsonPath = wxmlPath.replace(/\.wxml$/, '.json');
  let json;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch {
    return [];
  }
  const using = json && typeof json.usingComponents === 'object' ? json.usingComponents : {};
  return Object.values(using).flatMap((value) =>
    typeof value === 'string' ? componentFiles(value.startsWith('/') ? join(root, value) : resolve(dirname(jsonPath), value)) : [],
  );
}

function wxmlSources(code, filePath) {
  return [...code.matchAll(WXML_SOURCE)].map(([, src]) => {
    const file = src.startsWith('/') ? join(root, src) : resolve(dirname(filePath), src);
    return extname(file) ? file : `${file}.wxml`;
  });
}

function extract(code, filePath, defaultExtract) {
  const dependencies = new Set(defaultExtract(code, filePath));
  const add = (files) => files.forEach((file) => dependencies.add(file));
  if (inside(testDir, filePath)) {
    for (const [, path] of code.matchAll(COMPONENT_PATH)) add(componentFiles(join(root, path)));
  } else if (filePath === vendorBundle) {
    add(BUNDLED_PACKAGES);
  } else if (inside(root, filePath) && filePath.endsWith('.wxml')) {
    add(wxmlSources(code, filePath));
    add(usedComponents(filePath));
  }
  return dependencies;
}

function getCacheKey() {
  return createHash('sha1').update(readFileSync(__filename)).digest('hex');
}

module.exports = { extract, getCacheKey };
