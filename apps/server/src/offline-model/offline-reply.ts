/**
 * What the embedded offline model says: that no model is configured, and how to configure one.
 *
 * Contract: pure. `composeOfflineReply(question)` returns the reasoning and answer texts — Chinese
 * with some English, markdown, one code block, emoji — acknowledging the user's question (quoted,
 * whitespace collapsed, cut at 80 characters on a grapheme boundary). `splitIntoChunks` cuts text
 * into small pieces of a few graphemes each, in a fixed rhythm, the way a model's tokens arrive;
 * it never splits a grapheme (an emoji with its modifiers stays whole). The side questions get
 * answers of their kind: `composeOfflineTitle(question)` the question's first whole words (at
 * most `OFFLINE_TITLE_GRAPHEMES`, closing punctuation dropped), `OFFLINE_FOLLOW_UPS` three questions
 * about what the offline model can answer — how to configure a model.
 */

export const QUESTION_ECHO_MAX_GRAPHEMES = 80;

const graphemes = new Intl.Segmenter('zh', { granularity: 'grapheme' });

function graphemesOf(text: string): string[] {
  return Array.from(graphemes.segment(text), (part) => part.segment);
}

export function echoQuestion(question: string): string {
  const collapsed = question.replace(/\s+/g, ' ').trim();
  const parts = graphemesOf(collapsed);
  return parts.length > QUESTION_ECHO_MAX_GRAPHEMES ? `${parts.slice(0, QUESTION_ECHO_MAX_GRAPHEMES).join('')}…` : collapsed;
}

export interface OfflineReply {
  readonly reasoning: string;
  readonly answer: string;
}

export function composeOfflineReply(question: string): OfflineReply {
  const echo = echoQuestion(question);
  const reasoning = `用户问的是「${echo}」。服务器没有配置模型（no model configured），我只能说明如何接入一个真正的模型。`;
  const answer = [
    '👋 你好！我是 **wxstream 内置的离线模型**（offline model）。',
    '',
    `> 你的问题：${echo}`,
    '',
    '抱歉，我还不能真正回答它 —— 这台服务器 **还没有配置大模型**，所以你看到的是一段预先写好的说明。',
    '好消息是：流式传输已经跑通了 ✅ 每一个字都是服务器一小块一小块推送过来的。',
    '',
    '### 🔧 接入真正的模型（How to configure a model）',
    '',
    '启动服务器前设置环境变量 `OPENAI_API_KEY`、`OPENAI_BASE_URL` 和 `OPENAI_MODEL`：',
    '',
    '```bash',
    '# OpenAI',
    'OPENAI_API_KEY=sk-... OPENAI_MODEL=gpt-4o-mini pnpm start',
    '',
    '# DeepSeek',
    'OPENAI_API_KEY=sk-... OPENAI_BASE_URL=https://api.deepseek.com OPENAI_MODEL=deepseek-chat pnpm start',
    '',
    '# Ollama（本地运行，不需要 key / no key needed）',
    'OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=qwen2.5:7b pnpm start',
    '```',
    '',
    '任何兼容 OpenAI 接口的服务都可以（Qwen、Moonshot、vLLM…）。配置好之后重启服务器，再问我一次吧 🚀',
  ].join('\n');
  return { reasoning, answer };
}

/** Graphemes per chunk, cycled: uneven like real tokens, deterministic for tests. */
const RHYTHM = [3, 5, 2, 4, 6, 3, 4];

export const OFFLINE_TITLE_GRAPHEMES = 16;

const words = new Intl.Segmenter('zh', { granularity: 'word' });

export function composeOfflineTitle(question: string): string {
  let title = '';
  // Whole words only, so a title never ends in the middle of "DeepSeek".
  for (const { segment } of words.segment(question.replace(/\s+/g, ' ').trim())) {
    if (graphemesOf(title + segment).length > OFFLINE_TITLE_GRAPHEMES) break;
    title += segment;
  }
  title = title.replace(/[。．.!！?？,，;；:：、\s]+$/u, '');
  return title === '' ? '离线模型的说明' : title;
}

/** One per line, as a model asked for follow-up questions answers. */
export const OFFLINE_FOLLOW_UPS = ['怎么接入 DeepSeek？', '可以用本地的 Ollama 吗？', '还支持哪些模型？'];

export function splitIntoChunks(text: string): string[] {
  const parts = graphemesOf(text);
  const chunks: string[] = [];
  let at = 0;
  for (let beat = 0; at < parts.length; beat += 1) {
    const size = RHYTHM[beat % RHYTHM.length] ?? 4;
    chunks.push(parts.slice(at, at + size).join(''));
    at += size;
  }
  return chunks;
}
