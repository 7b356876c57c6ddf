/**
 * Which code points are emoji or emoji glue, so speech can leave them out.
 *
 * Contract: `isUnspokenSymbol(codePoint)` is true for pictographs (Unicode's Extended_Pictographic
 * property: emoji, dingbats, ©, ®, ™ and the like) and for the invisible characters that only
 * exist to build emoji sequences — zero-width joiner, variation selectors, skin-tone modifiers,
 * regional-indicator letters (flags), the keycap mark and tag characters. A keycap such as `1️⃣`
 * therefore keeps its digit. TTS engines either skip these or read their names aloud ("grinning
 * face"), and neither belongs in a spoken reply.
 */

const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;

export function isUnspokenSymbol(codePoint: number): boolean {
  if (codePoint === 0x200d) return true; // zero-width joiner
  if (codePoint >= 0xfe00 && codePoint <= 0xfe0f) return true; // variation selectors (text/emoji style)
  if (codePoint === 0x20e3) return true; // combining enclosing keycap
  if (codePoint >= 0x1f3fb && codePoint <= 0x1f3ff) return true; // skin-tone modifiers
  if (codePoint >= 0x1f1e6 && codePoint <= 0x1f1ff) return true; // regional indicators (flags)
  if (codePoint >= 0xe0020 && codePoint <= 0xe007f) return true; // tag characters (subdivision flags)
  // Below U+00A9 nothing is pictographic; skipping the regex keeps plain text cheap.
  return codePoint >= 0xa9 && PICTOGRAPHIC.test(String.fromCodePoint(codePoint));
}
