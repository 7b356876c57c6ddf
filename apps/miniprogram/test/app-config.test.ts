/**
 * The configuration DevTools reads before running any code: app.json, page JSON, sitemap, and the
 * repository's project.config.json pointing at this mini-program root.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from '@jest/globals';
import { appDir, miniprogramRoot } from './support/paths.ts';

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const app = readJson(join(miniprogramRoot, 'app.json'));
const CHINESE = /[\u4e00-\u9fff]/;

test('app.json lists pages that each have their script, template, style and JSON', () => {
  const pages = app.pages;
  assert.ok(Array.isArray(pages) && pages.length > 0);
  for (const page of pages) {
    assert.equal(typeof page, 'string');
    for (const suffix of ['.ts', '.js', '.wxml', '.wxss', '.json']) {
      assert.ok(existsSync(join(miniprogramRoot, `${String(page)}${suffix}`)), `${String(page)}${suffix} is missing`);
    }
  }
});

test('app.json turns on the privacy check, so the privacy dialog is asked before protected APIs', () => {
  assert.equal(app.__usePrivacyCheck__, true);
});

test('app.json uses the v2 style, on-demand code loading and a Chinese title', () => {
  assert.equal(app.style, 'v2');
  assert.equal(app.lazyCodeLoading, 'requiredComponents');
  const window = app.window as Record<string, unknown>;
  assert.match(String(window.navigationBarTitleText), CHINESE);
  assert.ok(existsSync(join(miniprogramRoot, String(app.sitemapLocation))));
});

test('pages built with Component declare usingComponents (each one a component that exists) and do not scroll themselves', () => {
  for (const page of app.pages as string[]) {
    const json = readJson(join(miniprogramRoot, `${page}.json`));
    assert.equal(typeof json.usingComponents, 'object');
    for (const path of Object.values(json.usingComponents as Record<string, string>)) {
      const component = path.startsWith('/') ? join(miniprogramRoot, path) : join(miniprogramRoot, dirname(page), path);
      assert.equal(readJson(`${component}.json`).component, true, `${page} uses ${path}`);
      for (const ext of ['.ts', '.wxml', '.wxss']) assert.ok(existsSync(component + ext), `${path}${ext} exists`);
    }
    assert.match(String(json.navigationBarTitleText), CHINESE);
    assert.equal(json.disableScroll, true);
  }
});

test('every component a page uses exists, with its script, template, style and JSON', () => {
  for (const page of app.pages as string[]) {
    const used = readJson(join(miniprogramRoot, `${page}.json`)).usingComponents as Record<string, string>;
    for (const [tag, path] of Object.entries(used)) {
      assert.ok(path.startsWith('/components/'), `${page} uses ${tag} from ${path}`);
      for (const suffix of ['.ts', '.js', '.wxml', '.wxss']) {
        assert.ok(existsSync(join(miniprogramRoot, `${path}${suffix}`)), `${path}${suffix} is missing`);
      }
      assert.equal(readJson(join(miniprogramRoot, `${path}.json`)).component, true);
    }
  }
});

test('the repository project config opens this folder as the mini-program root', () => {
  const project = readJson(join(appDir, '..', '..', 'project.config.json'));
  const root = String(project.miniprogramRoot).replace(/\/$/, '');
  assert.equal(root, relative(join(appDir, '..', '..'), miniprogramRoot));
  assert.equal(project.compileType, 'miniprogram');
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

test('the server URL is set in config.ts and nowhere else', () => {
  const config = join(miniprogramRoot, 'config.ts');
  assert.match(readFileSync(config, 'utf8'), /export const SERVER_URL = '(https?:\/\/[^']+)'/);
  for (const file of sources(miniprogramRoot).filter((path) => path !== config)) {
    assert.equal(/https?:\/\//.test(readFileSync(file, 'utf8')), false, `${relative(miniprogramRoot, file)} names a URL`);
  }
});
