/**
 * Recognises an uploaded recording by its bytes — never by its file name or declared type — and
 * reads its playing time without decoding it.
 *
 * Contract: `inspectAudio(bytes)` answers one of
 * - `{ ok: true, format, durationMs, sampleRate, channels }` for the formats WeChat's
 *   RecorderManager writes: MP3 (optionally after an ID3v2 tag), AAC in ADTS frames, AAC in an
 *   MP4/M4A container (an `ftyp` box and a sound track), and PCM WAV;
 * - `{ ok: false, problem: 'not_audio' }` when the bytes start like none of them (a text file
 *   named `.mp3`, an image);
 * - `{ ok: false, problem: 'corrupt' }` when they start like one but do not hold up: an MP3 or
 *   ADTS stream whose last frame is cut off, an MP4 whose boxes run past the end or that has no
 *   `moov`, a WAV without PCM samples, or no audio frame at all.
 * Pure and synchronous; the bytes are only read.
 */
import type { TranscriptionFormat } from '@wxstream/protocol';
import { mp3Info } from '../voice/mp3-info.ts';
import { readWav } from '../voice/wav-pcm.ts';

export interface AudioFacts {
  readonly ok: true;
  readonly format: TranscriptionFormat;
  readonly durationMs: number;
  readonly sampleRate: number;
  /** Undefined where the container does not say cheaply (MP3). */
  readonly channels: number | undefined;
}

export interface AudioProblem {
  readonly ok: false;
  readonly problem: 'not_audio' | 'corrupt';
  /** For developers and logs. */
  readonly detail: string;
}

export type AudioInspection = AudioFacts | AudioProblem;

const notAudio = (detail: string): AudioProblem => ({ ok: false, problem: 'not_audio', detail });
const corrupt = (detail: string): AudioProblem => ({ ok: false, problem: 'corrupt', detail });

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', from, to);
}

/** Length of a leading ID3v2 tag (header, body, footer), or 0. */
function id3v2Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || latin1(bytes, 0, 3) !== 'ID3') return 0;
  const size = (((bytes[6] ?? 0) & 0x7f) << 21) | (((bytes[7] ?? 0) & 0x7f) << 14) | (((bytes[8] ?? 0) & 0x7f) << 7) | ((bytes[9] ?? 0) & 0x7f);
  return 10 + size + (((bytes[5] ?? 0) & 0x10) !== 0 ? 10 : 0);
}

/** 12-bit sync and layer bits 00: an ADTS header, not an MPEG audio frame (whose layer is never 00). */
function isAdtsSync(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0xff && ((bytes[at + 1] ?? 0) & 0xf6) === 0xf0;
}

/** 11-bit sync with a layer: an MPEG audio frame header (Layer III is checked by `mp3Info`). */
function isMpegSync(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0xff && ((bytes[at + 1] ?? 0) & 0xe0) === 0xe0 && ((bytes[at + 1] ?? 0) & 0x06) !== 0;
}

const ADTS_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

function inspectAdts(bytes: Uint8Array, start: number): AudioInspection {
  let at = start;
  let samples = 0;
  let sampleRate = 0;
  let channels = 0;
  let frames = 0;
  while (at < bytes.length) {
    if (at + 7 > bytes.length) return corrupt('the AAC stream ends inside a frame header');
    if (!isAdtsSync(bytes, at)) break;
    const b2 = bytes[at + 2] ?? 0;
    const b3 = bytes[at + 3] ?? 0;
    const rate = ADTS_SAMPLE_RATES[(b2 >> 2) & 0x0f];
    if (rate === undefined) return corrupt('an AAC frame has a reserved sample rate');
    const length = ((b3 & 0x03) << 11) | ((bytes[at + 4] ?? 0) << 3) | ((bytes[at + 5] ?? 0) >> 5);
    if (length < 7) return corrupt('an AAC frame is shorter than its header');
    if (at + length > bytes.length) return corrupt('the AAC stream ends inside a frame');
    if (sampleRate === 0) {
      sampleRate = rate;
      channels = ((b2 & 0x01) << 2) | (b3 >> 6);
    }
    samples += 1024 * (((bytes[at + 6] ?? 0) & 0x03) + 1);
    frames++;
    at += length;
  }
  if (frames === 0) return corrupt('no AAC frame');
  return { ok: true, format: 'aac', durationMs: Math.round((samples * 1000) / sampleRate), sampleRate, channels: channels === 0 ? undefined : channels };
}

function inspectMp3(bytes: Uint8Array): AudioInspection {
  const info = mp3Info(bytes);
  if (info === undefined || info.frames === 0) return corrupt('no MPEG Layer III frame where one should start');
  if (info.truncated) return corrupt('the MP3 ends inside a frame');
  return { ok: true, format: 'mp3', durationMs: info.durationMs, sampleRate: info.sampleRate, channels: undefined };
}

function inspectWav(bytes: Uint8Array): AudioInspection {
  const wav = readWav(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (wav === undefined) return corrupt('a RIFF/WAVE file without PCM fmt and data chunks');
  if (wav.pcm.length === 0) return corrupt('a WAV file without samples');
  const { sampleRate, channels, bitsPerSample } = wav.format;
  const frameBytes = channels * Math.ceil(bitsPerSample / 8);
  return { ok: true, format: 'wav', durationMs: Math.round((wav.pcm.length / frameBytes / sampleRate) * 1000), sampleRate, channels };
}

interface Box {
  readonly type: string;
  /** Offset of the box's contents (after its header). */
  readonly body: number;
  /** Offset just past the box. */
  readonly end: number;
}

/** The boxes laid end to end in [from, to); undefined when one claims to run past `to`. */
function boxes(bytes: Uint8Array, from: number, to: number): Box[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    const type = latin1(bytes, at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) return undefined;
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) return undefined;
    found.push({ type, body: at + header, end: at + size });
    at += size;
  }
  return at === to ? found : undefined;
}

function child(bytes: Uint8Array, parent: Box, type: string): Box | undefined {
  return boxes(bytes, parent.body, parent.end)?.find((box) => box.type === type);
}

/** Timescale and duration of an `mvhd` or `mdhd` box (version 0 or 1). */
function timing(bytes: Uint8Array, box: Box): { timescale: number; duration: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[box.body];
  if (version === 1 && box.body + 32 <= box.end) {
    return { timescale: view.getUint32(box.body + 20), duration: Number(view.getBigUint64(box.body + 24)) };
  }
  if (version === 0 && box.body + 20 <= box.end) return { timescale: view.getUint32(box.body + 12), duration: view.getUint32(box.body + 16) };
  return undefined;
}

function inspectMp4(bytes: Uint8Array): AudioInspection {
  const top = boxes(bytes, 0, bytes.length);
  if (top === undefined) return corrupt('an MP4 box runs past the end of the file');
  const moov = top.find((box) => box.type === 'moov');
  if (moov === undefined) return corrupt('an MP4 file without a moov box');
  if (!top.some((box) => box.type === 'mdat')) return corrupt('an MP4 file without media data');
  const tracks = boxes(bytes, moov.body, moov.end)?.filter((box) => box.type === 'trak') ?? [];
  for (const trak of tracks) {
    const mdia = child(bytes, trak, 'mdia');
    const hdlr = mdia === undefined ? undefined : child(bytes, mdia, 'hdlr');
    const mdhd = mdia === undefined ? undefined : child(bytes, mdia, 'mdhd');
    if (hdlr === undefined || mdhd === undefined || latin1(bytes, hdlr.body + 8, hdlr.body + 12) !== 'soun') continue;
    const media = timing(bytes, mdhd);
    if (media === undefined || media.timescale === 0) return corrupt('the sound track has no usable timing');
    // Audio tracks count time in samples: the media timescale is the sample rate.
    return { ok: true, format: 'm4a', durationMs: Math.round((media.duration * 1000) / media.timescale), sampleRate: media.timescale, channels: undefined };
  }
  return notAudio('an MP4 file without a sound track');
}

export function inspectAudio(bytes: Uint8Array): AudioInspection {
  if (bytes.length >= 12 && latin1(bytes, 0, 4) === 'RIFF' && latin1(bytes, 8, 12) === 'WAVE') return inspectWav(bytes);
  if (bytes.length >= 8 && latin1(bytes, 4, 8) === 'ftyp') return inspectMp4(bytes);
  const tag = id3v2Length(bytes);
  if (tag > 0) {
    if (tag >= bytes.length) return corrupt('the file ends inside its ID3 tag');
    if (isAdtsSync(bytes, tag)) return inspectAdts(bytes, tag);
    return inspectMp3(bytes);
  }
  if (isAdtsSync(bytes, 0)) return inspectAdts(bytes, 0);
  if (isMpegSync(bytes, 0)) return inspectMp3(bytes);
  return notAudio('the bytes start like no audio format accepted (MP3, AAC, M4A, WAV)');
}
