/**
 * MP3 frames as WeChat's recorder writes them with the mini-program's settings (MPEG-2 Layer III,
 * 16 kHz, mono, 48 kbit/s: 216-byte frames), with the side-information fields the level meter reads
 * set by the test: the first granule's `part2_3_length` (`bits`) and `global_gain`.
 */

const FRAME_BYTES = 216;

function writeBits(bytes: Uint8Array, bitOffset: number, count: number, value: number): void {
  for (let i = 0; i < count; i++) {
    const bit = bitOffset + i;
    const on = (value >> (count - 1 - i)) & 1;
    const index = bit >> 3;
    const mask = 1 << (7 - (bit & 7));
    bytes[index] = on ? (bytes[index] ?? 0) | mask : (bytes[index] ?? 0) & ~mask;
  }
}

export function mp3Frame(options: { globalGain: number; bits?: number }): Uint8Array {
  const frame = new Uint8Array(FRAME_BYTES);
  // sync, MPEG-2, Layer III, no CRC | 48 kbit/s, 16 kHz, no padding | mono
  frame.set([0xff, 0xf3, 0x68, 0xc0]);
  // MPEG-2 mono side information: main_data_begin (8), private (1), then granule 0: part2_3_length (12), big_values (9), global_gain (8).
  const start = 4 * 8 + 9;
  writeBits(frame, start, 12, options.bits ?? 400);
  writeBits(frame, start + 21, 8, options.globalGain);
  return frame;
}
