/**
 * Dark mode: WeChat switches the native chrome by theme.json and the page colours by the
 * `prefers-color-scheme` block of app.wxss. These checks keep both themes complete: every colour the
 * pages and components use is a variable defined for light and for dark, and no style names a colour
 * of its own (which would stay light in the dark).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from '@jest/globals';
import { miniprogramRoot } from './support/paths.ts';

const COLOUR = /#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?)\(/;

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'vendor' ? [] : files(full, suffix);
    return entry.name.endsWith(suffix) ? [full] : [];
  });
}

function declarations(block: string): Map<string, string> {
  return new Map([...block.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map((m) => [m[1] ?? '', (m[2] ?? '').trim()]));
}

const appWxss = readFileSync(join(miniprogramRoot, 'app.wxss'), 'utf8');
const darkStart = appWxss.indexOf('@media (prefers-color-scheme: dark)');
const light = declarations(appWxss.slice(0, darkStart));
const dark = declarations(appWxss.slice(darkStart));

test('app.json turns dark mode on and takes its window colours from theme.json, for both themes', () => {
  const app = JSON.parse(readFileSync(join(miniprogramRoot, 'app.json'), 'utf8')) as { darkmode?: boolean; themeLocation?: string; window: Record<string, string> };
  const theme = JSON.parse(readFileSync(join(miniprogramRoot, String(app.themeLocation)), 'utf8')) as Record<'light' | 'dark', Record<string, string>>;
  assert.equal(app.darkmode, true);
  const references = Object.values(app.window).filter((value) => value.startsWith('@')).map((value) => value.slice(1));
  assert.ok(references.includes('navBgColor') && references.includes('navTextStyle'));
  for (const name of references) {
    assert.ok(theme.light[name] !== undefined && theme.dark[name] !== undefined, `@${name} is defined for both themes`);
  }
  assert.equal(theme.light.navTextStyle, 'black');
  assert.equal(theme.dark.navTextStyle, 'white');
  assert.equal(theme.dark.navBgColor, dark.get('--color-page'), 'the dark navigation bar matches the dark page');
  assert.equal(theme.light.navBgColor, light.get('--color-page'));
});

test('the palette defines every variable for light and for dark, each with its own value where it must differ', () => {
  assert.ok(darkStart > 0, 'app.wxss has a dark block');
  assert.deepEqual([...dark.keys()].sort(), [...light.keys()].sort());
  for (const name of ['--color-page', '--color-surface', '--color-text', '--color-border', '--color-user-bubble', '--color-code']) {
    assert.notEqual(light.get(name), dark.get(name), `${name} differs between the themes`);
  }
});

test('no style outside the palette names a colour, and every variable used is defined', () => {
  const sheets = files(miniprogramRoot, '.wxss').filter((path) => !path.endsWith('app.wxss'));
  assert.ok(sheets.length >= 5);
  for (const sheet of sheets) {
    const css = readFileSync(sheet, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    assert.equal(COLOUR.test(css), false, `${relative(miniprogramRoot, sheet)} names a colour: ${COLOUR.exec(css)?.[0]}`);
    for (const match of css.matchAll(/var\((--[\w-]+)\)/g)) {
      assert.ok(light.has(match[1] ?? ''), `${relative(miniprogramRoot, sheet)} uses undefined ${match[1]}`);
    }
  }
  assert.equal(COLOUR.test(appWxss.replace(/\/\*[\s\S]*?\*\//g, '').replace(/--[\w-]+\s*:[^;]+;/g, '')), false, 'app.wxss names colours only in variables');
});

test('no template sets a colour inline', () => {
  for (const template of files(miniprogramRoot, '.wxml')) {
    assert.equal(COLOUR.test(readFileSync(template, 'utf8')), false, relative(miniprogramRoot, template));
  }
});
