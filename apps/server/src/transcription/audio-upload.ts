/**
 * Reads the recording out of a `multipart/form-data` request (what `wx.uploadFile` and OpenAI's
 * transcription API send) with busboy, under limits, into memory — never to disk.
 *
 * Contract: resolves `{ audio, language }` — the bytes of the part named `file` and the optional
 * `language` field — or rejects with a `WxstreamError`:
 * - `unsupported_media_type` (415) when the request is not `multipart/form-data`;
 * - `invalid_request` (400) for a multipart body without a boundary, a malformed or cut-off body,
 *   too many parts, or a `language` that is not a language tag;
 * - `payload_too_large` (413) as soon as the declared length or the bytes received pass the limit
 *   (the file part past `maxBytes`, or the whole body past `maxBytes` plus room for the other
 *   parts) — reading stops there;
 * - `audio_required` (400) when no part is named `file`, or it is empty.
 * Parts with other names are drained and dropped; a second `file` part is ignored.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { TRANSCRIPTION_FILE_FIELD, TRANSCRIPTION_LANGUAGE_FIELD, WxstreamError } from '@wxstream/protocol';

export interface AudioUpload {
  readonly audio: Buffer;
  /** As sent (a language tag), or undefined. */
  readonly language: string | undefined;
}

/** Room for part headers, boundaries and the small fields around the file. */
const MULTIPART_OVERHEAD_BYTES = 16 * 1024;
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,2}$/;

function isMultipart(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() === 'multipart/form-data';
}

export function readAudioUpload(req: IncomingMessage, limits: { maxBytes: number }): Promise<AudioUpload> {
  const contentType = req.headers['content-type'];
  if (!isMultipart(contentType)) {
    return Promise.reject(new WxstreamError('unsupported_media_type', `Content-Type must be multipart/form-data with the audio in field "${TRANSCRIPTION_FILE_FIELD}"`));
  }
  const maxBodyBytes = limits.maxBytes + MULTIPART_OVERHEAD_BYTES;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBodyBytes) {
    return Promise.reject(new WxstreamError('payload_too_large', `The upload is ${declared} bytes; recordings may be at most ${limits.maxBytes} bytes`));
  }

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { fileSize: limits.maxBytes, files: 4, fields: 8, parts: 12, fieldSize: 1024, fieldNameSize: 100, headerPairs: 20 },
    });
  } catch (error) {
    // busboy refuses a multipart type without a boundary before reading anything.
    return Promise.reject(new WxstreamError('invalid_request', `Malformed multipart request: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sawFile = false;
    let language: string | undefined;
    let received = 0;
    let settled = false;

    const stop = (error: WxstreamError) => {
      if (settled) return;
      settled = true;
      req.off('data', count);
      req.unpipe(parser);
      // Stop pulling bytes: the answer is decided; the error handler closes the connection.
      req.pause();
      chunks.length = 0;
      reject(error);
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBodyBytes) stop(new WxstreamError('payload_too_large', `Recordings may be at most ${limits.maxBytes} bytes`));
    };

    parser.on('file', (name, stream) => {
      // A body cut off mid-file fails the part's stream too; the parser's own 'error' answers for it.
      stream.on('error', () => undefined);
      if (name !== TRANSCRIPTION_FILE_FIELD || sawFile) {
        stream.resume();
        return;
      }
      sawFile = true;
      stream.on('data', (chunk: Buffer) => {
        if (!settled) chunks.push(chunk);
      });
      stream.on('limit', () => stop(new WxstreamError('payload_too_large', `Recordings may be at most ${limits.maxBytes} bytes`)));
    });
    parser.on('field', (name, value, info) => {
      if (name !== TRANSCRIPTION_LANGUAGE_FIELD) return;
      const tag = value.trim();
      if (info.valueTruncated || (tag !== '' && !LANGUAGE_TAG.test(tag))) {
        stop(new WxstreamError('invalid_request', `"${TRANSCRIPTION_LANGUAGE_FIELD}" must be a language tag such as zh or en`));
        return;
      }
      language = tag === '' ? undefined : tag;
    });
    parser.on('partsLimit', () => stop(new WxstreamError('invalid_request', 'Too many parts in the multipart request')));
    parser.on('fieldsLimit', () => stop(new WxstreamError('invalid_request', 'Too many fields in the multipart request')));
    parser.on('error', (error: unknown) => {
      stop(new WxstreamError('invalid_request', `Malformed multipart request: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    });
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      req.off('data', count);
      const audio = Buffer.concat(chunks);
      chunks.length = 0;
      if (!sawFile) reject(new WxstreamError('audio_required', `No part named "${TRANSCRIPTION_FILE_FIELD}" in the multipart request`));
      else if (audio.length === 0) reject(new WxstreamError('audio_required', 'The recording is empty'));
      else resolve({ audio, language });
    });
    req.on('data', count);
    req.on('aborted', () => stop(new WxstreamError('invalid_request', 'The upload was cut off')));
    req.pipe(parser);
  });
}
