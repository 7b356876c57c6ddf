/**
 * A deterministic, LLM-reply-like text corpus for the decoder benchmark, and its chunkings.
 *
 * Contract: `buildLlmCorpus(bytes, seed)` returns the UTF-8 encoding of at least `bytes` bytes of text
 * shaped like what a Chinese chat model streams: mostly Chinese prose with full-width punctuation,
 * English terms and numbers mixed in, markdown headings, lists, bold, tables, fenced code blocks and
 * emoji (including ZWJ sequences and flags, i.e. 4-byte sequences). Same arguments, same bytes.
 * `chunkBytes` cuts it the way `onChunkReceived` does: random sizes 1…max, so characters get split.
 */
import { createSeededRandom, type SeededRandom } from '../test/support/seeded-random.ts';

const CHINESE_WORDS = [
  '我们', '可以', '这个', '问题', '首先', '其次', '最后', '因此', '但是', '如果', '需要', '使用', '方法', '函数',
  '数据', '模型', '流式', '输出', '小程序', '服务器', '客户端', '请求', '响应', '字符', '编码', '解码', '性能',
  '优化', '用户', '界面', '渲染', '网络', '连接', '超时', '重试', '错误', '处理', '配置', '部署', '测试', '结果',
  '例如', '简单', '复杂', '重要', '建议', '注意', '步骤', '实现', '原理', '机制', '算法', '缓存', '内存', '时间',
  '理解', '学习', '知识', '语言', '中文', '英文', '翻译', '总结', '分析', '比较', '选择', '方案', '优点', '缺点',
  '龘', '鬱', '齉', '𠀀', '𪚥', '𤭢',
];
const ENGLISH_TERMS = [
  'JavaScript', 'TypeScript', 'UTF-8', 'SSE', 'HTTP/1.1', 'API', 'JSON', 'Node.js', 'WeChat', 'token', 'stream',
  'chunk', 'buffer', 'TextDecoder', 'setData', 'wx.request', 'OpenAI', 'LLM', 'GPU', 'O(n)', '64 KB', '3.14',
];
const PUNCTUATION = ['，', '，', '，', '。', '。', '；', '：', '！', '？', '、', '……', '——'];
const EMOJI = ['😀', '🚀', '✅', '⚠️', '💡', '🎉', '👍🏽', '👨‍👩‍👧‍👦', '🇨🇳', '❤️', '🔥', '📌', '🧑‍💻'];
const CODE_SNIPPETS = [
  "const decoder = new Utf8StreamDecoder();\nconst text = decoder.decode(chunk, { stream: true });\n",
  "function sum(values) {\n  let total = 0;\n  for (const v of values) total += v;\n  return total;\n}\n",
  "// 注释：逐块解码，保留不完整的字符\nwx.request({ url, enableChunked: true });\n",
  "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
  'SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL \'7 days\';\n',
];

function sentence(random: SeededRandom): string {
  const words = random.range(6, 24);
  let text = '';
  for (let w = 0; w < words; w++) {
    const roll = random.next();
    if (roll < 0.8) text += random.pick(CHINESE_WORDS);
    else if (roll < 0.92) text += ` ${random.pick(ENGLISH_TERMS)} `;
    else if (roll < 0.97) text += random.pick(PUNCTUATION);
    else text += String(random.int(10000));
  }
  text += random.pick(['。', '。', '！', '？', '：']);
  if (random.chance(0.12)) text += random.pick(EMOJI);
  return text;
}

function block(random: SeededRandom): string {
  const roll = random.next();
  if (roll < 0.55) {
    let paragraph = '';
    for (let s = random.range(2, 6); s > 0; s--) paragraph += sentence(random);
    return `${paragraph}\n\n`;
  }
  if (roll < 0.7) return `${'#'.repeat(random.range(1, 3))} ${sentence(random).slice(0, 12)} ${random.pick(EMOJI)}\n\n`;
  if (roll < 0.85) {
    let list = '';
    for (let k = 1, items = random.range(2, 5); k <= items; k++) list += `${k}. **${random.pick(CHINESE_WORDS)}**：${sentence(random)}\n`;
    return `${list}\n`;
  }
  if (roll < 0.93) return `\`\`\`${random.pick(['js', 'ts', 'python', 'sql'])}\n${random.pick(CODE_SNIPPETS)}\`\`\`\n\n`;
  let table = '| 方案 | 优点 | 缺点 |\n| --- | --- | --- |\n';
  for (let r = random.range(2, 4); r > 0; r--) {
    table += `| ${random.pick(ENGLISH_TERMS)} | ${random.pick(CHINESE_WORDS)}${random.pick(CHINESE_WORDS)} | ${random.pick(CHINESE_WORDS)} |\n`;
  }
  return `${table}\n`;
}

export function buildLlmCorpus(minBytes: number, seed: number): Uint8Array {
  const random = createSeededRandom(seed);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < minBytes) {
    const bytes = encoder.encode(block(random));
    parts.push(bytes);
    total += bytes.length;
  }
  const corpus = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    corpus.set(part, offset);
    offset += part.length;
  }
  return corpus;
}

/** Views (no copies) of consecutive chunks of random sizes in 1…maxChunk. */
export function chunkBytes(bytes: Uint8Array, maxChunk: number, seed: number): Uint8Array[] {
  const random = createSeededRandom(seed);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const size = random.range(1, maxChunk);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}
