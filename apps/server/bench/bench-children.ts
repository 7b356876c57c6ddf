/**
 * The soak's child processes: forking the emulator and server bench children, asking them over
 * IPC, and stopping them.
 *
 * Contract: `spawnChild` resolves with the child's first message (its `ready`), and rejects if it
 * exits first; children run with --expose-gc so memory samples can be taken after a collection,
 * plus any `nodeFlags` given (the server's: those of `pnpm start`, `serverStartFlags()`).
 * `ask` sends one request and resolves with the next message of the given type — requests to one
 * child are made one at a time by the soak, so answers cannot cross.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly process: ChildProcess;
  readonly ready: Record<string, unknown>;
}

export function spawnChild(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, nodeFlags: readonly string[] = []): Promise<Child> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, { execArgv: ['--expose-gc', ...nodeFlags], stdio: 'inherit', env });
  return new Promise((resolve, reject) => {
    child.once('message', (message: Record<string, unknown>) => resolve({ process: child, ready: message }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

export function ask<T extends { type: string }>(child: Child, type: T['type']): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: T) => {
      if (message.type !== type) return;
      child.process.off('message', onMessage);
      resolve(message);
    };
    child.process.on('message', onMessage);
    child.process.send({ type });
  });
}

export function stopChild(child: Child): Promise<void> {
  return new Promise((resolve) => {
    child.process.once('exit', () => resolve());
    child.process.send({ type: 'stop' });
  });
}

/** What the server child answers to `memory` and `cpu`. */
export interface ServerSample {
  type: 'memory' | 'cpu';
  usage: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  activeReplies: number;
  /** `cpu` answers only: event-loop delay since the previous `cpu` answer, ms. */
  loopDelay?: { p50: number; p99: number; max: number };
}

export interface EmulatorCpu {
  type: 'cpu';
  cpu: NodeJS.CpuUsage;
}

export interface EmulatorClock {
  type: 'clock';
  epochMs: number;
  monotonicMs: number;
}

export const cpuMicros = (usage: NodeJS.CpuUsage) => usage.user + usage.system;

/** The Node flags `pnpm start` runs the server with (apps/server/package.json), so benchmarks run it alike. */
export function serverStartFlags(packageJson: URL = new URL('../package.json', import.meta.url)): string[] {
  const start = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  return start.split(/\s+/).filter((word) => word.startsWith('--'));
}
