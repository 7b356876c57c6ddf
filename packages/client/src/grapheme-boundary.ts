/**
 * Where a growing text may be cut for display without splitting what a reader sees as one character.
 *
 * Contract: `safeBoundary(text, index)` returns the largest position ≤ `index` that is an extended
 * grapheme cluster boundary of `text` per Unicode UAX #29 (Unicode 17.0): it never splits a surrogate
 * pair, an emoji ZWJ sequence (👨‍👩‍👧‍👦), a skin-tone modifier, a variation selector (U+FE0F), a keycap
 * (1️⃣), a regional-indicator flag pair (🇨🇳), a tag sequence (🏴󠁧󠁢󠁥󠁮󠁧󠁿), a base and its combining
 * or spacing marks, CR LF, a Hangul syllable in jamo, or an Indic conjunct (क्ष). The end of the text is
 * always a valid cut: the text may still grow, and a joiner that has not arrived cannot be waited for
 * forever — but a joiner, modifier, selector or mark already in `text` is never left on the hidden side.
 *
 * Why hand-written: `Intl.Segmenter` is missing on many WeChat devices and `\p{…}` regexes on old
 * JSCore, so the Grapheme_Cluster_Break and Indic_Conjunct_Break properties live in one compact range
 * table below (derived from the Unicode 17.0 data; the tests check it against the runtime's
 * `Intl.Segmenter` over every code point of planes 0, 1 and 14). ASCII, CJK ideographs and Hangul
 * syllables never touch the table. A cut is found by stepping back from `index` one code unit at a time
 * until the rules allow a break; only the rules that need context (flags, ZWJ emoji, conjuncts) look
 * further back, and only over the run of code points they depend on.
 */

/** The Unicode version whose data the table below encodes. */
export const GRAPHEME_UNICODE_VERSION = '17.0';

// Break classes. Plain numbers, not an enum: the module must stay erasable TypeScript.
const OTHER = 0;
const CR = 1;
const LF = 2;
const CONTROL = 3;
const EXTEND = 4;
const ZWJ = 5;
const REGIONAL = 6;
const PREPEND = 7;
const SPACING_MARK = 8;
const HANGUL_L = 9;
const HANGUL_V = 10;
const HANGUL_T = 11;
const HANGUL_LV = 12;
const HANGUL_LVT = 13;
/** Extended_Pictographic (its Grapheme_Cluster_Break is Other; GB11 needs it told apart). */
const PICTOGRAPHIC = 14;
/** Indic_Conjunct_Break=Consonant (Grapheme_Cluster_Break Other). */
const CONSONANT = 15;
/** Indic_Conjunct_Break=Linker: a virama; Grapheme_Cluster_Break Extend. */
const LINKER = 16;

type BreakClass = number;

const ZWNJ_UNIT = 0x200c;

/*
 * Code point ranges with a class other than OTHER, outside the ranges `classify` handles in code (CR,
 * LF, ZWJ, regional indicators, Hangul and the Kirat Rai vowels of class V). Each entry is a class letter, a hex start and an optional
 * `-end`: C control, E extend, S spacing mark, R prepend, P extended pictographic, K conjunct
 * consonant, V conjunct linker. Sorted, non-overlapping.
 */
const TABLE =
  'C0-9Cb-cCe-1fC7f-9fPa9CadPaeE300-36fE483-489E591-5bdE5bfE5c1-5c2E5c4-5c5E5c7R600-605E610-61aC61cE64b-65f' +
  'E670E6d6-6dcR6ddE6df-6e4E6e7-6e8E6ea-6edR70fE711E730-74aE7a6-7b0E7eb-7f3E7fdE816-819E81b-823E825-827' +
  'E829-82dE859-85bR890-891E897-89fE8ca-8e1R8e2E8e3-902S903K915-939E93aS93bE93cS93e-940E941-948S949-94cV94d' +
  'S94e-94fE951-957K958-95fE962-963K978-97fE981S982-983K995-9a8K9aa-9b0K9b2K9b6-9b9E9bcE9beS9bf-9c0E9c1-9c4' +
  'S9c7-9c8S9cb-9ccV9cdE9d7K9dc-9ddK9dfE9e2-9e3K9f0-9f1E9feEa01-a02Sa03Ea3cSa3e-a40Ea41-a42Ea47-a48Ea4b-a4d' +
  'Ea51Ea70-a71Ea75Ea81-a82Sa83Ka95-aa8Kaaa-ab0Kab2-ab3Kab5-ab9EabcSabe-ac0Eac1-ac5Eac7-ac8Sac9Sacb-accVacd' +
  'Eae2-ae3Kaf9Eafa-affEb01Sb02-b03Kb15-b28Kb2a-b30Kb32-b33Kb35-b39Eb3cEb3e-b3fSb40Eb41-b44Sb47-b48Sb4b-b4c' +
  'Vb4dEb55-b57Kb5c-b5dKb5fEb62-b63Kb71Eb82EbbeSbbfEbc0Sbc1-bc2Sbc6-bc8Sbca-bccEbcdEbd7Ec00Sc01-c03Ec04' +
  'Kc15-c28Kc2a-c39Ec3cEc3e-c40Sc41-c44Ec46-c48Ec4a-c4cVc4dEc55-c56Kc58-c5aEc62-c63Ec81Sc82-c83EcbcScbe' +
  'Ecbf-cc0Scc1Ecc2Scc3-cc4Ecc6-cc8Ecca-ccdEcd5-cd6Ece2-ce3Scf3Ed00-d01Sd02-d03Kd15-d3aEd3b-d3cEd3eSd3f-d40' +
  'Ed41-d44Sd46-d48Sd4a-d4cVd4dRd4eEd57Ed62-d63Ed81Sd82-d83EdcaEdcfSdd0-dd1Edd2-dd4Edd6Sdd8-ddeEddfSdf2-df3' +
  'Ee31Se33Ee34-e3aEe47-e4eEeb1Seb3Eeb4-ebcEec8-eceEf18-f19Ef35Ef37Ef39Sf3e-f3fEf71-f7eSf7fEf80-f84Ef86-f87' +
  'Ef8d-f97Ef99-fbcEfc6K1000-102aE102d-1030S1031E1032-1037V1039E103aS103b-103cE103d-103eK103fK1050-1055' +
  'S1056-1057E1058-1059K105a-105dE105e-1060K1061K1065-1066K106e-1070E1071-1074K1075-1081E1082S1084' +
  'E1085-1086E108dK108eE109dE135d-135fE1712-1715E1732-1734E1752-1753E1772-1773K1780-17b3E17b4-17b5S17b6' +
  'E17b7-17bdS17be-17c5E17c6S17c7-17c8E17c9-17d1V17d2E17d3E17ddE180b-180dC180eE180fE1885-1886E18a9' +
  'E1920-1922S1923-1926E1927-1928S1929-192bS1930-1931E1932S1933-1938E1939-193bE1a17-1a18S1a19-1a1aE1a1b' +
  'K1a20-1a54S1a55E1a56S1a57E1a58-1a5eV1a60E1a62E1a65-1a6cS1a6d-1a72E1a73-1a7cE1a7fE1ab0-1addE1ae0-1aeb' +
  'E1b00-1b03S1b04K1b0b-1b0cK1b13-1b33E1b34-1b3dS1b3e-1b41E1b42-1b43V1b44K1b45-1b4cE1b6b-1b73E1b80-1b81' +
  'S1b82K1b83-1ba0S1ba1E1ba2-1ba5S1ba6-1ba7E1ba8-1baaV1babE1bac-1badK1bae-1bafK1bbb-1bbdE1be6S1be7' +
  'E1be8-1be9S1bea-1becE1bedS1beeE1bef-1bf3S1c24-1c2bE1c2c-1c33S1c34-1c35E1c36-1c37E1cd0-1cd2E1cd4-1ce0' +
  'S1ce1E1ce2-1ce8E1cedE1cf4S1cf7E1cf8-1cf9E1dc0-1dffC200bE200cC200e-200fC2028-202eP203cP2049C2060-206f' +
  'E20d0-20f0P2122P2139P2194-2199P21a9-21aaP231a-231bP2328P23cfP23e9-23f3P23f8-23faP24c2P25aa-25abP25b6' +
  'P25c0P25fb-25feP2600-2604P260eP2611P2614-2615P2618P261dP2620P2622-2623P2626P262aP262e-262fP2638-263a' +
  'P2640P2642P2648-2653P265f-2660P2663P2665-2666P2668P267bP267e-267fP2692-2697P2699P269b-269cP26a0-26a1' +
  'P26a7P26aa-26abP26b0-26b1P26bd-26beP26c4-26c5P26c8P26ce-26cfP26d1P26d3-26d4P26e9-26eaP26f0-26f5' +
  'P26f7-26faP26fdP2702P2705P2708-270dP270fP2712P2714P2716P271dP2721P2728P2733-2734P2744P2747P274cP274e' +
  'P2753-2755P2757P2763-2764P2795-2797P27a1P27b0P27bfP2934-2935P2b05-2b07P2b1b-2b1cP2b50P2b55E2cef-2cf1' +
  'E2d7fE2de0-2dffE302a-302fP3030P303dE3099-309aP3297P3299Ea66f-a672Ea674-a67dEa69e-a69fEa6f0-a6f1Ea802' +
  'Ea806Ea80bSa823-a824Ea825-a826Sa827Ea82cSa880-a881Sa8b4-a8c3Ea8c4-a8c5Ea8e0-a8f1Ea8ffEa926-a92d' +
  'Ea947-a951Sa952Ea953Ea980-a982Sa983Ka989-a98bKa98f-a9b2Ea9b3Sa9b4-a9b5Ea9b6-a9b9Sa9ba-a9bbEa9bc-a9bd' +
  'Sa9be-a9bfVa9c0Ka9e0-a9e4Ea9e5Ka9e7-a9efKa9fa-a9feEaa29-aa2eSaa2f-aa30Eaa31-aa32Saa33-aa34Eaa35-aa36' +
  'Eaa43Eaa4cSaa4dKaa60-aa6fKaa71-aa73Kaa7aEaa7cKaa7e-aa7fEaab0Eaab2-aab4Eaab7-aab8Eaabe-aabfEaac1' +
  'Kaae0-aaeaSaaebEaaec-aaedSaaee-aaefSaaf5Vaaf6Kabc0-abdaSabe3-abe4Eabe5Sabe6-abe7Eabe8Sabe9-abeaSabec' +
  'EabedEfb1eEfe00-fe0fEfe20-fe2fCfeffEff9e-ff9fCfff0-fffbE101fdE102e0E10376-1037aK10a00E10a01-10a03' +
  'E10a05-10a06E10a0c-10a0fK10a10-10a13K10a15-10a17K10a19-10a35E10a38-10a3aV10a3fE10ae5-10ae6E10d24-10d27' +
  'E10d69-10d6dE10eab-10eacE10efa-10effE10f46-10f50E10f82-10f85S11000E11001S11002E11038-11046E11070' +
  'E11073-11074E1107f-11081S11082S110b0-110b2E110b3-110b6S110b7-110b8E110b9-110baR110bdE110c2R110cd' +
  'E11100-11102K11103-11126E11127-1112bS1112cE1112d-11132V11133E11134K11144S11145-11146K11147E11173' +
  'E11180-11181S11182S111b3-111b5E111b6-111beS111bfE111c0R111c2-111c3E111c9-111ccS111ceE111cfS1122c-1122e' +
  'E1122f-11231S11232-11233E11234-11237E1123eE11241E112dfS112e0-112e2E112e3-112eaE11300-11301S11302-11303' +
  'E1133b-1133cE1133eS1133fE11340S11341-11344S11347-11348S1134b-1134cE1134dE11357S11362-11363E11366-1136c' +
  'E11370-11374K11380-11389K1138bK1138eK11390-113b5E113b8S113b9-113baE113bb-113c0E113c2E113c5E113c7-113c9' +
  'S113caS113cc-113cdE113ce-113cfV113d0R113d1E113d2E113e1-113e2S11435-11437E11438-1143fS11440-11441' +
  'E11442-11444S11445E11446E1145eE114b0S114b1-114b2E114b3-114b8S114b9E114baS114bb-114bcE114bdS114be' +
  'E114bf-114c0S114c1E114c2-114c3E115afS115b0-115b1E115b2-115b5S115b8-115bbE115bc-115bdS115beE115bf-115c0' +
  'E115dc-115ddS11630-11632E11633-1163aS1163b-1163cE1163dS1163eE1163f-11640E116abS116acE116adS116ae-116af' +
  'E116b0-116b7E1171dS1171eE1171fE11722-11725S11726E11727-1172bS1182c-1182eE1182f-11837S11838E11839-1183a' +
  'K11900-11906K11909K1190c-11913K11915-11916K11918-1192fE11930S11931-11935S11937-11938E1193b-1193dV1193e' +
  'R1193fS11940R11941S11942E11943S119d1-119d3E119d4-119d7E119da-119dbS119dc-119dfE119e0S119e4K11a00' +
  'E11a01-11a0aK11a0b-11a32E11a33-11a38S11a39E11a3b-11a3eV11a47K11a50E11a51-11a56S11a57-11a58E11a59-11a5b' +
  'K11a5c-11a83R11a84-11a89E11a8a-11a96S11a97E11a98V11a99E11b60S11b61E11b62-11b64S11b65E11b66S11b67S11c2f' +
  'E11c30-11c36E11c38-11c3dS11c3eE11c3fE11c92-11ca7S11ca9E11caa-11cb0S11cb1E11cb2-11cb3S11cb4E11cb5-11cb6' +
  'E11d31-11d36E11d3aE11d3c-11d3dE11d3f-11d45R11d46E11d47S11d8a-11d8eE11d90-11d91S11d93-11d94E11d95S11d96' +
  'E11d97E11ef3-11ef4S11ef5-11ef6E11f00-11f01R11f02S11f03K11f04-11f10K11f12-11f33S11f34-11f35E11f36-11f3a' +
  'S11f3e-11f3fE11f40-11f41V11f42E11f5aC13430-1343fE13440E13447-13455E1611e-16129S1612a-1612cE1612d-1612f' +
  'E16af0-16af4E16b30-16b36E16f4fS16f51-16f87E16f8f-16f92E16fe4E16ff0-16ff1E1bc9d-1bc9eC1bca0-1bca3' +
  'E1cf00-1cf2dE1cf30-1cf46E1d165-1d169E1d16d-1d172C1d173-1d17aE1d17b-1d182E1d185-1d18bE1d1aa-1d1ad' +
  'E1d242-1d244E1da00-1da36E1da3b-1da6cE1da75E1da84E1da9b-1da9fE1daa1-1daafE1e000-1e006E1e008-1e018' +
  'E1e01b-1e021E1e023-1e024E1e026-1e02aE1e08fE1e130-1e136E1e2aeE1e2ec-1e2efE1e4ec-1e4efE1e5ee-1e5efE1e6e3' +
  'E1e6e6E1e6ee-1e6efE1e6f5E1e8d0-1e8d6E1e944-1e94aP1f004P1f02c-1f02fP1f094-1f09fP1f0af-1f0b0P1f0c0' +
  'P1f0cf-1f0d0P1f0f6-1f0ffP1f170-1f171P1f17e-1f17fP1f18eP1f191-1f19aP1f1ae-1f1e5P1f201-1f20fP1f21aP1f22f' +
  'P1f232-1f23aP1f23c-1f23fP1f249-1f25fP1f266-1f321P1f324-1f393P1f396-1f397P1f399-1f39bP1f39e-1f3f0' +
  'P1f3f3-1f3f5P1f3f7-1f3faE1f3fb-1f3ffP1f400-1f4fdP1f4ff-1f53dP1f549-1f54eP1f550-1f567P1f56f-1f570' +
  'P1f573-1f57aP1f587P1f58a-1f58dP1f590P1f595-1f596P1f5a4-1f5a5P1f5a8P1f5b1-1f5b2P1f5bcP1f5c2-1f5c4' +
  'P1f5d1-1f5d3P1f5dc-1f5deP1f5e1P1f5e3P1f5e8P1f5efP1f5f3P1f5fa-1f64fP1f680-1f6c5P1f6cb-1f6d2P1f6d5-1f6e5' +
  'P1f6e9P1f6eb-1f6f0P1f6f3-1f6ffP1f7da-1f7ffP1f80c-1f80fP1f848-1f84fP1f85a-1f85fP1f888-1f88fP1f8ae-1f8af' +
  'P1f8bc-1f8bfP1f8c2-1f8cfP1f8d9-1f8ffP1f90c-1f93aP1f93c-1f945P1f947-1f9ffP1fa58-1fa5fP1fa6e-1faff' +
  'P1fc00-1fffdCe0000-e001fEe0020-e007fCe0080-e00ffEe0100-e01efCe01f0-e0fff';

const LETTER_CLASS: Record<string, BreakClass> = {
  C: CONTROL,
  E: EXTEND,
  S: SPACING_MARK,
  R: PREPEND,
  P: PICTOGRAPHIC,
  K: CONSONANT,
  V: LINKER,
};

interface RangeTable {
  starts: Uint32Array;
  ends: Uint32Array;
  classes: Uint8Array;
}

function parseTable(encoded: string): RangeTable {
  const count = encoded.replace(/[^A-Z]/g, '').length;
  const table: RangeTable = { starts: new Uint32Array(count), ends: new Uint32Array(count), classes: new Uint8Array(count) };
  let at = 0;
  for (let n = 0; n < count; n++) {
    const cls = LETTER_CLASS[encoded.charAt(at)];
    if (cls === undefined) throw new Error(`grapheme table: bad class at ${at}`);
    at++;
    let end = at;
    while (end < encoded.length && isHexOrDash(encoded.charCodeAt(end))) end++;
    const [first = '', last] = encoded.slice(at, end).split('-');
    const start = parseInt(first, 16);
    table.starts[n] = start;
    table.ends[n] = last === undefined ? start : parseInt(last, 16);
    table.classes[n] = cls;
    at = end;
  }
  return table;
}

function isHexOrDash(unit: number): boolean {
  return (unit >= 0x30 && unit <= 0x39) || (unit >= 0x61 && unit <= 0x66) || unit === 0x2d;
}

const RANGES = parseTable(TABLE);

function lookup(cp: number): BreakClass {
  const { starts, ends, classes } = RANGES;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (cp < (starts[mid] as number)) hi = mid - 1;
    else if (cp > (ends[mid] as number)) lo = mid + 1;
    else return classes[mid] as BreakClass;
  }
  return OTHER;
}

function classify(cp: number): BreakClass {
  if (cp < 0x7f) {
    if (cp >= 0x20) return OTHER;
    return cp === 0x0d ? CR : cp === 0x0a ? LF : CONTROL;
  }
  // Fast paths for the bulk of Chinese text: CJK ideographs and Hangul syllables.
  if (cp >= 0x4e00 && cp <= 0x9fff) return OTHER;
  if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 === 0 ? HANGUL_LV : HANGUL_LVT;
  if (cp === 0x200d) return ZWJ;
  // A lone surrogate cannot combine with anything (ICU treats it as Control too).
  if (cp >= 0xd800 && cp <= 0xdfff) return CONTROL;
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return REGIONAL;
  if (cp >= 0x1100 && cp <= 0x11ff) return cp <= 0x115f ? HANGUL_L : cp <= 0x11a7 ? HANGUL_V : HANGUL_T;
  if (cp >= 0xa960 && cp <= 0xa97c) return HANGUL_L;
  if (cp >= 0xd7b0 && cp <= 0xd7c6) return HANGUL_V;
  if (cp >= 0xd7cb && cp <= 0xd7fb) return HANGUL_T;
  // Kirat Rai vowel signs joined Grapheme_Cluster_Break=V in Unicode 16.
  if (cp === 0x16d63 || (cp >= 0x16d67 && cp <= 0x16d6a)) return HANGUL_V;
  return lookup(cp);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Start of the code point that ends at `end` (exclusive); `end` > 0. */
function codePointStartBefore(text: string, end: number): number {
  const start = end - 1;
  if (start > 0 && isLowSurrogate(text.charCodeAt(start)) && isHighSurrogate(text.charCodeAt(start - 1))) return start - 1;
  return start;
}

function classAt(text: string, index: number): BreakClass {
  return classify(text.codePointAt(index) as number);
}

function isExtendLike(cls: BreakClass): boolean {
  return cls === EXTEND || cls === LINKER;
}

/** GB11: is the ZWJ that ends at `zwjEnd` preceded by `\p{ExtPict} Extend*`? */
function followsPictographicRun(text: string, zwjEnd: number): boolean {
  let at = codePointStartBefore(text, zwjEnd);
  while (at > 0) {
    at = codePointStartBefore(text, at);
    const cls = classAt(text, at);
    if (cls === PICTOGRAPHIC) return true;
    if (!isExtendLike(cls)) return false;
  }
  return false;
}

/** GB12/13: does an odd number of regional indicators end at `end`? Then the next one closes a flag. */
function oddRegionalRunBefore(text: string, end: number): boolean {
  let count = 0;
  let at = end;
  while (at > 0) {
    const start = codePointStartBefore(text, at);
    if (classAt(text, start) !== REGIONAL) break;
    count++;
    at = start;
  }
  return count % 2 === 1;
}

/**
 * GB9c: does `Consonant [Extend Linker]* Linker [Extend Linker]*` end at `end`? The rule's Extend is
 * Indic_Conjunct_Break=Extend, which is every Grapheme_Cluster_Break Extend (and ZWJ) except ZWNJ:
 * ZWNJ is how a writer asks for the half form instead of the conjunct.
 */
function followsConjunctLinker(text: string, end: number): boolean {
  let sawLinker = false;
  let at = end;
  while (at > 0) {
    at = codePointStartBefore(text, at);
    const cls = classAt(text, at);
    if (cls === LINKER) sawLinker = true;
    else if (cls === CONSONANT) return sawLinker;
    else if ((cls !== EXTEND && cls !== ZWJ) || text.charCodeAt(at) === ZWNJ_UNIT) return false;
  }
  return false;
}

/** Whether `index` (0 < index < text.length) is an extended grapheme cluster boundary of `text`. */
function isBoundary(text: string, index: number): boolean {
  const nextUnit = text.charCodeAt(index);
  if (isLowSurrogate(nextUnit) && isHighSurrogate(text.charCodeAt(index - 1))) return false;
  const prevStart = codePointStartBefore(text, index);
  const prev = classAt(text, prevStart);
  const next = classAt(text, index);
  if (prev === CR && next === LF) return false; // GB3
  if (prev === CR || prev === LF || prev === CONTROL) return true; // GB4
  if (next === CR || next === LF || next === CONTROL) return true; // GB5
  if (prev === HANGUL_L && (next === HANGUL_L || next === HANGUL_V || next === HANGUL_LV || next === HANGUL_LVT)) return false; // GB6
  if ((prev === HANGUL_LV || prev === HANGUL_V) && (next === HANGUL_V || next === HANGUL_T)) return false; // GB7
  if ((prev === HANGUL_LVT || prev === HANGUL_T) && next === HANGUL_T) return false; // GB8
  if (next === EXTEND || next === LINKER || next === ZWJ) return false; // GB9
  if (next === SPACING_MARK) return false; // GB9a
  if (prev === PREPEND) return false; // GB9b
  if (next === CONSONANT && followsConjunctLinker(text, index)) return false; // GB9c
  if (prev === ZWJ && next === PICTOGRAPHIC && followsPictographicRun(text, index)) return false; // GB11
  if (prev === REGIONAL && next === REGIONAL && oddRegionalRunBefore(text, index)) return false; // GB12, GB13
  return true; // GB999
}

/**
 * The largest cut position ≤ `index` that does not split a user-perceived character of `text`.
 * `index` is clamped to [0, text.length]; fractional indexes round down.
 */
export function safeBoundary(text: string, index: number): number {
  if (!(index > 0)) return 0;
  if (index >= text.length) return text.length;
  let at = Math.floor(index);
  while (at > 0 && !isBoundary(text, at)) at--;
  return at;
}
