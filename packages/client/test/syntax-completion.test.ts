/**
 * completeOpenMarkdown: half-typed syntax at the end of the open block is closed or held back, and
 * text that is already complete passes through unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { completeOpenMarkdown } from '../src/index.ts';

const CASES: readonly [string, string, string][] = [
  ['unclosed strong is closed', 'Hello **wor', 'Hello **wor**'],
  ['unclosed emphasis inside strong closes innermost first', 'a **b *c', 'a **b *c***'],
  ['strong in Chinese text without spaces', '要让回复**一边', '要让回复**一边**'],
  ['strikethrough', 'x ~~gone', 'x ~~gone~~'],
  ['inline code', 'run `npm i', 'run `npm i`'],
  ['a closer goes before trailing spaces', 'a **b ', 'a **b** '],
  ['a delimiter run at the very end is held back', 'text **', 'text '],
  ['a backtick at the very end is held back', 'text `', 'text '],
  ['a trailing backslash is held back', 'a \\', 'a '],
  ['intraword underscores are not emphasis', 'snake_case_na', 'snake_case_na'],
  ['an asterisk between spaces is not emphasis', '2 * 3 = 6', '2 * 3 = 6'],
  ['a link being typed is held back from its bracket', 'see [the do', 'see '],
  ['a closed bracket at the very end waits for what follows', 'see [docs]', 'see '],
  ['a link whose target is being typed shows its text', 'see [docs](https://ex', 'see docs'],
  ['a finished link is kept', 'see [docs](https://ex.com) and', 'see [docs](https://ex.com) and'],
  ['an image being typed is held back', 'pic ![alt](https://ex', 'pic '],
  ['an autolink before its > is held back', 'go <https://ex', 'go '],
  ['an opening fence line is held back until its newline', 'Code:\n\n```pyt', 'Code:\n\n'],
  ['a closing fence being typed is held back', '```js\nx\n``', '```js\nx\n'],
  ['inside an open fence nothing is completed', '```js\nconst a = "**', '```js\nconst a = "**'],
  ['a possible setext underline is held back', 'Title\n-', 'Title\n'],
  ['a list marker without text is held back', 'para\n- ', 'para\n'],
  ['a task box without text is held back', '- [x] ', ''],
  ['a heading marker without its space is held back', 'para\n\n##', 'para\n\n'],
  ['a table header alone is held back', 'Intro\n\n| a | b |', 'Intro\n\n'],
  ['a table header with its delimiter row being typed is held back', 'Intro\n\n| a | b |\n|---|', 'Intro\n\n'],
  ['a delimiter row with every cell begun already makes the table', '| a | b |\n|---|--', '| a | b |\n|---|--'],
  ['a table header with a complete delimiter row shows', '| a | b |\n|---|---|', '| a | b |\n|---|---|'],
  ['a body row being typed stays', '| a | b |\n|---|---|\n| 1 | **2', '| a | b |\n|---|---|\n| 1 | **2**'],
  ['emphasis across the soft breaks of one paragraph', '**bold\nstill', '**bold\nstill**'],
  ['emphasis in a list item', '- item **bo', '- item **bo**'],
];

describe('completeOpenMarkdown', () => {
  for (const [name, input, expected] of CASES) {
    test(`${name}: ${JSON.stringify(input)}`, () => {
      assert.equal(completeOpenMarkdown(input), expected);
    });
  }

  test('complete text is returned unchanged', () => {
    const text = '# T\n\nSome **bold**, `code`, [a](https://a.b) and ~~x~~.\n\n- one\n- two\n';
    assert.equal(completeOpenMarkdown(text), text);
  });
});
