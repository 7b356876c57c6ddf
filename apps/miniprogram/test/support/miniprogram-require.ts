/**
 * Lets Node `require()` the generated mini-program `.js` files, as miniprogram-simulate does.
 *
 * They are CommonJS (what WeChat runs), but they sit inside this package, whose package.json says
 * `"type": "module"` so the tests and the `.ts` sources are ESM. A load hook restricted to `require()`
 * calls for `.js` files under the mini-program root hands Node their source as CommonJS. The vendor
 * bundle needs no hook: `miniprogram/vendor/package.json` declares that folder CommonJS, so ESM test
 * code can import it by name as well.
 *
 * Only for plain Node — the benchmark and the screenshot script import it first. Jest needs no hook (its
 * module loader runs these files as CommonJS) and refuses `registerHooks`, so tests never import it.
 *
 * Contract: importing this module registers the hook once per process; it changes nothing else.
 */
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { miniprogramRoot } from './paths.ts';

const rootUrl = pathToFileURL(miniprogramRoot).href + '/';
const marker = Symbol.for('wxstream.miniprogram-require-hook');
const registry = globalThis as unknown as Record<symbol, boolean>;

if (!registry[marker]) {
  registry[marker] = true;
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith(rootUrl) && url.endsWith('.js') && context.conditions?.includes('require')) {
        return { format: 'commonjs', source: readFileSync(fileURLToPath(url), 'utf8'), shortCircuit: true };
      }
      return nextLoad(url, context);
    },
  });
}
