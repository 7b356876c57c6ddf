/**
 * Reads an MP3's playing time from its frame headers, without decoding audio.
 *
 * Contract: `mp3Info(bytes)` skips a leading ID3v2 tag, then walks MPEG audio Layer III frames
 * (MPEG-1, 2 and 2.5) from header to header until the bytes end or stop looking like frames (an
 * ID3v1 tag, junk); it returns the frame count, sample rate and duration, or `undefined` when
 * not even one frame is found. An encoder's Xing/Info header frame (LAME writes one) carries no
 * audio and is not counted. `truncated` says the bytes end inside the last frame (a cut-off
 * upload; encoders write whole frames), `endOffset` where the walk stopped. Free-format and Layer I/II streams are not recognised — no TTS
 * provider we use produces them.
 */

export interface Mp3Info {
  /** Audio frames counted (the Xing/Info frame excluded). */
  readonly frames: number;
  readonly sampleRate: number;
  readonly durationMs: number;
  /** Offset of the first frame (after any ID3v2 tag). */
  readonly firstFrameOffset: number;
  /** Offset just past the last frame counted (may exceed the length when `truncated`). */
  readonly endOffset: number;
  /** The last frame's header promises more bytes than remain. */
  readonly truncated: boolean;
}

const BITRATES_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
/** Indexed by the header's version bits: 0 = MPEG 2.5, 2 = MPEG 2, 3 = MPEG 1 (1 is reserved). */
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = {
  0: [11025, 12000, 8000],
  2: [22050, 24000, 16000],
  3: [44100, 48000, 32000],
};

interface FrameHeader {
  readonly length: number;
  readonly sampleRate: number;
  readonly samples: number;
  readonly sideInfoBytes: number;
}

function frameHeader(bytes: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > bytes.length) return undefined;
  const b1 = bytes[at + 1] ?? 0;
  const b2 = bytes[at + 2] ?? 0;
  const b3 = bytes[at + 3] ?? 0;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 0x03;
  const layer = (b1 >> 1) & 0x03;
  if (version === 1 || layer !== 1) return undefined; // reserved version, or not Layer III
  const mpeg1 = version === 3;
  const kbps = (mpeg1 ? BITRATES_MPEG1 : BITRATES_MPEG2)[b2 >> 4];
  const sampleRate = SAMPLE_RATES[version]?.[(b2 >> 2) & 0x03];
  if (kbps === undefined || kbps === 0 || sampleRate === undefined) return undefined;
  const padding = (b2 >> 1) & 0x01;
  const mono = (b3 >> 6) === 3;
  const length = Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / sampleRate) + padding;
  const sideInfoBytes = mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17;
  return { length, sampleRate, samples: mpeg1 ? 1152 : 576, sideInfoBytes };
}

function id3v2Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x33) return 0; // "ID3"
  // Tag size is "syncsafe": 7 bits per byte.
  const size = (((bytes[6] ?? 0) & 0x7f) << 21) | (((bytes[7] ?? 0) & 0x7f) << 14) | (((bytes[8] ?? 0) & 0x7f) << 7) | ((bytes[9] ?? 0) & 0x7f);
  const footer = ((bytes[5] ?? 0) & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

function isInfoFrame(bytes: Uint8Array, at: number, header: FrameHeader): boolean {
  const tagAt = at + 4 + header.sideInfoBytes;
  const tag = Buffer.from(bytes.subarray(tagAt, tagAt + 4)).toString('latin1');
  return tag === 'Xing' || tag === 'Info';
}

export function mp3Info(bytes: Uint8Array): Mp3Info | undefined {
  const firstFrameOffset = id3v2Length(bytes);
  let at = firstFrameOffset;
  let frames = 0;
  let samples = 0;
  let sampleRate = 0;
  for (;;) {
    const header = frameHeader(bytes, at);
    // The last frame may be cut short by the encoder's end; a header that promises more bytes
    // than remain still counts, since decoders play what is there.
    if (header === undefined) break;
    if (sampleRate === 0) sampleRate = header.sampleRate;
    else if (header.sampleRate !== sampleRate) break;
    if (!(frames === 0 && samples === 0 && at === firstFrameOffset && isInfoFrame(bytes, at, header))) {
      frames++;
      samples += header.samples;
    }
    at += header.length;
  }
  if (sampleRate === 0) return undefined;
  return { frames, sampleRate, durationMs: Math.round((samples * 1000) / sampleRate), firstFrameOffset, endOffset: at, truncated: at > bytes.length };
}
