/**
 * SseParser against the WHATWG event stream interpretation. Every stream is fed whole, split at every
 * index and split into three pieces at seeded random points, and must parse the same way each time.
 * Expected results are the ones the HTML standard states for its examples, or follow from its rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SseParser, type SseMessage } from '../src/sse-parser.ts';
import { createSeededRandom, testSeed } from './support/seeded-random.ts';
import { assertParsesAtEverySplit, parsePieces, type ParseRecord } from './support/sse-collect.ts';

const random = createSeededRandom(testSeed(0x55e_0001));

const message = (data: string, extra: Partial<SseMessage> = {}): SseMessage => ({ event: 'message', data, id: '', ...extra });
const only = (messages: SseMessage[], rest: Partial<ParseRecord> = {}): ParseRecord => ({
  messages,
  comments: [],
  retries: [],
  ...rest,
});

describe('examples from the HTML standard', () => {
  test('parser handles the comment, id and leading-space example at every split', () => {
    const stream = ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n';
    assertParsesAtEverySplit(
      stream,
      only([message('first event', { id: '1' }), message('second event'), message(' third event')], {
        comments: ['test stream'],
      }),
      random,
    );
  });

  test('parser dispatches empty and newline-only data and discards the unterminated last block', () => {
    assertParsesAtEverySplit('data\n\ndata\ndata\n\ndata:', only([message(''), message('\n')]), random);
  });

  test('parser removes exactly one space after the colon', () => {
    assertParsesAtEverySplit('data:test\n\ndata: test\n\ndata:  test\n\n', only([message('test'), message('test'), message(' test')]), random);
  });

  test('parser gives each event the type its event field named', () => {
    const stream = 'event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n';
    assertParsesAtEverySplit(
      stream,
      only([
        message('73857293', { event: 'add' }),
        message('2153', { event: 'remove' }),
        message('113411', { event: 'add' }),
      ]),
      random,
    );
  });

  test('parser joins several data lines with LF (the stock ticker example)', () => {
    assertParsesAtEverySplit('data: YHOO\ndata: +2\ndata: 10\n\n', only([message('YHOO\n+2\n10')]), random);
  });
});

describe('line endings', () => {
  const expected = only([message('a\nb', { event: 'x', id: '1' }), message('c', { id: '1' })]);
  const lines = ['event: x', 'data: a', 'id: 1', 'data: b', '', 'data: c', '', ''];

  for (const [name, ending] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ] as const) {
    test(`parser ends lines at ${name} at every split`, () => {
      assertParsesAtEverySplit(lines.join(ending), expected, random);
    });
  }

  test('parser accepts a mix of CR, LF and CRLF in one stream', () => {
    assertParsesAtEverySplit('event: x\rdata: a\r\nid: 1\ndata: b\r\r\ndata: c\n\r', expected, random);
  });

  test('parser treats a CR ending one feed and an LF starting the next as one line ending', () => {
    const record = parsePieces(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    assert.deepEqual(record.messages, [message('a\nb')]);
  });

  test('parser treats CR then CR across feeds as two line endings, which dispatch', () => {
    assert.deepEqual(parsePieces(['data: a\r', '\r']).messages, [message('a')]);
  });

  test('parser does not swallow an LF after a CR once other text came between them', () => {
    assert.deepEqual(parsePieces(['data: a\r', 'data: b', '\n', '\n']).messages, [message('a\nb')]);
  });

  test('parser keeps a pending CR across an empty feed', () => {
    assert.deepEqual(parsePieces(['data: a\r', '', '\n', '\n']).messages, [message('a')]);
  });
});

describe('fields', () => {
  test('parser reads a line without a colon as a field with an empty value', () => {
    assertParsesAtEverySplit('data\ndata\n\nevent\ndata: x\n\n', only([message('\n'), message('x')]), random);
  });

  test('parser reads data without a space after the colon', () => {
    assertParsesAtEverySplit('data:compact\n\n', only([message('compact')]), random);
  });

  test('parser keeps colons after the first one in the value', () => {
    assertParsesAtEverySplit('data: a:b\ndata::c\n\n', only([message('a:b\n:c')]), random);
  });

  test('parser ignores unknown fields and field names in another case', () => {
    assertParsesAtEverySplit('foo: bar\nData: no\ndata: yes\nDATA: no\n\n', only([message('yes')]), random);
  });

  test('parser passes NUL characters in data through', () => {
    assertParsesAtEverySplit('data: a\0b\n\n', only([message('a\0b')]), random);
  });

  test('parser resets the event type after dispatch', () => {
    assertParsesAtEverySplit('event: delta\ndata: 1\n\ndata: 2\n\n', only([message('1', { event: 'delta' }), message('2')]), random);
  });

  test('parser uses message as the type when the event field is empty', () => {
    assertParsesAtEverySplit('event:\ndata: 1\n\n', only([message('1')]), random);
  });
});

describe('empty events', () => {
  test('parser does not dispatch an event without data, and resets its type', () => {
    assertParsesAtEverySplit('event: x\n\n\n\ndata: y\n\n', only([message('y')]), random);
  });

  test('parser still records the id of an event without data', () => {
    assertParsesAtEverySplit('id: 3\nevent: x\n\ndata: y\n\n', only([message('y', { id: '3' })]), random);
  });
});

describe('last event id', () => {
  test('parser keeps the last event id for following events until another id line', () => {
    assertParsesAtEverySplit(
      'id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\nid\ndata: d\n\n',
      only([message('a', { id: '7' }), message('b', { id: '7' }), message('c', { id: '8' }), message('d')]),
      random,
    );
  });

  test('parser ignores an id containing NULL', () => {
    assertParsesAtEverySplit('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n', only([message('a', { id: '1' }), message('b', { id: '1' })]), random);
  });
});

describe('retry', () => {
  test('parser reports a retry of ASCII digits at once and puts it on its event', () => {
    assertParsesAtEverySplit(
      'retry: 1500\ndata: a\n\ndata: b\n\nretry:0\n\n',
      only([message('a', { retry: 1500 }), message('b')], { retries: [1500, 0] }),
      random,
    );
  });

  test('parser ignores a retry that is not only ASCII digits', () => {
    const stream = ['15a0', '-1', '1.5', '', ' 100', '1e3', '١٢', '+7'].map((value) => `retry: ${value}\n`).join('') + 'data: x\n\n';
    assertParsesAtEverySplit(stream, only([message('x')]), random, 20);
  });
});

describe('comments', () => {
  test('parser reports comments without the colon and one leading space', () => {
    assertParsesAtEverySplit(': ping\n:\n:x\n:  two spaces\n\n', only([], { comments: ['ping', '', 'x', ' two spaces'] }), random);
  });

  test('parser reports comments between data lines without touching the event', () => {
    assertParsesAtEverySplit('data: a\n: keep-alive\ndata: b\n\n', only([message('a\nb')], { comments: ['keep-alive'] }), random);
  });
});

describe('byte order mark', () => {
  test('parser ignores one U+FEFF at the start of the stream', () => {
    assertParsesAtEverySplit('\uFEFFdata: a\n\n', only([message('a')]), random);
  });

  test('parser ignores a leading U+FEFF fed on its own', () => {
    assert.deepEqual(parsePieces(['', '\uFEFF', 'data: a\n\n']).messages, [message('a')]);
  });

  test('parser treats a second leading U+FEFF as part of the first field name', () => {
    assertParsesAtEverySplit('\uFEFF\uFEFFdata: a\n\ndata: b\n\n', only([message('b')]), random);
  });

  test('parser does not ignore a U+FEFF later in the stream', () => {
    assertParsesAtEverySplit('data: a\n\n\uFEFFdata: b\n\ndata: \uFEFFc\n\n', only([message('a'), message('\uFEFFc')]), random);
  });
});

describe('end of stream and reset', () => {
  test('parser discards an event not closed by an empty line when the stream ends', () => {
    assertParsesAtEverySplit('data: a\n\ndata: b\n', only([message('a')]), random);
    assertParsesAtEverySplit('data: a\n\ndata: b', only([message('a')]), random);
  });

  test('parser starts a new stream after end(): no carried line, id, event type or BOM state', () => {
    const messages: SseMessage[] = [];
    const parser = new SseParser((received) => messages.push(received));
    parser.feed('\uFEFFid: 5\ndata: a\n\nevent: x\ndata: half');
    parser.end();
    parser.feed('\uFEFFdata: b\n\n');
    assert.deepEqual(messages, [message('a', { id: '5' }), message('b')]);
  });

  test('parser forgets a pending CR on reset, so a leading LF of the next stream ends an empty line', () => {
    const messages: SseMessage[] = [];
    const parser = new SseParser((received) => messages.push(received));
    parser.feed('data: a\r');
    parser.reset();
    parser.feed('data: b\n');
    parser.feed('\n');
    assert.deepEqual(messages, [message('b')]);
  });

  test('parser stops working on a piece when a callback resets it', () => {
    const messages: SseMessage[] = [];
    const parser = new SseParser((received) => {
      messages.push(received);
      if (received.event === 'done') parser.reset();
    });
    parser.feed('event: done\ndata: {}\n\ndata: late\n\n');
    parser.feed('data: next\n\n');
    assert.deepEqual(messages, [message('{}', { event: 'done' }), message('next')]);
  });
});

describe('large input', () => {
  test('parser assembles a 1 MB data line fed one character at a time', () => {
    const payload = 'x'.repeat(1_000_000);
    const messages: SseMessage[] = [];
    const parser = new SseParser((received) => messages.push(received));
    for (const char of `data: ${payload}\n\n`) parser.feed(char);
    assert.equal(messages.length, 1);
    assert.ok(messages[0]!.data === payload);
  });

  test('parser parses 20,000 events fed in one piece', () => {
    let stream = '';
    for (let index = 1; index <= 20_000; index++) stream += `id: ${index}\nevent: delta\ndata: ${index}\n\n`;
    const { messages } = parsePieces([stream]);
    assert.equal(messages.length, 20_000);
    assert.deepEqual(messages[19_999], message('20000', { event: 'delta', id: '20000' }));
  });
});
