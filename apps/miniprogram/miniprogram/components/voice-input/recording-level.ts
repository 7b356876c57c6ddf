/**
 * How loud the user is speaking, read from the MP3 frames WeChat's recorder hands to
 * `onFrameRecorded` — without decoding them (no decoder on a phone, and none needed for a meter).
 *
 * Contract: `mp3Level(bytes)` walks the MPEG audio Layer III frame headers in `bytes` (a chunk may
 * start mid-frame: it scans for the first header) and returns a level in [0, 1] for the loudest
 * granule found, or undefined when the chunk holds no whole frame header (another format, too
 * short). The level comes from each granule's side information: a granule with no coded bits
 * (`part2_3_length` 0) is silence; otherwise its `global_gain` — the quantiser step the encoder
 * needed, which rises with the signal's energy at a fixed bit rate — is mapped linearly from
 * QUIET_GAIN (0) to LOUD_GAIN (1). Measured with lame at 16 kHz, 48 kbit/s: a quiet room ≈ 120–130,
 * speech ≈ 150–185. It is an estimate for a meter, not a measurement.
 */

const QUIET_GAIN = 130;
const LOUD_GAIN = 180;

const BITRATES_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = { 0: [11025, 12000, 8000], 2: [22050, 24000, 16000], 3: [44100, 48000, 32000] };

function readBits(bytes: Uint8Array, bitOffset: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const bit = bitOffset + i;
    value = (value << 1) | (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1);
  }
  return value;
}

interface Granule {
  readonly bits: number;
  readonly gain: number;
}

/** The first granule of the first channel of the frame at `at`, and the frame's length; undefined if no frame starts there. */
function frameAt(bytes: Uint8Array, at: number): { length: number; granule: Granule } | undefined {
  const b1 = bytes[at + 1] ?? 0;
  const b2 = bytes[at + 2] ?? 0;
  const b3 = bytes[at + 3] ?? 0;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 0x03;
  if (version === 1 || ((b1 >> 1) & 0x03) !== 1) return undefined;
  const mpeg1 = version === 3;
  const kbps = (mpeg1 ? BITRATES_MPEG1 : BITRATES_MPEG2)[b2 >> 4];
  const sampleRate = SAMPLE_RATES[version]?.[(b2 >> 2) & 0x03];
  if (kbps === undefined || kbps === 0 || sampleRate === undefined) return undefined;
  const length = Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / sampleRate) + ((b2 >> 1) & 0x01);
  const mono = b3 >> 6 === 3;
  const crcBytes = (b1 & 0x01) === 0 ? 2 : 0;
  // Side information up to the first granule: main_data_begin, private bits (and scfsi in MPEG-1).
  const lead = mpeg1 ? (mono ? 18 : 20) : mono ? 9 : 10;
  const start = (at + 4 + crcBytes) * 8 + lead;
  if ((start + 29) >> 3 >= bytes.length) return undefined;
  return { length, granule: { bits: readBits(bytes, start, 12), gain: readBits(bytes, start + 21, 8) } };
}

export function granuleLevel(granule: Granule): number {
  if (granule.bits === 0) return 0;
  return Math.min(1, Math.max(0, (granule.gain - QUIET_GAIN) / (LOUD_GAIN - QUIET_GAIN)));
}

export function mp3Level(buffer: ArrayBuffer | Uint8Array): number | undefined {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let level: number | undefined;
  let at = 0;
  while (at + 4 <= bytes.length) {
    const frame = frameAt(bytes, at);
    if (frame === undefined) {
      at++;
      continue;
    }
    level = Math.max(level ?? 0, granuleLevel(frame.granule));
    at += frame.length;
  }
  return level;
}
