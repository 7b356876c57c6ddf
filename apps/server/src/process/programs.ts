/**
 * Finding and running the external programs the offline speech features use (espeak-ng, lame,
 * sox, faad, pocketsphinx), the same way everywhere.
 *
 * Contract: `findProgram(name, PATH)` is the absolute path of an executable `name` on that PATH, or
 * undefined. `runProgram` spawns one program with an argument array (no shell), writes `input`
 * (if any) to its stdin, and resolves with everything it wrote to stdout once it exits with 0. It
 * rejects with a `ProgramError` — `not_started` (missing or not executable), `failed` (non-zero
 * exit, with the start of its stderr), `output_too_large` (more than `maxOutputBytes` on stdout;
 * the process is killed) — or with the signal's reason when `signal` aborts, after killing the
 * process. Callers map these to their own error codes.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const MAX_STDERR_CHARS = 300;

export function findProgram(name: string, pathEnv: string | undefined): string | undefined {
  for (const directory of (pathEnv ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

export type ProgramErrorKind = 'not_started' | 'failed' | 'output_too_large';

export class ProgramError extends Error {
  readonly kind: ProgramErrorKind;

  constructor(kind: ProgramErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProgramError';
    this.kind = kind;
  }
}

export interface RunProgramOptions {
  /** For messages: the program's usual name. */
  readonly name: string;
  /** Absolute path (from `findProgram`). */
  readonly path: string;
  readonly args: readonly string[];
  /** Written to stdin, which is then closed; stdin is closed at once without it. */
  readonly input?: Buffer;
  readonly signal: AbortSignal;
  readonly maxOutputBytes: number;
}

export function runProgram(options: RunProgramOptions): Promise<Buffer> {
  const { name, signal, maxOutputBytes } = options;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(options.path, options.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let settled = false;
    const finish = (error: unknown, output?: Buffer) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (output !== undefined && error === undefined) resolve(output);
      else reject(error);
    };
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      const kind = error.code === 'ENOENT' || error.code === 'EACCES' ? 'not_started' : 'failed';
      finish(new ProgramError(kind, `${name} could not be started: ${error.message}`, { cause: error }));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxOutputBytes) {
        child.kill('SIGKILL');
        finish(new ProgramError('output_too_large', `${name} wrote more than ${maxOutputBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < MAX_STDERR_CHARS) stderr += text;
    });
    // A program that exits before reading all its input closes the pipe; its exit status says why.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, killedBy) => {
      if (code === 0) finish(undefined, Buffer.concat(chunks));
      else {
        const detail = stderr.trim().slice(0, MAX_STDERR_CHARS);
        finish(new ProgramError('failed', `${name} exited with ${code ?? killedBy}${detail === '' ? '' : `: ${detail}`}`));
      }
    });
    child.stdin.end(options.input);
  });
}
