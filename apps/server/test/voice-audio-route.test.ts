import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Router } from '@koa/router';
import Koa from 'koa';
import { audioRoute } from '../src/voice/audio-route.ts';
import { AudioStore, randomAudioId } from '../src/voice/audio-store.ts';
import { byteRange } from '../src/voice/byte-range.ts';
import { AUDIO_ROUTE, createAudioUrlSigner } from '../src/voice/signed-audio-url.ts';
import type { SynthesizedAudio } from '../src/voice/tts-provider.ts';
import { createManualClock } from './support/manual-clock.ts';
import { otherSpellings } from './support/base64url-spellings.ts';

const SECRET = 'audio-url-secret-for-tests-0123456789';
const START = Date.UTC(2025, 0, 1);

function mp3(bytes: number): SynthesizedAudio {
  return { audio: Buffer.from(Array.from({ length: bytes }, (_, i) => i % 251)), format: 'mp3', durationMs: 1234 };
}

describe('byte ranges', () => {
  test('one range in closed, open and suffix forms; the end is clamped to the last byte', () => {
    assert.deepEqual(byteRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 });
    assert.deepEqual(byteRange('bytes=900-', 1000), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(byteRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(byteRange('bytes=-5000', 1000), { kind: 'partial', start: 0, end: 999 });
    assert.deepEqual(byteRange('bytes=990-2000', 1000), { kind: 'partial', start: 990, end: 999 });
    assert.deepEqual(byteRange('BYTES = 1 - 2', 1000), { kind: 'partial', start: 1, end: 2 });
  });

  test('ranges past the end, empty suffixes and any range of empty audio are unsatisfiable', () => {
    assert.deepEqual(byteRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(byteRange('bytes=5000-6000', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(byteRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(byteRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  });

  test('no header, other units, malformed ranges and several ranges mean the whole audio', () => {
    for (const header of [undefined, '', 'items=0-1', 'bytes=abc', 'bytes=5-1', 'bytes=-', 'bytes=0-1,5-6']) {
      assert.deepEqual(byteRange(header, 1000), { kind: 'full' }, String(header));
    }
  });
});

describe('audio store', () => {
  test('keeps audio until its TTL passes on the injected clock', () => {
    const clock = createManualClock(START);
    const store = new AudioStore({ ttlMs: 60_000, maxBytes: 10_000, clock });
    const stored = store.put(mp3(100));
    assert.ok(stored !== undefined);
    assert.equal(stored.contentType, 'audio/mpeg');
    assert.equal(stored.expiresAt, START + 60_000);
    clock.advance(59_999);
    assert.equal(store.get(stored.id)?.audio.length, 100);
    assert.equal(store.remainingMs(stored), 1);
    clock.advance(1);
    assert.equal(store.get(stored.id), undefined);
    assert.equal(store.bytes, 0);
  });

  test('evicts the oldest audio to stay within its byte bound and refuses audio larger than it', () => {
    const store = new AudioStore({ ttlMs: 60_000, maxBytes: 250, clock: createManualClock(START) });
    const first = store.put(mp3(100));
    const second = store.put(mp3(100));
    const third = store.put(mp3(100));
    assert.deepEqual([first, second, third].map((entry) => entry !== undefined && store.get(entry.id) !== undefined), [false, true, true]);
    assert.equal(store.bytes, 200);
    assert.equal(store.put(mp3(251)), undefined);
    assert.equal(store.size, 2);
  });

  test('ids are random 128-bit base64url strings', () => {
    const ids = new Set(Array.from({ length: 200 }, () => randomAudioId()));
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('signed audio URLs', () => {
  const clock = createManualClock(START);
  const signer = createAudioUrlSigner({ secret: SECRET, clock });

  function parts(url: string): { id: string; exp: string | undefined; sig: string | undefined } {
    const parsed = new URL(url, 'http://x');
    return { id: parsed.pathname.split('/').at(-1) ?? '', exp: parsed.searchParams.get('exp') ?? undefined, sig: parsed.searchParams.get('sig') ?? undefined };
  }

  test('a link is valid until its expiry second, then expired', () => {
    const url = signer.url('abc_DEF-123', START + 90_500);
    assert.match(url, /^\/api\/audio\/abc_DEF-123\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const { id, exp, sig } = parts(url);
    assert.equal(exp, String(Math.floor((START + 90_500) / 1000)));
    assert.equal(signer.verify(id, exp, sig), 'valid');
    const later = createAudioUrlSigner({ secret: SECRET, clock: createManualClock(START + 90_000) });
    assert.equal(later.verify(id, exp, sig), 'expired');
  });

  test('a changed id, expiry or signature, another secret, or a malformed part is invalid', () => {
    const { id, exp, sig } = parts(signer.url('abc', START + 60_000));
    const other = createAudioUrlSigner({ secret: `${SECRET}-other`, clock });
    const flipped = `${sig?.[0] === 'A' ? 'B' : 'A'}${sig?.slice(1)}`;
    assert.equal(signer.verify('abd', exp, sig), 'invalid');
    assert.equal(signer.verify(id, String(Number(exp) + 1), sig), 'invalid');
    assert.equal(signer.verify(id, exp, flipped), 'invalid');
    assert.equal(other.verify(id, exp, sig), 'invalid');
    assert.equal(signer.verify(id, undefined, sig), 'invalid');
    assert.equal(signer.verify(id, exp, undefined), 'invalid');
    assert.equal(signer.verify(id, `${exp}x`, sig), 'invalid');
    assert.equal(signer.verify(id, exp, `${sig}=`), 'invalid');
    assert.equal(signer.verify('../etc', exp, sig), 'invalid');
  });

  test('a link is one string: another base64url spelling of the same signature bytes is invalid', () => {
    const { id, exp, sig } = parts(signer.url('abc', START + 60_000));
    const spellings = otherSpellings(sig ?? '');
    assert.equal(spellings.length, 3);
    for (const spelling of spellings) assert.equal(signer.verify(id, exp, spelling), 'invalid', spelling);
    assert.equal(signer.verify(id, exp, sig), 'valid');
  });

  test('a short secret is refused', () => {
    assert.throws(() => createAudioUrlSigner({ secret: 'short', clock }), RangeError);
  });
});

describe('audio route on a real Koa server', () => {
  const clock = createManualClock(START);
  const store = new AudioStore({ ttlMs: 120_000, maxBytes: 100_000, clock });
  const signer = createAudioUrlSigner({ secret: SECRET, clock });
  let server: Server;
  let origin = '';

  before(async () => {
    const app = new Koa();
    const router = new Router();
    router.get(AUDIO_ROUTE, audioRoute(store, signer));
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  function link(bytes = 1000): { url: string; audio: Buffer } {
    const stored = store.put(mp3(bytes));
    assert.ok(stored !== undefined);
    return { url: `${origin}${signer.url(stored.id, stored.expiresAt)}`, audio: stored.audio };
  }

  async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
    const response = await fetch(url, { method, headers });
    return { response, body: Buffer.from(await response.arrayBuffer()) };
  }

  test('serves the whole audio with its type, length, range support and cache lifetime', async () => {
    const { url, audio } = link();
    const { response, body } = await get(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'audio/mpeg');
    assert.equal(response.headers.get('content-length'), '1000');
    assert.equal(response.headers.get('accept-ranges'), 'bytes');
    assert.equal(response.headers.get('cache-control'), 'private, max-age=120, immutable');
    assert.deepEqual(body, audio);
  });

  test('answers a closed, an open and a suffix range with 206 and Content-Range', async () => {
    const { url, audio } = link();
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=900-', 900, 999],
      ['bytes=-10', 990, 999],
      ['bytes=500-5000', 500, 999],
    ];
    for (const [range, start, end] of cases) {
      const { response, body } = await get(url, { Range: range });
      assert.equal(response.status, 206, range);
      assert.equal(response.headers.get('content-range'), `bytes ${start}-${end}/1000`, range);
      assert.equal(response.headers.get('content-length'), String(end - start + 1), range);
      assert.equal(response.headers.get('content-type'), 'audio/mpeg', range);
      assert.deepEqual(body, audio.subarray(start, end + 1), range);
    }
  });

  test('answers an unsatisfiable range with 416 and the size; several ranges get the whole audio', async () => {
    const { url } = link();
    const beyond = await get(url, { Range: 'bytes=1000-1100' });
    assert.equal(beyond.response.status, 416);
    assert.equal(beyond.response.headers.get('content-range'), 'bytes */1000');
    assert.equal((JSON.parse(beyond.body.toString()) as { error: { code: string } }).error.code, 'audio_range_not_satisfiable');
    const several = await get(url, { Range: 'bytes=0-1,5-6' });
    assert.equal(several.response.status, 200);
    assert.equal(several.body.length, 1000);
  });

  test('HEAD gets the headers without the audio', async () => {
    const { url } = link(321);
    const { response, body } = await get(url, {}, 'HEAD');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), '321');
    assert.equal(response.headers.get('content-type'), 'audio/mpeg');
    assert.equal(body.length, 0);
  });

  test('a bad or missing signature is 403 audio_link_invalid, checked before the store', async () => {
    const { url } = link();
    const tampered = url.replace(/sig=(.)/, (_match, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`);
    const noSignature = url.replace(/[?].*$/, '');
    const unknownId = `${origin}/api/audio/${randomAudioId()}?exp=${new URL(url).searchParams.get('exp')}&sig=${new URL(url).searchParams.get('sig')}`;
    for (const candidate of [tampered, noSignature, unknownId]) {
      const { response, body } = await get(candidate);
      assert.equal(response.status, 403, candidate);
      assert.deepEqual(JSON.parse(body.toString()), { error: { code: 'audio_link_invalid', message: 'Audio link signature is invalid', retryable: false } });
    }
  });

  test('an expired link and audio no longer stored are 404 not_found', async () => {
    const { url } = link();
    const stored = store.put(mp3(10));
    assert.ok(stored !== undefined);
    const goneUrl = `${origin}${signer.url(stored.id, stored.expiresAt + 600_000)}`;
    clock.advance(120_000);
    const expired = await get(url);
    assert.equal(expired.response.status, 404);
    assert.equal((JSON.parse(expired.body.toString()) as { error: { code: string; message: string } }).error.message, 'Audio link has expired');
    const gone = await get(goneUrl);
    assert.equal(gone.response.status, 404);
    assert.equal((JSON.parse(gone.body.toString()) as { error: { code: string; message: string } }).error.message, 'Audio is no longer available');
  });
});
