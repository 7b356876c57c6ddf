/**
 * Reads PCM samples out of a WAV stream and writes a WAV header, for joining and timing speech.
 *
 * Contract: `readWav(bytes)` walks RIFF chunks to `fmt ` and `data` and returns the format and
 * the sample bytes. Programs that write WAV to a pipe cannot go back to fill in sizes (espeak-ng
 * writes 0x7ffff000-ish placeholders), so the data chunk is taken to run to the end of what
 * arrived when its declared size is larger — and always cut to whole sample frames. Only PCM
 * (format 1) is accepted; anything else is `undefined`. `wavFile(format, pcm)` is the inverse
 * with exact sizes; `pcmDurationMs` is the playing time of `pcm` in `format`.
 */

export interface PcmFormat {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
}

export interface WavContents {
  readonly format: PcmFormat;
  readonly pcm: Buffer;
}

function blockAlign(format: PcmFormat): number {
  return format.channels * Math.ceil(format.bitsPerSample / 8);
}

export function readWav(bytes: Buffer): WavContents | undefined {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let format: PcmFormat | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('latin1', at, at + 4);
    const declared = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + 16 > bytes.length || bytes.readUInt16LE(body) !== 1) return undefined;
      format = { channels: bytes.readUInt16LE(body + 2), sampleRate: bytes.readUInt32LE(body + 4), bitsPerSample: bytes.readUInt16LE(body + 14) };
      if (format.channels === 0 || format.sampleRate === 0 || format.bitsPerSample === 0) return undefined;
    } else if (id === 'data') {
      if (format === undefined) return undefined;
      const available = Math.min(declared, bytes.length - body);
      const whole = available - (available % blockAlign(format));
      return { format, pcm: bytes.subarray(body, body + whole) };
    }
    // Chunks are padded to an even length.
    at = body + declared + (declared % 2);
  }
  return undefined;
}

export function wavFile(format: PcmFormat, pcm: Buffer): Buffer {
  const header = Buffer.alloc(44);
  const align = blockAlign(format);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.sampleRate, 24);
  header.writeUInt32LE(format.sampleRate * align, 28);
  header.writeUInt16LE(align, 32);
  header.writeUInt16LE(format.bitsPerSample, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

export function pcmDurationMs(format: PcmFormat, pcm: Buffer): number {
  return Math.round((pcm.length / blockAlign(format) / format.sampleRate) * 1000);
}

export function samePcmFormat(a: PcmFormat, b: PcmFormat): boolean {
  return a.sampleRate === b.sampleRate && a.channels === b.channels && a.bitsPerSample === b.bitsPerSample;
}
