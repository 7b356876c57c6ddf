/**
 * Sends a recording to `POST /api/transcriptions` with `wx.uploadFile` and reads the transcript.
 *
 * Contract: `uploadRecording(deps, filePath)` uploads the file at `filePath` as the multipart field
 * `file` with the signed-in user's token (a refused token is renewed and the upload sent once more,
 * authed-request.ts) and resolves with the `TranscriptionResponse` of a 200. It rejects only with a
 * `WxstreamError`: `network_error` when wx reports a failure (no connection, timeout), the server's
 * own code for an error body (`no_speech`, `stt_unavailable`, `audio_too_long`, `rate_limited`, …),
 * `http_error` for another non-2xx answer, `bad_response` for a 200 without a text. `wx.uploadFile`
 * comes in by injection, typed as just the parts used, so tests drive a fake. The file is not
 * deleted here: the caller keeps it to retry.
 */
import { ROUTES, TRANSCRIPTION_FILE_FIELD, WxstreamError, type TranscriptionResponse } from '../vendor/wxstream-client.js';
import { withFreshToken } from './authed-request.ts';
import type { AuthSession } from './auth-session.ts';
import { errorFromAnswer } from './json-request.ts';

/** Upload and recognition of a minute of speech; the server's own limit is 30 s of recognition. */
export const UPLOAD_TIMEOUT_MS = 60_000;

export interface WxUploadFileOptions {
  url: string;
  filePath: string;
  name: string;
  header: Record<string, string>;
  timeout: number;
  success(result: { statusCode: number; data: string }): void;
  fail(error: { errMsg: string }): void;
}

export type WxUploadFile = (options: WxUploadFileOptions) => unknown;

export interface TranscriptionUploadDeps {
  serverUrl: string;
  auth: AuthSession;
  uploadFile: WxUploadFile;
}

function parsed(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

function uploadOnce(deps: TranscriptionUploadDeps, filePath: string, token: string): Promise<TranscriptionResponse> {
  const where = `POST ${ROUTES.transcriptions}`;
  return new Promise((resolve, reject) => {
    const options: WxUploadFileOptions = {
      url: deps.serverUrl + ROUTES.transcriptions,
      filePath,
      name: TRANSCRIPTION_FILE_FIELD,
      header: { Authorization: `Bearer ${token}` },
      timeout: UPLOAD_TIMEOUT_MS,
      success: (result) => {
        const body = parsed(result.data);
        if (result.statusCode !== 200) {
          reject(errorFromAnswer(where, result.statusCode, body));
          return;
        }
        const text = (body as { text?: unknown } | null)?.text;
        if (typeof text !== 'string' || text.trim() === '') {
          reject(new WxstreamError('bad_response', `${where} answered 200 without a text`));
          return;
        }
        resolve(body as TranscriptionResponse);
      },
      fail: (error) => reject(new WxstreamError('network_error', `${where} failed: ${error.errMsg}`)),
    };
    try {
      deps.uploadFile(options);
    } catch (cause) {
      reject(new WxstreamError('network_error', `${where}: wx.uploadFile threw: ${String(cause)}`, { cause }));
    }
  });
}

export function uploadRecording(deps: TranscriptionUploadDeps, filePath: string): Promise<TranscriptionResponse> {
  return withFreshToken(deps.auth, (token) => uploadOnce(deps, filePath, token));
}
