/**
 * Hostile Markdown: the shapes issue #9 names (raw script, unsafe links, 10,000 nested quotes or list
 * levels, 100,000-character lines, unterminated fences) and the markup-dense lines that cost marked the
 * most. Shared by the hostile-input tests (markdown-render.test.ts) and the timing section of the
 * mini-program's Markdown bench (apps/miniprogram/bench/markdown.bench.ts), so both measure the same text.
 */

export interface HostileMarkdown {
  name: string;
  text: string;
}

export const HOSTILE_MARKDOWN: readonly HostileMarkdown[] = [
  { name: '10,000 nested block quotes', text: '>'.repeat(10_000) + ' deep' },
  { name: '10,000 nested block quotes with spaces', text: '> '.repeat(10_000) + 'deep' },
  { name: '10,000 nested list markers on one line', text: '- '.repeat(10_000) + 'deep' },
  { name: '300 list levels by indentation', text: Array.from({ length: 300 }, (_, i) => `${' '.repeat(i * 2)}- level ${i}`).join('\n') },
  { name: 'a 100,000-character line of text', text: 'a'.repeat(100_000) },
  { name: '*a repeated 50,000 times', text: '*a'.repeat(50_000) },
  { name: '_a_ repeated', text: '_a '.repeat(33_000) },
  { name: '100,000 opening brackets', text: '['.repeat(100_000) },
  { name: '[a]( repeated', text: '[a]('.repeat(25_000) },
  { name: 'backtick runs', text: '`a'.repeat(50_000) },
  { name: 'tildes', text: '~~a'.repeat(33_000) },
  { name: 'angle brackets', text: '<a'.repeat(50_000) },
  { name: '**a repeated 33,000 times', text: '**a'.repeat(33_000) },
  { name: '![ repeated 50,000 times', text: '!['.repeat(50_000) },
  { name: 'escaped stars', text: '\\*a'.repeat(33_000) },
  { name: 'bare www. links', text: 'www.a '.repeat(16_000) },
  { name: 'bare e-mail addresses', text: 'a@b.co '.repeat(14_000) },
  { name: '*a on 1,200 lines of one paragraph', text: `${'*a'.repeat(40)}\n`.repeat(1_200) },
  { name: 'nested brackets', text: '['.repeat(5_000) + 'x' + '](https://a.example)'.repeat(5_000) },
  { name: 'unterminated fence with 20,000 lines', text: '```js\n' + 'let x = "/*";\n'.repeat(20_000) },
  { name: 'unterminated fence of 1,000 highlighted lines', text: '```js\n' + 'let x = "/*"; // c\n'.repeat(1_000) },
  { name: 'a 100,000-character table row', text: '| a '.repeat(25_000) + '\n' + '|-'.repeat(25_000) + '\n' },
  { name: 'raw script everywhere', text: '<script>alert(1)</script>\n'.repeat(2_000) },
];
