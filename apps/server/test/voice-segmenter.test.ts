import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SpeakableText } from '../src/voice/speakable-text.ts';
import { SpeechSegmenter, speakableText, type SpeechSegmenterOptions } from '../src/voice/speech-segmenter.ts';

function segmentAll(markdown: string, options?: SpeechSegmenterOptions): string[] {
  const segmenter = new SpeechSegmenter(options);
  return [...segmenter.push(markdown), ...segmenter.flush()].map((segment) => segment.text);
}

function segmentDeltas(deltas: readonly string[], options?: SpeechSegmenterOptions): string[] {
  const segmenter = new SpeechSegmenter(options);
  const segments = deltas.flatMap((delta) => segmenter.push(delta));
  segments.push(...segmenter.flush());
  segments.forEach((segment, position) => assert.equal(segment.index, position));
  return segments.map((segment) => segment.text);
}

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  // Text: Chinese, English, numbers, abbreviations.
  '你', '好', '天气', '我们', '语音', 'a', 'Hello', 'world', 'the', 'x', '3.14', '1,000', '2024', 'e.g.', 'Mr.', 'U.S.', 'etc.',
  // Sentence ends, ellipses, commas, closers.
  '。', '！', '？', '；', '…', '……', '...', '.', '!', '?', ',', '，', '、', '：',
  '”', '“', '」', '「', '）', '（', '"', "'", ')', '(',
  // Whitespace.
  ' ', ' ', ' ', '  ', '\t', '\u3000', '\n', '\n', '\n\n', '\r\n',
  // Markdown.
  '```', '```js\n', '~~~\n', '`', '``', '**', '*', '_', '~~', '~', '[', ']', '](', '![', '#', '## ', '- ', '* ', '1. ', '> ', '|',
  '---', '- [x] ', '\\*', '\\', '<br>', '<b>', '</b>', '<', '>', 'https://a.b/c?d=1', 'www.x.cn', 'http', '!',
  // Emoji and other astral characters.
  '😀', '👍🏽', '👨‍👩‍👧', '🇨🇳', '1️⃣', '©', '𠀀',
];

function randomMarkdown(next: () => number, maxPieces: number): string {
  const count = Math.floor(next() * maxPieces);
  let text = '';
  for (let i = 0; i < count; i++) text += PIECES[Math.floor(next() * PIECES.length)];
  return text;
}

/** Splits anywhere, including between the halves of a surrogate pair and inside `\r\n`. */
function randomDeltas(next: () => number, text: string): string[] {
  const deltas: string[] = [];
  let at = 0;
  while (at < text.length) {
    const size = next() < 0.15 ? 0 : 1 + Math.floor(next() * 7);
    deltas.push(text.slice(at, at + size));
    at += size;
  }
  return deltas;
}

/**
 * The tiling property: the speakable text is exactly the segments in order, separated by nothing
 * or by one whitespace character (the one removed at the cut).
 */
function assertTiles(speakable: string, segments: readonly string[], context: string): void {
  let at = 0;
  for (const [position, segment] of segments.entries()) {
    if (position > 0 && /\s/.test(speakable.charAt(at))) at++;
    assert.equal(speakable.slice(at, at + segment.length), segment, `${context}: segment ${position} is not next in the speakable text`);
    at += segment.length;
  }
  assert.equal(at, speakable.length, `${context}: segments end before the speakable text does`);
}

function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

describe('speech segmenter properties (seeded random markdown)', () => {
  const optionSets: SpeechSegmenterOptions[] = [{}, { maxChars: 12, minChars: 3, firstCommaChars: 5 }, { maxChars: 8, minChars: 1 }];

  test('segments tile the speakable text, stay within the limits and come out the same however the reply is split', () => {
    for (let seed = 1; seed <= 800; seed++) {
      const next = random(seed);
      const markdown = randomMarkdown(next, 90);
      const options = optionSets[seed % optionSets.length] ?? {};
      const maxChars = options.maxChars ?? 150;
      const minChars = options.minChars ?? 6;
      const context = `seed ${seed} (${JSON.stringify(markdown)})`;

      const speakable = speakableText(markdown);
      const whole = segmentAll(markdown, options);
      const streamed = segmentDeltas(randomDeltas(next, markdown), options);

      assert.deepEqual(streamed, whole, `${context}: streamed segments differ`);
      assertTiles(speakable, whole, context);
      for (const [position, segment] of whole.entries()) {
        assert.ok(segment.length > 0 && segment.length <= maxChars, `${context}: segment ${position} has length ${segment.length}`);
        assert.equal(segment, segment.trim(), `${context}: segment ${position} is not trimmed`);
        assert.ok(!/[ \n]{2}|\t|\r/.test(segment), `${context}: segment ${position} has unnormalised whitespace`);
        assert.ok(!hasLoneSurrogate(segment), `${context}: segment ${position} splits a surrogate pair`);
        if (position < whole.length - 1) assert.ok(segment.length >= minChars, `${context}: segment ${position} is shorter than minChars`);
      }
    }
  });

  test('the speakable text of a reply is the same however the markdown is split', () => {
    for (let seed = 1000; seed < 1600; seed++) {
      const next = random(seed);
      const markdown = randomMarkdown(next, 90);
      const filter = new SpeakableText();
      let streamed = '';
      for (const delta of randomDeltas(next, markdown)) streamed += filter.push(delta);
      streamed += filter.end();
      assert.equal(streamed.replace(/\s+$/, ''), speakableText(markdown), `seed ${seed} (${JSON.stringify(markdown)})`);
    }
  });

  test('speakable text has normalised whitespace and no emoji, code or URLs', () => {
    for (let seed = 2000; seed < 2500; seed++) {
      const markdown = randomMarkdown(random(seed), 90);
      const speakable = speakableText(markdown);
      const context = `seed ${seed} (${JSON.stringify(markdown)})`;
      assert.equal(speakable, speakable.trim(), context);
      assert.ok(!/[ \n]{2}|\t|\r|\u3000/.test(speakable), `${context}: ${JSON.stringify(speakable)}`);
      assert.ok(!/\p{Extended_Pictographic}|\u200d|\ufe0f/u.test(speakable), `${context}: emoji in ${JSON.stringify(speakable)}`);
      assert.ok(!/https?:\/\/|(?<![A-Za-z0-9])www\./.test(speakable), `${context}: URL in ${JSON.stringify(speakable)}`);
      // Backticks open and close code; only an escaped one is text.
      if (!markdown.includes('\\`')) assert.ok(!speakable.includes('`'), `${context}: backtick in ${JSON.stringify(speakable)}`);
      assert.ok(!hasLoneSurrogate(speakable), context);
    }
  });
});

describe('speech segmenter sentence ends', () => {
  test('pendingEndsSentence is true after a Chinese sentence end and its closers, never after a full stop that may be a decimal point', () => {
    const cases: Array<[string, boolean]> = [
      ['这是一句话。', true],
      ['他说：“走吧！”', true],
      ['（完）…', true],
      ['还没说完', false],
      ['It is 3.', false],
      ['逗号之后，', false],
    ];
    for (const [text, expected] of cases) {
      const segmenter = new SpeechSegmenter({ minChars: 100, maxChars: 150, firstCommaChars: 100 });
      segmenter.push(text);
      assert.equal(segmenter.pendingEndsSentence, expected, text);
    }
  });

  test('Chinese sentences end at 。！？； and ellipses, with closing quotes kept', () => {
    assert.deepEqual(segmentAll('今天天气很好。我们去公园吧！你觉得怎么样？好的；那就这样……“他说：‘走吧。’”然后走了。'), [
      '今天天气很好。',
      '我们去公园吧！',
      '你觉得怎么样？',
      '好的；那就这样……',
      '“他说：‘走吧。’”',
      '然后走了。',
    ]);
  });

  test('English sentences end at .!? before whitespace, not in numbers, abbreviations or initials', () => {
    assert.deepEqual(segmentAll('Pi is about 3.14 today. See e.g. the U.S. data from Mr. Smith and J. K. Rowling! Really? Yes.'), [
      'Pi is about 3.14 today.',
      'See e.g. the U.S. data from Mr. Smith and J. K. Rowling!',
      'Really?',
      'Yes.',
    ]);
  });

  test('an English ellipsis before a space ends a sentence and one inside a word does not', () => {
    assert.deepEqual(segmentAll('Well... I am not sure...yet it works. "Done." Next one.'), [
      'Well...',
      'I am not sure...yet it works.',
      '"Done."',
      'Next one.',
    ]);
  });

  test('a line break ends a sentence and a short heading is merged into the next segment', () => {
    assert.deepEqual(segmentAll('## 步骤\n\n打开设置页面\n然后点击保存按钮。'), ['步骤\n打开设置页面', '然后点击保存按钮。']);
  });

  test('mixed Chinese and English text ends at either kind of terminator', () => {
    assert.deepEqual(segmentAll('我用 Python 3.12 写代码。It works fine! 版本是 v2.0，很稳定。'), [
      '我用 Python 3.12 写代码。',
      'It works fine!',
      '版本是 v2.0，很稳定。',
    ]);
  });

  test('the first segment may end at a comma once it is long enough, later ones may not', () => {
    assert.deepEqual(segmentAll('这是一个很有意思的问题，我们一步一步来看，先说结论。再说原因，最后总结。'), [
      '这是一个很有意思的问题，',
      '我们一步一步来看，先说结论。',
      '再说原因，最后总结。',
    ]);
    assert.deepEqual(segmentAll('好的，我来解释。'), ['好的，我来解释。']);
    assert.deepEqual(segmentAll('That is a great question, let me explain. 1,000 items.', { firstCommaChars: 10 }), [
      'That is a great question,',
      'let me explain.',
      '1,000 items.',
    ]);
  });

  test('a segment that reaches the maximum is cut at its last space or punctuation, else hard', () => {
    assert.deepEqual(segmentAll('one two three four five six', { maxChars: 12, minChars: 2 }), ['one two', 'three four', 'five six']);
    assert.deepEqual(segmentAll('一二三四五：六七八九十一二三四五六', { maxChars: 8, minChars: 2 }), ['一二三四五：', '六七八九十一二三', '四五六']);
    assert.deepEqual(segmentAll('abcdefghijklmnopqrst', { maxChars: 8, minChars: 2 }), ['abcdefgh', 'ijklmnop', 'qrst']);
  });

  test('a hard cut never splits a surrogate pair', () => {
    const segments = segmentAll('一二三四五六七𠀀八九十', { maxChars: 8, minChars: 1 });
    assert.deepEqual(segments, ['一二三四五六七', '𠀀八九十']);
  });

  test('the last sentence waits for flush because a closing quote may still follow', () => {
    const segmenter = new SpeechSegmenter();
    assert.deepEqual(segmenter.push('他说：“你好。'), []);
    assert.deepEqual(segmenter.push('”我们走吧。'), [{ index: 0, text: '他说：“你好。”' }]);
    assert.deepEqual(segmenter.flush(), [{ index: 1, text: '我们走吧。' }]);
    assert.deepEqual(segmenter.flush(), []);
    assert.throws(() => segmenter.push('more'), /push after flush/);
  });
});

describe('speech segmenter streaming behaviour', () => {
  test('an open code fence silences speech until it closes', () => {
    const segmenter = new SpeechSegmenter();
    assert.deepEqual(segmenter.push('先安装依赖。\n```bash\nnpm install. 这不是要读的句子。\n'), [{ index: 0, text: '先安装依赖。' }]);
    assert.deepEqual(segmenter.push('echo "still code."\n'), []);
    assert.deepEqual(segmenter.flushStalled(), []);
    assert.deepEqual(segmenter.push('```\n然后运行测试。接着看结果。'), [{ index: 1, text: '然后运行测试。' }]);
    assert.deepEqual(segmenter.flush(), [{ index: 2, text: '接着看结果。' }]);
  });

  test('a fence that never closes keeps everything after it silent', () => {
    assert.deepEqual(segmentAll('示例如下：\n~~~python\nprint("hi")\n说明文字。'), ['示例如下：']);
  });

  test('a stall flush speaks a half-finished Chinese sentence and a Latin one up to its last word', () => {
    const chinese = new SpeechSegmenter();
    assert.deepEqual(chinese.push('让我想一想这个问题'), []);
    assert.deepEqual(chinese.flushStalled(), [{ index: 0, text: '让我想一想这个问题' }]);
    assert.deepEqual(chinese.push('的答案。'), []);
    assert.deepEqual(chinese.flush(), [{ index: 1, text: '的答案。' }]);

    const english = new SpeechSegmenter();
    assert.deepEqual(english.push('Let me think about wha'), []);
    assert.deepEqual(english.flushStalled(), [{ index: 0, text: 'Let me think about' }]);
    assert.deepEqual(english.push('t you asked. Done'), [{ index: 1, text: 'what you asked.' }]);
    assert.deepEqual(english.flush(), [{ index: 2, text: 'Done' }]);
  });

  test('a stall flush releases nothing shorter than the minimum', () => {
    const segmenter = new SpeechSegmenter({ minChars: 4 });
    segmenter.push('好的');
    assert.deepEqual(segmenter.flushStalled(), []);
    assert.deepEqual(segmenter.flush(), [{ index: 0, text: '好的' }]);
  });

  test('a reply of only code, links and emoji has no segments', () => {
    assert.deepEqual(segmentAll('```\ncode\n```\n![logo](https://x.y/logo.png) 😀👍\nhttps://example.com'), []);
  });

  test('options outside their ranges are refused', () => {
    assert.throws(() => new SpeechSegmenter({ maxChars: 4 }), RangeError);
    assert.throws(() => new SpeechSegmenter({ maxChars: 20, minChars: 21 }), RangeError);
    assert.throws(() => new SpeechSegmenter({ minChars: 8, firstCommaChars: 4 }), RangeError);
  });
});

describe('speakable text', () => {
  test('markdown markup is not spoken and its text is', () => {
    assert.equal(
      speakableText('# 标题\n\n**粗体**和*斜体*和~~删除~~，> 不是引用\n> 引用\n- 列表\n* 星号\n+ 加号\n1. 有序\n2) 括号\n- [x] 完成\n- [ ] 待办'),
      '标题\n粗体和斜体和删除，> 不是引用\n引用\n列表\n星号\n加号\n有序\n括号\n完成\n待办',
    );
  });

  test('tables read their cells and drop delimiter rows; rules and setext underlines are dropped', () => {
    assert.equal(speakableText('| 名称 | 说明 |\n| :--- | ---: |\n| a | b |\n\n***\n标题\n===\n小标题\n---\n正文'), '名称 说明\na b\n标题\n小标题\n正文');
  });

  test('code blocks and inline code are not spoken', () => {
    assert.equal(speakableText('运行 `npm test` 即可，或者 ``a ` b``。\n```ts\nconst a = 1;\n```\n完成'), '运行 即可，或者 。\n完成');
    assert.equal(speakableText('单个 ` 反引号'), '单个 反引号');
    // A fence written straight after text is still code, across lines, until it closes.
    assert.equal(speakableText('例如：```js\nconst a = 1;\n```\n之后的话。'), '例如：\n之后的话。');
    // Unclosed by the end of the paragraph, the run is only a stray mark.
    assert.equal(speakableText('三个```反引号\n下一行\n\n新段落'), '三个反引号\n下一行\n新段落');
  });

  test('links read their text; images, targets, footnotes, HTML and URLs are left out', () => {
    assert.equal(
      speakableText('见[文档](https://x.com/a_(b))和[参考][1]脚注[^2]。![图](p.png)<br/>访问 https://example.com/path?q=1. 或 www.test.cn，<https://auto.link>。'),
      '见文档和参考脚注。 访问 . 或 ， 。',
    );
    assert.equal(speakableText('(see https://a.b/c) and a < b and a <b>bold</b> tag'), '(see ) and a < b and a bold tag');
    assert.equal(speakableText('访问https://example.com获取，awww.x'), '访问获取，awww.x');
  });

  test('emoji, their joiners, modifiers, flags and keycaps are not spoken; the keycap digit is', () => {
    assert.equal(speakableText('好😀的👍🏽，家庭👨‍👩‍👧旗🇨🇳键1️⃣版权©完'), '好的，家庭旗键1版权完');
  });

  test('escapes keep the escaped character and underscores inside words read as spaces', () => {
    assert.equal(speakableText('2\\*3 and snake_case and _emphasis_ and __strong__'), '2*3 and snake case and emphasis and strong');
  });

  test('whitespace is normalised: line breaks collapse to one, other runs to one space', () => {
    assert.equal(speakableText('  a \t b\u3000c  \n\n\n  d\r\ne  '), 'a b c\nd\ne');
  });
});
