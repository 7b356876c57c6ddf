/**
 * Which voice names a request may ask for (`voiceName`), per provider — checked before a reply
 * starts, so a name the provider does not offer is a clear 400 `invalid_voice` instead of a failed
 * (or crashed: espeak-ng segfaults on the voice "." or "..") synthesis for every segment.
 *
 * Contract: `offeredVoices(provider, options)` is the set of names, always including the provider's
 * default and the configured `VOICE_NAME`:
 * - espeak: `auto` plus every language name `espeak-ng --voices` lists (its Language column and the
 *   alternative names in its last column), read once at start — what `-v` accepts; nothing else
 *   ever reaches espeak-ng's command line as a voice.
 * - openai: OpenAI's documented speech voices when the speech provider is OpenAI itself; another
 *   OpenAI-compatible provider's voices are not known here, so only the configured ones.
 * - youdao: the configured voice (Youdao lists its voices in its console, per account).
 * `VOICE_NAMES` (comma-separated) adds names for any provider — the way to offer more Youdao or
 * other providers' voices. `parseEspeakVoices` is the pure parser of `--voices` output.
 */
import { spawnSync } from 'node:child_process';

/** What a voice name looks like: it goes to a provider and into cache keys. Never `.`, `..` or `-h`. */
export const VOICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** https://platform.openai.com/docs/guides/text-to-speech — the voices of tts-1, tts-1-hd and gpt-4o-mini-tts. */
export const OPENAI_SPEECH_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse'] as const;

export function parseEspeakVoices(listing: string): string[] {
  const names: string[] = [];
  for (const line of listing.split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    const language = columns[1];
    if (language === undefined || language === '') continue;
    names.push(language);
    // "Other Languages" is a run of "(name priority)" groups after the file column.
    for (const match of line.matchAll(/\(([A-Za-z0-9_-]+) \d+\)/g)) if (match[1] !== undefined) names.push(match[1]);
  }
  return names;
}

/** `espeak-ng --voices`, once; an empty list when it cannot run (voice is then unavailable anyway). */
export function listEspeakVoices(espeakPath: string | undefined): string[] {
  if (espeakPath === undefined) return [];
  const result = spawnSync(espeakPath, ['--voices'], { encoding: 'utf8', timeout: 10_000, maxBuffer: 1024 * 1024 });
  return result.status === 0 ? parseEspeakVoices(result.stdout) : [];
}

export type VoiceCatalogueSource =
  | { readonly kind: 'espeak'; readonly listed: readonly string[] }
  | { readonly kind: 'openai'; readonly officialApi: boolean }
  | { readonly kind: 'youdao' }
  | { readonly kind: 'other' };

export function offeredVoices(source: VoiceCatalogueSource, options: { defaultVoice: string; configured: readonly (string | undefined)[] }): ReadonlySet<string> {
  const names = new Set<string>([options.defaultVoice]);
  for (const name of options.configured) if (name !== undefined) names.add(name);
  if (source.kind === 'espeak') for (const name of source.listed) names.add(name);
  if (source.kind === 'openai' && source.officialApi) for (const name of OPENAI_SPEECH_VOICES) names.add(name);
  return names;
}
