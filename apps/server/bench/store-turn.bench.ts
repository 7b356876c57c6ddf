/**
 * Storing a chat turn, the old way and the new way side by side: three store calls
 * (`createConversation` + `addUserMessage` + `startAssistantMessage`, three commits; two when the
 * turn continues a conversation) against one `startTurn` transaction — the step of a reply's start
 * between the provider's headers and our `start` event.
 *
 * Backends: SQLite in memory (what the relay benchmark uses), SQLite on a file in WAL mode (the
 * default deployment; a temporary file), and PostgreSQL at DATABASE_URL (default the test
 * database on loopback, in a throw-away schema dropped afterwards; skipped if unreachable).
 * Turns run one at a time; both ways alternate in blocks so drift in machine load hits both. Per
 * turn: wall time (what the reply's first byte waits) and this process's CPU (for PostgreSQL the
 * database server's own CPU is not included). No assertions: figures only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ConversationStore } from '../src/storage/conversation-store.ts';
import { withPostgresBenchStore } from './postgres-bench-store.ts';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';

const BLOCKS = 6;
const clock = { now: () => Date.now() };

interface Way {
  readonly name: string;
  /** Stores a turn's opening; answers the conversation and the reply started. */
  readonly start: (store: ConversationStore, userId: string, conversationId: string | undefined) => Promise<{ conversationId: string; replyId: string }>;
}

const WAYS: readonly Way[] = [
  {
    name: 'three calls',
    start: async (store, userId, conversationId) => {
      const id = conversationId ?? (await store.createConversation(userId, 'bench turn')).id;
      await store.addUserMessage(userId, id, { text: 'bench message' });
      const reply = await store.startAssistantMessage(userId, id, { model: 'bench-model' });
      return { conversationId: id, replyId: reply.id };
    },
  },
  {
    name: 'startTurn',
    start: async (store, userId, conversationId) => {
      const started = await store.startTurn(userId, {
        conversation: conversationId === undefined ? { newTitle: 'bench turn' } : { id: conversationId },
        text: 'bench message',
        model: 'bench-model',
      });
      return { conversationId: started.conversationId, replyId: started.reply.id };
    },
  },
];

/**
 * µs per turn start, wall and CPU, over `turns` turns — new conversations, or continuing one.
 * Only the start is timed; each reply is then ended (untimed) so the next turn may follow it.
 */
async function measure(store: ConversationStore, way: Way, userId: string, turns: number, continuing: boolean): Promise<{ wall: number; cpu: number }> {
  let ongoing: string | undefined;
  if (continuing) {
    const first = await way.start(store, userId, undefined);
    await store.updateAssistantMessage(first.replyId, { status: 'complete' });
    ongoing = first.conversationId;
  }
  let wall = 0;
  let cpu = 0;
  for (let index = 0; index < turns; index += 1) {
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const started = await way.start(store, userId, ongoing);
    wall += performance.now() - startedAt;
    const used = process.cpuUsage(cpuBefore);
    cpu += used.user + used.system;
    await store.updateAssistantMessage(started.replyId, { status: 'complete' });
  }
  return { wall: (wall * 1000) / turns, cpu: cpu / turns };
}

async function compare(label: string, store: ConversationStore, turns: number): Promise<void> {
  const user = await store.ensureUser('dev:store-turn-bench');
  for (const continuing of [false, true]) {
    const totals = WAYS.map(() => ({ wall: 0, cpu: 0 }));
    // The first block of each way is a warm-up and not counted.
    for (let block = 0; block <= BLOCKS; block += 1) {
      for (const [index, way] of WAYS.entries()) {
        const figures = await measure(store, way, user.id, turns, continuing);
        const total = totals[index];
        if (block > 0 && total !== undefined) {
          total.wall += figures.wall / BLOCKS;
          total.cpu += figures.cpu / BLOCKS;
        }
      }
    }
    const [old, now] = totals;
    if (old === undefined || now === undefined) continue;
    console.log(
      `${label.padEnd(20)} ${(continuing ? 'continuing' : 'new conversation').padEnd(17)}` +
        ` three calls ${old.wall.toFixed(0).padStart(5)} µs wall, ${old.cpu.toFixed(0).padStart(4)} µs CPU | ` +
        `startTurn ${now.wall.toFixed(0).padStart(5)} µs wall, ${now.cpu.toFixed(0).padStart(4)} µs CPU | ` +
        `ratio ${(old.wall / now.wall).toFixed(2)}× wall, ${(old.cpu / now.cpu).toFixed(2)}× CPU`,
    );
  }
}

async function main(): Promise<void> {
  const memory = await openSqliteStore({ path: ':memory:', clock });
  await compare('SQLite :memory:', memory, 500);
  await memory.close();

  const directory = mkdtempSync(join(tmpdir(), 'wxstream-store-turn-'));
  try {
    const file = await openSqliteStore({ path: join(directory, 'bench.sqlite'), clock });
    await compare('SQLite file (WAL)', file, 300);
    await file.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }

  await withPostgresBenchStore(clock, (store) => compare('PostgreSQL loopback', store, 100));
}

await main();
