// highlight.js core with the languages chat answers use, behind a small typed surface
// (highlight-engine.d.ts). Plain JavaScript on purpose: highlight.js's own type declarations carry
// `/// <reference lib="dom" />`, which would pull the DOM's globals into every package that
// type-checks the client core (the server's Node streams then stop type-checking). TypeScript reads
// only the .d.ts beside this file, so those declarations never enter a program.
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, shell, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

export const HIGHLIGHT_LANGUAGES = Object.freeze(Object.keys(LANGUAGES));

export function findLanguage(name) {
  const found = hljs.getLanguage(name);
  return found ? HIGHLIGHT_LANGUAGES.find((key) => hljs.getLanguage(key) === found) : undefined;
}

export function highlightHtml(code, language) {
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}
