/**
 * Reads an HTTP answer's body into memory with a size limit, for TTS providers.
 *
 * Contract: resolves with the whole body, or rejects with a non-retryable `tts_failed` naming
 * `who` as soon as the declared `Content-Length` or the bytes actually received pass `maxBytes`
 * (the rest is cancelled, not downloaded): a misbehaving provider cannot fill the server's memory.
 * Transport errors while reading propagate unchanged for the caller to classify.
 */
import { TtsError } from './voice-errors.ts';

export async function readBoundedBody(response: Response, maxBytes: number, who: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new TtsError('tts_failed', `${who} answered ${declared} bytes, more than the ${maxBytes} allowed`, { retryable: false });
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new TtsError('tts_failed', `${who} answered more than the ${maxBytes} bytes allowed`, { retryable: false });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
