/**
 * Code highlighting: text is never changed, the listed languages are known, and the open block's
 * highlighter stops re-tokenising lines it has already coloured.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { highlightCode, highlightLanguage, OpenCodeHighlighter, plainText } from '../src/index.ts';

const SAMPLES: Record<string, string> = {
  js: 'const a = `x${b}`; // c', ts: 'let n: number = 1;', python: 'def f():\n    return "s"', java: 'public class A {}',
  go: 'func main() { fmt.Println("hi") }', c: 'int main(void) { return 0; }', cpp: 'std::vector<int> v;', bash: 'echo "$HOME" | wc -l',
  shell: '$ npm install', json: '{"a": [1, true, null]}', sql: 'SELECT * FROM t WHERE id = 1;', html: '<div class="a">x</div>',
  xml: '<a b="c"/>', css: '.a { color: red; }', markdown: '# Title\n\n**bold**', diff: '- old\n+ new', sh: 'ls -la', py: 'import os',
};

describe('highlightCode', () => {
  test('every language chat answers use (and their common aliases) is known and coloured', () => {
    for (const [lang, code] of Object.entries(SAMPLES)) {
      assert.ok(highlightLanguage(lang), `${lang} is registered`);
      const nodes = highlightCode(code, lang);
      assert.equal(plainText(nodes), code, `${lang} keeps its text`);
      assert.ok(nodes.some((n) => !('type' in n)), `${lang} gets at least one coloured span`);
    }
  });

  test('an unknown language is plain text', () => {
    assert.equal(highlightLanguage('cobol-2077'), undefined);
    assert.deepEqual(highlightCode('x = 1', 'cobol-2077'), [{ type: 'text', text: 'x = 1' }]);
  });
});

describe('OpenCodeHighlighter', () => {
  const program = Array.from({ length: 400 }, (_, i) => `function f${i}(a, b) {\n  return a + b; // sum ${i}\n}\n`).join('');

  test('shows exactly the code at every length as the block grows', () => {
    const highlighter = new OpenCodeHighlighter();
    for (let end = 0; end <= 3000; end += 7) assert.equal(plainText(highlighter.render(program.slice(0, end), 'js')), program.slice(0, end));
  });

  test('a long block is highlighted from its last checkpoint only, and ends like the whole highlight', () => {
    const highlighter = new OpenCodeHighlighter();
    for (let end = 0; end <= program.length; end += 50) highlighter.render(program.slice(0, end), 'js');
    assert.ok(highlighter.checkpoint > program.length - 3000, `checkpoint ${highlighter.checkpoint} of ${program.length}`);
    assert.deepEqual(highlighter.render(program, 'js'), highlightCode(program, 'js'));
  });

  test('a different language or text that is not a continuation starts over', () => {
    const highlighter = new OpenCodeHighlighter();
    highlighter.render(program, 'js');
    assert.equal(plainText(highlighter.render('print(1)', 'python')), 'print(1)');
    assert.equal(highlighter.checkpoint, 0);
  });
});
