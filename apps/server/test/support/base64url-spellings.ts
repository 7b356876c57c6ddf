/**
 * The other base64url spellings of the same bytes: when the encoded length leaves unused low bits
 * in the last character (a 32-byte HMAC → 43 characters, 2 spare bits), decoders ignore them, so
 * up to three other strings decode to the same bytes. For "a signature is one string" tests.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function otherSpellings(encoded: string): string[] {
  const spareBits = (encoded.length * 6) % 8;
  const last = ALPHABET.indexOf(encoded.at(-1) ?? '');
  const spellings: string[] = [];
  for (let low = 1; low < 1 << spareBits; low += 1) spellings.push(`${encoded.slice(0, -1)}${ALPHABET[last ^ low]}`);
  for (const spelling of spellings) {
    if (!Buffer.from(spelling, 'base64url').equals(Buffer.from(encoded, 'base64url'))) throw new Error(`${spelling} is not a spelling of ${encoded}`);
  }
  return spellings;
}
