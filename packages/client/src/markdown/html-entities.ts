/**
 * Decodes the character references CommonMark text may hold (`&amp;`, `&#39;`, `&#x1F600;`, and the
 * named entities models actually write), because rich-text nodes carry plain text.
 *
 * Contract: numeric references decode to their code point (0, surrogates and values past U+10FFFF
 * become U+FFFD, as CommonMark says); the named ones in NAMED decode; any other `&name;` stays as
 * written (the full HTML table is 2,000 names — too much bundle for what chat answers use).
 */

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»',
  times: '×', divide: '÷', plusmn: '±', deg: '°', middot: '·', bull: '•', larr: '←', rarr: '→', uarr: '↑',
  darr: '↓', harr: '↔', le: '≤', ge: '≥', ne: '≠', asymp: '≈', infin: '∞', euro: '€', pound: '£', yen: '¥',
  cent: '¢', sect: '§', para: '¶', micro: 'µ', alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', pi: 'π',
  sigma: 'σ', lambda: 'λ', mu: 'μ', theta: 'θ', omega: 'ω', check: '✓', hearts: '♥', star: '☆',
};

const REFERENCE = /&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));/g;

function fromCodePoint(code: number): string {
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(code);
}

export function decodeEntities(text: string): string {
  if (text.indexOf('&') === -1) return text;
  return text.replace(REFERENCE, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (hex !== undefined) return fromCodePoint(parseInt(hex, 16));
    if (dec !== undefined) return fromCodePoint(parseInt(dec, 10));
    return (name !== undefined ? NAMED[name] : undefined) ?? whole;
  });
}
