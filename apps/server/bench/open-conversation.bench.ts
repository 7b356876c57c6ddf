/**
 * The server's share of opening a long conversation, unpaged against paged: what
 * `GET /api/conversations/:id` reads from the store and shapes into its JSON body — the current
 * messages (all of them, or the newest page of 30), the versions of the turns they show — and the
 * body's size. HTTP and Koa are left out: they cost the same per byte on both sides.
 *
 * The conversation: 100 turns (200 messages, replies of 300–1,500 characters, seeded), ten of them
 * regenerated once, so versions are read too. Backends: SQLite in memory and PostgreSQL at
 * DATABASE_URL (default the test database on loopback, in a throw-away schema dropped afterwards;
 * skipped if unreachable). The two sides alternate, one open at a time; per open: median wall time
 * and this process's CPU (PostgreSQL's own CPU is not included). No assertions: figures only.
 */
import { performance } from 'node:perf_hooks';
import { toConversationSummary, toStoredMessages, type ConversationStore } from '../src/storage/conversation-store.ts';
import { withPostgresBenchStore } from './postgres-bench-store.ts';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';

const TURNS = 100;
const REGENERATED = 10;
const PAGE = 30;
const OPENS = Number(process.env.OPEN_CONVERSATION_OPENS ?? 200);
const clock = { now: () => Date.now() };

/** A reply of 300–1,500 characters, the same on every run. */
function replyText(turn: number): string {
  const length = 300 + ((turn * 7919) % 1200);
  const line = `第 ${turn} 个回答：这一段说明为什么天空是蓝色的，瑞利散射让短波长的光散射得更多。\n`;
  return line.repeat(Math.ceil(length / line.length)).slice(0, length);
}

async function seed(store: ConversationStore): Promise<{ userId: string; conversationId: string }> {
  const user = await store.ensureUser('dev:open-conversation-bench');
  let conversationId: string | undefined;
  for (let turn = 1; turn <= TURNS; turn += 1) {
    const question = `问题 ${turn}：再解释一下？`;
    const started = await store.startTurn(user.id, {
      conversation: conversationId === undefined ? { newTitle: question } : { id: conversationId },
      text: question,
      model: 'bench-model',
    });
    conversationId = started.conversationId;
    await store.updateAssistantMessage(started.reply.id, { text: replyText(turn), status: 'complete', finishReason: 'stop', usage: { promptTokens: 100, completionTokens: 300 } });
    if (turn % (TURNS / REGENERATED) === 0) {
      const again = await store.startRegeneration(user.id, { conversationId, questionId: started.userMessage.id, model: 'bench-model' });
      await store.updateAssistantMessage(again.reply.id, { text: replyText(turn + 1000), status: 'complete', finishReason: 'stop' });
    }
  }
  if (conversationId === undefined) throw new Error('no conversation');
  return { userId: user.id, conversationId };
}

/** What the route does for one open; answers the body's size in bytes. */
async function open(store: ConversationStore, userId: string, conversationId: string, paged: boolean): Promise<number> {
  const conversation = await store.getConversation(userId, conversationId);
  if (conversation === undefined) throw new Error('gone');
  const page = paged ? await store.listMessagePage(userId, conversationId, { limit: PAGE }) : undefined;
  const messages = page?.items ?? (await store.listMessages(userId, conversationId));
  const first = messages[0];
  const last = messages.at(-1);
  const versions = first === undefined || last === undefined ? [] : await store.listTurnVersions(userId, conversationId, { fromTurn: first.turn, toTurn: last.turn });
  const body = JSON.stringify({
    conversation: toConversationSummary(conversation),
    messages: toStoredMessages(messages, versions),
    ...(page === undefined ? {} : { nextCursor: page.nextCursor }),
  });
  return Buffer.byteLength(body);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function compare(label: string, store: ConversationStore): Promise<void> {
  const { userId, conversationId } = await seed(store);
  const sides = [false, true].map((paged) => ({ paged, wall: [] as number[], cpu: [] as number[], bytes: 0 }));
  for (let round = 0; round < OPENS + 10; round += 1) {
    for (const side of sides) {
      const cpuBefore = process.cpuUsage();
      const startedAt = performance.now();
      side.bytes = await open(store, userId, conversationId, side.paged);
      const wall = performance.now() - startedAt;
      const cpu = process.cpuUsage(cpuBefore);
      // The first ten rounds warm up the statements and the JIT.
      if (round >= 10) {
        side.wall.push(wall * 1000);
        side.cpu.push(cpu.user + cpu.system);
      }
    }
  }
  for (const side of sides) {
    console.log(
      `${label.padEnd(20)} ${(side.paged ? `paged (newest ${PAGE})` : 'unpaged (200)').padEnd(18)}` +
        ` ${(side.bytes / 1024).toFixed(1).padStart(6)} KB body, ${median(side.wall).toFixed(0).padStart(6)} µs wall, ${median(side.cpu).toFixed(0).padStart(6)} µs CPU (medians of ${OPENS})`,
    );
  }
}

async function main(): Promise<void> {
  const memory = await openSqliteStore({ path: ':memory:', clock });
  await compare('SQLite :memory:', memory);
  await memory.close();

  await withPostgresBenchStore(clock, (store) => compare('PostgreSQL loopback', store));
}

await main();
