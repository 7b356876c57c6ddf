/**
 * The real chat page in miniprogram-simulate (sim-page.ts), with helpers for what a chat test does:
 * type, send, scroll, feed a reply's chunks, read the reply and its status line.
 */
import type { FakeRequestTask } from './fake-wx.ts';
import { blocksText } from './markdown-text.ts';
import { settle, SimPage, type SimPageOptions } from './sim-page.ts';

export { readPath, settle, type SetDataCall, type SimNode } from './sim-page.ts';

export type ChatPageOptions = SimPageOptions;

export class ChatPage extends SimPage {
  constructor(options: ChatPageOptions = {}) {
    super('pages/chat/chat', options);
  }

  /**
   * The text shown as the answer of the last reply (without its reasoning panel and status line): the
   * text of each Markdown block, blocks separated by a blank line — for a reply of plain paragraphs, its
   * source exactly.
   */
  replyText(): string {
    const answers = this.answers();
    return answers[answers.length - 1] ?? '';
  }

  /**
   * The text of every bubble's answer, as `replyText` reads it: blocks separated by a blank line, a code
   * block as its code (lines joined by newlines, without its language label and copy button).
   */
  answers(): string[] {
    return this.findAll('.answer').map((answer) => blocksText(answer.dom));
  }

  statusText(): string {
    const lines = this.findAll('.status');
    return lines[lines.length - 1]?.dom.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  }

  async type(text: string): Promise<void> {
    const input = this.find('.input');
    if (!input) throw new Error('the composer has no input');
    input.dispatchEvent('input', { detail: { value: text, cursor: text.length, keyCode: 0 } });
    await settle();
  }

  /** Types `text` and taps 发送; resolves once the chat request has been made (or refused). */
  async send(text: string): Promise<void> {
    await this.type(text);
    await this.tap('.send');
  }

  async scrollList(scrollTop: number, scrollHeight: number): Promise<void> {
    const list = this.find('.list');
    if (!list) throw new Error('no message list');
    list.dispatchEvent('scroll', { detail: { scrollTop, scrollHeight, scrollLeft: 0, scrollWidth: 390, deltaX: 0, deltaY: 0 } });
    await settle();
  }

  /** Delivers `chunks` one per `intervalMs` of simulated time. */
  async feed(task: FakeRequestTask, chunks: readonly ArrayBuffer[], intervalMs = 40): Promise<void> {
    for (const chunk of chunks) {
      task.chunk(chunk);
      this.timers.tick(intervalMs);
    }
    await settle();
  }
}
