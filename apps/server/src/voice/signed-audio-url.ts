/**
 * Short-lived signed URLs for synthesized audio: `GET /api/audio/:id?exp=…&sig=…`.
 *
 * Why signed: the mini-program plays audio with `InnerAudioContext`, which fetches `src` itself
 * and cannot send an `Authorization` header, so the URL has to carry the proof.
 *
 * Contract: `url(id, expiresAtMs)` returns the path and query (the caller prefixes its public
 * origin); `exp` is whole seconds since the epoch, rounded down so the link never outlives the
 * audio; `sig` is base64url(HMAC-SHA256(secret, "wxstream-audio\n" + id + "\n" + exp)).
 * `verify(id, exp, sig)` is `invalid` for anything malformed or not signed with our secret —
 * checked first, with a constant-time compare of the canonical `sig` string (another base64url
 * spelling of the same bytes is not our link), so a forged link learns nothing about expiry —
 * then `expired` once `exp` has passed on the injected clock, else `valid`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ROUTES } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';

export const AUDIO_ROUTE = ROUTES.audio;
/** A shorter secret is guessable; refuse it rather than sign weak links. */
export const MIN_AUDIO_URL_SECRET_LENGTH = 32;

export type AudioUrlCheck = 'valid' | 'expired' | 'invalid';

export interface AudioUrlSigner {
  url(id: string, expiresAtMs: number): string;
  verify(id: string, exp: string | undefined, sig: string | undefined): AudioUrlCheck;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const EXP_PATTERN = /^\d{1,12}$/;
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function createAudioUrlSigner(options: { secret: string | Buffer; clock: Clock; basePath?: string }): AudioUrlSigner {
  if (options.secret.length < MIN_AUDIO_URL_SECRET_LENGTH) {
    throw new RangeError(`the audio URL secret must be at least ${MIN_AUDIO_URL_SECRET_LENGTH} characters long`);
  }
  const basePath = (options.basePath ?? AUDIO_ROUTE.replace('/:id', '')).replace(/\/+$/, '');
  const mac = (id: string, exp: string): Buffer => createHmac('sha256', options.secret).update(`wxstream-audio\n${id}\n${exp}`).digest();

  return {
    url(id, expiresAtMs) {
      if (!ID_PATTERN.test(id)) throw new RangeError('audio ids are base64url');
      const exp = String(Math.floor(expiresAtMs / 1000));
      return `${basePath}/${id}?exp=${exp}&sig=${mac(id, exp).toString('base64url')}`;
    },
    verify(id, exp, sig) {
      if (!ID_PATTERN.test(id) || exp === undefined || sig === undefined || !EXP_PATTERN.test(exp) || !SIG_PATTERN.test(sig)) return 'invalid';
      // The canonical string, not the decoded bytes: several base64url spellings decode alike.
      const given = Buffer.from(sig);
      const expected = Buffer.from(mac(id, exp).toString('base64url'));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return Number(exp) * 1000 <= options.clock.now() ? 'expired' : 'valid';
    },
  };
}
