/**
 * The embedded offline synthesizer: espeak-ng for speech, lame to encode MP3. No account, no
 * network — the default when no TTS service is configured, as the offline model is for chat.
 *
 * Contract: see tts-provider.ts. Both programs are looked up on `PATH` once, at construction;
 * when either is missing the provider still exists but every `synthesize` rejects at once with a
 * non-retryable `tts_unavailable` naming the missing program and the Debian packages to install
 * (`unavailableReason` says the same for a startup log line).
 *
 * Voices: with the voice `auto` (the default) each segment is split into runs by script
 * (script-runs.ts) and each run is read by the voice for its language — Chinese by
 * `cmn-latn-pinyin` (the plain `cmn` voice reads the tone numbers of its pinyin aloud), Latin
 * text by an English voice — so `我用 Python 写代码` is not read as pinyin. Any other voice name
 * is passed to espeak-ng for the whole segment.
 *
 * Processes: one `espeak-ng --stdout --stdin` per run (text on stdin, never argv, so a segment
 * starting with `-` is not an option), samples joined, one `lame` to encode; spawned with argument
 * arrays, no shell. `durationMs` comes from the sample count. A deadline on the injected clock and
 * the caller's signal both kill every process still running.
 */
import type { Clock } from '../clock.ts';
import { findProgram, ProgramError, runProgram as sharedRunProgram } from '../process/programs.ts';
import { scriptRuns, type RunLanguage } from './script-runs.ts';
import type { TtsProvider } from './tts-provider.ts';
import { TtsError } from './voice-errors.ts';
import { pcmDurationMs, readWav, samePcmFormat, wavFile, type WavContents } from './wav-pcm.ts';

export const ESPEAK_PROGRAM = 'espeak-ng';
export const LAME_PROGRAM = 'lame';
export const AUTO_VOICE = 'auto';
export const DEFAULT_ESPEAK_CHINESE_VOICE = 'cmn-latn-pinyin';
export const DEFAULT_ESPEAK_ENGLISH_VOICE = 'en-us';
export const DEFAULT_ESPEAK_SPEED_WPM = 175;
export const DEFAULT_ESPEAK_MP3_KBPS = 48;
/** About six minutes of espeak's 22 kHz mono audio; a segment is seconds. */
const MAX_WAV_BYTES = 16 * 1024 * 1024;

export { findProgram };

export interface EspeakTtsOptions {
  /** The `PATH` to search for the programs (pass `process.env.PATH`). */
  readonly pathEnv: string | undefined;
  readonly chineseVoice?: string;
  readonly englishVoice?: string;
  /** What a segment without letters (only digits, say) is read as. Default `zh`. */
  readonly neutralLanguage?: RunLanguage;
  readonly speedWpm?: number;
  readonly mp3Kbps?: number;
  /** Whole synthesis, all processes. */
  readonly timeoutMs: number;
  readonly clock: Clock;
}

export interface EspeakTts extends TtsProvider {
  /** Why every synthesis will fail (a program is missing), or undefined when both were found. */
  readonly unavailableReason: string | undefined;
}

export function missingProgramsMessage(missing: readonly string[]): string {
  const names = missing.join(' and ');
  return `${names} not found on PATH — install the Debian packages ${ESPEAK_PROGRAM} and ${LAME_PROGRAM} (apt-get install -y espeak-ng lame)`;
}

/** Runs one program through the shared runner, its failures as `TtsError`s. */
async function runProgram(name: string, path: string, args: readonly string[], input: Buffer, signal: AbortSignal): Promise<Buffer> {
  try {
    return await sharedRunProgram({ name, path, args, input, signal, maxOutputBytes: MAX_WAV_BYTES });
  } catch (error) {
    if (!(error instanceof ProgramError)) throw error;
    throw new TtsError(error.kind === 'not_started' ? 'tts_unavailable' : 'tts_failed', error.message, { retryable: false, cause: error });
  }
}

export function createEspeakTts(options: EspeakTtsOptions): EspeakTts {
  const espeakPath = findProgram(ESPEAK_PROGRAM, options.pathEnv);
  const lamePath = findProgram(LAME_PROGRAM, options.pathEnv);
  const missing = [espeakPath === undefined ? ESPEAK_PROGRAM : undefined, lamePath === undefined ? LAME_PROGRAM : undefined].filter(
    (name): name is string => name !== undefined,
  );
  const unavailableReason = missing.length === 0 ? undefined : missingProgramsMessage(missing);
  const voices: Readonly<Record<RunLanguage, string>> = {
    zh: options.chineseVoice ?? DEFAULT_ESPEAK_CHINESE_VOICE,
    en: options.englishVoice ?? DEFAULT_ESPEAK_ENGLISH_VOICE,
  };
  const speed = String(options.speedWpm ?? DEFAULT_ESPEAK_SPEED_WPM);
  const kbps = String(options.mp3Kbps ?? DEFAULT_ESPEAK_MP3_KBPS);

  async function speak(espeak: string, lame: string, text: string, voice: string, signal: AbortSignal) {
    const runs = voice === AUTO_VOICE ? scriptRuns(text, options.neutralLanguage ?? 'zh').map((run) => ({ voice: voices[run.language], text: run.text })) : [{ voice, text }];
    const parts: WavContents[] = [];
    for (const run of runs) {
      if (run.text.trim() === '') continue;
      const wav = await runProgram(ESPEAK_PROGRAM, espeak, ['-v', run.voice, '-s', speed, '-b', '1', '--stdout', '--stdin'], Buffer.from(run.text, 'utf8'), signal);
      // espeak-ng writes nothing at all for text it finds nothing to say in.
      if (wav.length === 0) continue;
      const contents = readWav(wav);
      if (contents === undefined) throw new TtsError('tts_failed', `${ESPEAK_PROGRAM} wrote something that is not PCM WAV`, { retryable: false });
      parts.push(contents);
    }
    const first = parts[0];
    if (first === undefined || parts.every((part) => part.pcm.length === 0)) {
      throw new TtsError('tts_failed', `${ESPEAK_PROGRAM} found nothing to say in the segment`, { retryable: false });
    }
    if (!parts.every((part) => samePcmFormat(part.format, first.format))) {
      throw new TtsError('tts_failed', `${ESPEAK_PROGRAM} voices wrote different sample formats; use one voice`, { retryable: false });
    }
    const pcm = Buffer.concat(parts.map((part) => part.pcm));
    const audio = await runProgram(LAME_PROGRAM, lame, ['--quiet', '-m', 'm', '-b', kbps, '-', '-'], wavFile(first.format, pcm), signal);
    if (audio.length === 0) throw new TtsError('tts_failed', `${LAME_PROGRAM} wrote no MP3`, { retryable: false });
    return { audio, format: 'mp3' as const, durationMs: pcmDurationMs(first.format, pcm) };
  }

  return {
    id: 'espeak-ng',
    defaultVoice: AUTO_VOICE,
    unavailableReason,
    async synthesize({ text, voice, signal }) {
      if (signal?.aborted === true) throw signal.reason;
      if (espeakPath === undefined || lamePath === undefined) throw new TtsError('tts_unavailable', unavailableReason ?? missingProgramsMessage(missing));
      const deadline = new AbortController();
      const timer = options.clock.setTimeout(
        () => deadline.abort(new TtsError('tts_failed', `${ESPEAK_PROGRAM} did not finish within ${options.timeoutMs} ms`, { retryable: true })),
        options.timeoutMs,
      );
      const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
      try {
        return await speak(espeakPath, lamePath, text, voice, combined);
      } finally {
        options.clock.clearTimeout(timer);
      }
    },
  };
}
