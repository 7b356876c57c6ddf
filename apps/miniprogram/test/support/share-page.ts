/**
 * The real share page in miniprogram-simulate (sim-page.ts), with helpers for what its reader sees.
 */
import { SimPage, type SimPageOptions } from './sim-page.ts';

export class SharePage extends SimPage {
  constructor(options: SimPageOptions = {}) {
    super('pages/share/share', options);
  }

  bubbles(): string[] {
    return this.findAll('.bubble').map((node) => node.dom.textContent ?? '');
  }

  async reachEnd(): Promise<void> {
    await this.dispatch('.list', 'scrolltolower', { direction: 'bottom' });
  }
}
