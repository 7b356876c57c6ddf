/**
 * The real history page in miniprogram-simulate (sim-page.ts), with helpers for reading its rows and
 * for the gestures a reader makes: tap, long-press, pull down, reach the end of the list.
 */
import { SimPage, type SimPageOptions } from './sim-page.ts';

export type HistoryPageOptions = SimPageOptions;

export class HistoryPage extends SimPage {
  constructor(options: HistoryPageOptions = {}) {
    super('pages/history/history', options);
  }

  titles(): string[] {
    return this.findAll('.item-title').map((node) => node.dom.textContent ?? '');
  }

  times(): string[] {
    return this.findAll('.item-time').map((node) => node.dom.textContent ?? '');
  }

  private row(index: number) {
    const row = this.findAll('.item')[index];
    if (!row) throw new Error(`no row ${index}; the list has ${this.findAll('.item').length}`);
    return row;
  }

  async tapRow(index: number): Promise<void> {
    this.row(index).dispatchEvent('tap');
    await this.advance(0);
  }

  async longPressRow(index: number): Promise<void> {
    this.row(index).dispatchEvent('longpress');
    await this.advance(0);
  }

  /** The pull-down refresher fires (the scroll-view's `refresherrefresh`). */
  async pullDown(): Promise<void> {
    await this.dispatch('.list', 'refresherrefresh', { dy: 60 });
  }

  /** The list is scrolled to its end (the scroll-view's `scrolltolower`). */
  async reachBottom(): Promise<void> {
    await this.dispatch('.list', 'scrolltolower', { direction: 'bottom' });
  }
}
