/**
 * Recordings for the voice-input tests and benchmark, as WeChat's recorder would send them.
 *
 * Contract: `spokenMp3(text)` has espeak-ng read `text` and lame encode it the way the mini-program
 * records (16 kHz, mono, 48 kbit/s MP3) — undefined when either program is missing, so callers
 * can skip with a reason. The voice is `en-us+klatt4` at 160 words/min: pocketsphinx hears espeak's
 * default voice badly (WER 0.66–0.75); of its klatt variants, measured here on the round-trip
 * sentences, klatt4 at 160 wpm did best (about 0.15; klatt2 about 0.35). `silentWav` /
 * `adtsAac` / `m4aAac` build format-correct containers in memory (no encoder needed), for
 * sniffing and limit tests; their audio is silence or filler. `multipartBody` writes the exact
 * bytes of a `multipart/form-data` request, so tests control names, boundary and order.
 */
import { spawnSync } from 'node:child_process';
import { findProgram } from '../../src/process/programs.ts';
import { wavFile } from '../../src/voice/wav-pcm.ts';

export const SPEECH_VOICE = 'en-us+klatt4';
export const SPEECH_WPM = 160;

export function speechProgramsMissing(): string[] {
  return ['espeak-ng', 'lame'].filter((name) => findProgram(name, process.env.PATH) === undefined);
}

export function spokenMp3(text: string): Buffer | undefined {
  if (speechProgramsMissing().length > 0) return undefined;
  const wav = spawnSync('espeak-ng', ['-v', SPEECH_VOICE, '-s', String(SPEECH_WPM), '--stdout', text], { maxBuffer: 64 * 1024 * 1024 });
  if (wav.status !== 0) throw new Error(`espeak-ng failed: ${wav.stderr.toString()}`);
  const mp3 = spawnSync('lame', ['--quiet', '-m', 'm', '--resample', '16', '-b', '48', '-', '-'], { input: wav.stdout, maxBuffer: 64 * 1024 * 1024 });
  if (mp3.status !== 0) throw new Error(`lame failed: ${mp3.stderr.toString()}`);
  return mp3.stdout;
}

/** `ms` of silence as 16 kHz mono 16-bit WAV. */
export function silentWav(ms: number, sampleRate = 16_000): Buffer {
  return wavFile({ sampleRate, channels: 1, bitsPerSample: 16 }, Buffer.alloc(Math.round((sampleRate * ms) / 1000) * 2));
}

/** ADTS frames (16 kHz mono AAC-LC), each 1024 samples with a filler payload. */
export function adtsAac(frames: number): Buffer {
  const payload = 20;
  const length = 7 + payload;
  const frame = Buffer.alloc(length);
  // sync 0xFFF, MPEG-4, layer 00, no CRC | profile LC, rate index 8 (16 kHz), channel config 1 | length | fullness | 1 block
  frame.set([0xff, 0xf1, (1 << 6) | (8 << 2), (1 << 6) | ((length >> 11) & 0x03), (length >> 3) & 0xff, ((length & 0x07) << 5) | 0x1f, 0xfc]);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

function box(type: string, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/** A minimal M4A: ftyp, moov with one sound track whose mdhd says `durationMs` at `sampleRate`, and mdat. */
export function m4aAac(durationMs: number, sampleRate = 16_000, options: { withMoov?: boolean; handler?: string } = {}): Buffer {
  const mdhd = Buffer.alloc(24);
  mdhd.writeUInt32BE(sampleRate, 12);
  mdhd.writeUInt32BE(Math.round((durationMs * sampleRate) / 1000), 16);
  const hdlr = Buffer.alloc(24);
  hdlr.write(options.handler ?? 'soun', 8, 'latin1');
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12);
  mvhd.writeUInt32BE(durationMs, 16);
  const moov = box('moov', box('mvhd', mvhd), box('trak', box('mdia', box('mdhd', mdhd), box('hdlr', hdlr))));
  const ftyp = box('ftyp', Buffer.from('M4A \x00\x00\x00\x00M4A mp42isom', 'latin1'));
  return Buffer.concat([ftyp, ...(options.withMoov === false ? [] : [moov]), box('mdat', Buffer.alloc(64))]);
}

export interface MultipartPart {
  readonly name: string;
  readonly value: string | Buffer;
  /** Makes it a file part. */
  readonly filename?: string;
  readonly contentType?: string;
}

export const TEST_BOUNDARY = '----wxstreamTestBoundary7MA4YWxkTrZu0gW';

export function multipartBody(parts: readonly MultipartPart[], boundary = TEST_BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const type = part.contentType === undefined ? '' : `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`, 'utf8'));
    chunks.push(typeof part.value === 'string' ? Buffer.from(part.value, 'utf8') : part.value);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Request options for `send` that upload `parts` as `wx.uploadFile` would. */
export function uploadRequest(token: string | undefined, parts: readonly MultipartPart[], boundary = TEST_BOUNDARY) {
  return {
    method: 'POST',
    headers: {
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
    },
    body: multipartBody(parts, boundary),
  };
}

/** Word error rate: word-level edit distance over the reference's word count, case and punctuation ignored. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const words = (text: string) => text.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').split(/\s+/).filter((word) => word !== '');
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  return ref.length === 0 ? 0 : (previous[hyp.length] ?? 0) / ref.length;
}
