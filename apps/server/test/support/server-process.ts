/**
 * The real server as a child process (`node src/main.ts`), for what only a process can show: a
 * signal handled, an exit code, a death without a goodbye (SIGKILL).
 *
 * Contract: `spawnServerProcess(env)` starts the entry in a fresh working directory (so a default
 * database file lands there, and is removed when the process exits) with only PATH, HOST 127.0.0.1,
 * PORT 0 and `env`; `listening` resolves to the server's URL from its `listening` log record, or
 * rejects if it exits first; `records` are its JSON log lines so far. The caller kills it in a
 * `finally`.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const serverEntry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly cwd: string;
  readonly records: Array<Record<string, unknown>>;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  readonly listening: Promise<string>;
  stderr(): string;
}

export function spawnServerProcess(env: Record<string, string>): ServerProcess {
  const cwd = mkdtempSync(join(tmpdir(), 'wxstream-server-'));
  const child = spawn(process.execPath, [serverEntry], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.on('data', (bytes: Buffer) => (stderr += bytes.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      records.push(record);
      if (record.msg === 'listening') resolve(String(record.url));
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
  void exited.then(() => rmSync(cwd, { recursive: true, force: true }));
  return { child, cwd, records, exited, listening, stderr: () => stderr };
}
