/**
 * Reads an HTTP answer's body (a `fetch` Response) into memory with a size limit.
 *
 * Contract: resolves with the whole body, or rejects with the caller's `tooLarge(declaredBytes?)` error as soon as
 * the declared `Content-Length` or the bytes actually received pass `maxBytes` (the rest is cancelled,
 * not downloaded), so a misbehaving peer — a TTS provider, WeChat's API — cannot fill the server's
 * memory. Transport errors while reading propagate unchanged for the caller to classify.
 */
export async function readBoundedBody(response: Response, maxBytes: number, tooLarge: (declaredBytes?: number) => Error): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(declared);
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
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
