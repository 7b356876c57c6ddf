/**
 * The offline speech recogniser: CMU PocketSphinx from Debian's `pocketsphinx` and
 * `pocketsphinx-en-us` packages. No account, no network — the default when no service is
 * configured, as espeak-ng is for speaking. **English only**: the Debian model is US English.
 *
 * Contract: see transcriber.ts. The programs and the model are looked up once, at construction;
 * when one is missing the transcriber still exists, `unavailableReason` names what to install, and
 * every `transcribe` rejects at once with `stt_unavailable`. Without `faad` (optional) AAC and
 * M4A are refused with `audio_unsupported` and MP3/WAV still work. A `language` other than English
 * is `language_unsupported`; the transcript says `language: "en"`.
 *
 * Pipeline, all in a private temporary directory (mode 0700) that is removed before the promise
 * settles, so nothing of the audio outlives the request: the upload is written to a file, decoded
 * to WAV (`lame --decode` for MP3, `faad` for AAC and M4A; WAV as it is), resampled by `sox` to
 * what the acoustic model was trained on (16 kHz, mono, 16-bit), and read by
 * `pocketsphinx_continuous -infile`, which prints one line per utterance it heard. Files rather
 * than pipes because pocketsphinx and faad seek in their input. A deadline on the injected clock
 * and the caller's signal kill whatever is running.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TranscriptionFormat } from '@wxstream/protocol';
import type { Clock } from '../clock.ts';
import { findProgram, ProgramError, runProgram } from '../process/programs.ts';
import { TranscriptionError, type Transcriber } from './transcriber.ts';

export const POCKETSPHINX_PROGRAM = 'pocketsphinx_continuous';
export const LAME_PROGRAM = 'lame';
export const FAAD_PROGRAM = 'faad';
export const SOX_PROGRAM = 'sox';
/** The programs the pipeline needs, with the Debian packages that have them. faad is optional: without it AAC/M4A are refused. */
export const POCKETSPHINX_PACKAGES: Readonly<Record<string, string>> = {
  [POCKETSPHINX_PROGRAM]: 'pocketsphinx pocketsphinx-en-us',
  [LAME_PROGRAM]: 'lame',
  [SOX_PROGRAM]: 'sox',
  [FAAD_PROGRAM]: 'faad',
};
const REQUIRED_PROGRAMS = [POCKETSPHINX_PROGRAM, LAME_PROGRAM, SOX_PROGRAM];
/** Where Debian's pocketsphinx-en-us puts the US English model. */
export const DEFAULT_POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
export const POCKETSPHINX_LANGUAGES = ['en'] as const;
/** A minute of 16 kHz mono 16-bit audio is under 2 MB; a transcript is a few hundred bytes. */
const MAX_DECODED_BYTES = 64 * 1024 * 1024;
const MAX_TRANSCRIPT_BYTES = 64 * 1024;

export interface PocketsphinxOptions {
  /** The `PATH` to search for the programs (pass `process.env.PATH`). */
  readonly pathEnv: string | undefined;
  /** Holds `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  readonly modelDir?: string;
  /** Whole pipeline, every process. */
  readonly timeoutMs: number;
  readonly clock: Clock;
}

function missingMessage(missing: readonly string[]): string {
  const packages = [...new Set(missing.map((name) => POCKETSPHINX_PACKAGES[name] ?? name))].join(' ');
  return `${missing.join(', ')} not found — install the Debian packages (apt-get install -y ${packages}, or bash scripts/system-packages.sh)`;
}

function modelFiles(modelDir: string) {
  return { hmm: join(modelDir, 'en-us'), lm: join(modelDir, 'en-us.lm.bin'), dict: join(modelDir, 'cmudict-en-us.dict') };
}

/** pocketsphinx writes one line per utterance; between utterances it is silence. */
export function joinUtterances(output: string): string {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

export function createPocketsphinxTranscriber(options: PocketsphinxOptions): Transcriber {
  const paths = Object.fromEntries(Object.keys(POCKETSPHINX_PACKAGES).map((name) => [name, findProgram(name, options.pathEnv)]));
  const model = modelFiles(options.modelDir ?? DEFAULT_POCKETSPHINX_MODEL_DIR);
  const missing = REQUIRED_PROGRAMS.filter((name) => paths[name] === undefined);
  if (!existsSync(model.hmm) || !existsSync(model.lm) || !existsSync(model.dict)) missing.push(`the English model in ${options.modelDir ?? DEFAULT_POCKETSPHINX_MODEL_DIR}`);
  const unavailableReason = missing.length === 0 ? undefined : missingMessage(missing);
  const formats: TranscriptionFormat[] = paths[FAAD_PROGRAM] === undefined ? ['mp3', 'wav'] : ['mp3', 'aac', 'm4a', 'wav'];

  function program(name: string): string {
    const path = paths[name];
    if (path === undefined) throw new TranscriptionError('stt_unavailable', missingMessage([name]));
    return path;
  }

  async function run(name: string, args: readonly string[], signal: AbortSignal, maxOutputBytes = MAX_DECODED_BYTES): Promise<Buffer> {
    try {
      return await runProgram({ name, path: program(name), args, signal, maxOutputBytes });
    } catch (error) {
      if (!(error instanceof ProgramError)) throw error;
      if (error.kind === 'not_started') throw new TranscriptionError('stt_unavailable', error.message, { cause: error });
      // The bytes passed inspection; a decoder that still refuses them will refuse them again.
      throw new TranscriptionError('stt_failed', error.message, { retryable: false, cause: error });
    }
  }

  /** Writes a WAV of whatever came in to `decoded`, with the program that reads its format. */
  async function decode(format: TranscriptionFormat, input: string, decoded: string, signal: AbortSignal): Promise<string> {
    switch (format) {
      case 'wav':
        return input;
      case 'mp3':
        await run(LAME_PROGRAM, ['--quiet', '--decode', input, decoded], signal);
        return decoded;
      case 'aac':
      case 'm4a':
        await run(FAAD_PROGRAM, ['-q', '-o', decoded, input], signal);
        return decoded;
    }
  }

  async function recognise(audio: Buffer, format: TranscriptionFormat, signal: AbortSignal): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'wxstream-stt-'));
    try {
      const input = join(directory, `input.${format}`);
      await writeFile(input, audio, { mode: 0o600 });
      const wav = await decode(format, input, join(directory, 'decoded.wav'), signal);
      const speech = join(directory, 'speech.wav');
      await run(SOX_PROGRAM, ['-q', wav, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', speech], signal);
      const args = ['-infile', speech, '-hmm', model.hmm, '-lm', model.lm, '-dict', model.dict, '-logfn', '/dev/null'];
      const output = await run(POCKETSPHINX_PROGRAM, args, signal, MAX_TRANSCRIPT_BYTES);
      return joinUtterances(output.toString('utf8'));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  return {
    id: 'pocketsphinx',
    languages: POCKETSPHINX_LANGUAGES,
    formats,
    unavailableReason,
    async transcribe({ audio, format, language, signal }) {
      if (signal?.aborted === true) throw signal.reason;
      if (unavailableReason !== undefined) throw new TranscriptionError('stt_unavailable', unavailableReason);
      if (!formats.includes(format)) throw new TranscriptionError('audio_unsupported', `${format} needs ${missingMessage([FAAD_PROGRAM])}; MP3 and WAV work`);
      if (language !== undefined && language.toLowerCase().split(/[-_]/)[0] !== 'en') {
        throw new TranscriptionError('language_unsupported', `The offline recogniser (pocketsphinx) knows English only, not "${language}"`);
      }
      const deadline = new AbortController();
      const timer = options.clock.setTimeout(
        () => deadline.abort(new TranscriptionError('stt_failed', `pocketsphinx did not finish within ${options.timeoutMs} ms`, { retryable: true })),
        options.timeoutMs,
      );
      const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
      try {
        return { text: await recognise(audio, format, combined), language: 'en' };
      } finally {
        options.clock.clearTimeout(timer);
      }
    },
  };
}
