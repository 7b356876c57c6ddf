/**
 * The real share page in miniprogram-simulate (sim-page.ts), with helpers for what its reader sees.
 */
import { blocksText } from './markdown-text.ts';
import { SimPage, type SimPageOptions } from './sim-page.ts';

export class SharePage extends SimPage {
  constructor(options: SimPageOptions = {}) {
    super('pages/share/share', options);
  }

  /** Each bubble's text, read as the chat page's replies are (markdown-text.ts). */
  bubbles(): string[] {
    return this.findAll('.bubble').map((node) => blocksText(node.dom));
  }

  async reachEnd(): Promise<void> {
    await this.dispatch('.list', 'scrolltolower', { direction: 'bottom' });
  }
}
