/**
 * The history page's dialogs over WeChat's native ones: an action sheet per conversation, an editable
 * modal to rename, a confirmation to delete, a toast for errors.
 *
 * Contract: every dialog resolves (never rejects): a dismissed sheet is `undefined`, a cancelled or
 * failed modal is `undefined` / `false`. The wx functions come in by injection, typed as just the
 * parts used. The editable modal needs base library 2.17.1; older ones show it without an input and
 * answer without `content`, which reads as a cancel.
 */
import { MAX_TITLE_CHARS } from '../../vendor/wxstream-client.js';
import type { HistoryAction, HistoryDialogs } from './history-controller.ts';

interface WxFail {
  errMsg: string;
}

export interface ModalOptions {
  title: string;
  content: string;
  editable?: boolean;
  placeholderText?: string;
  confirmText?: string;
  confirmColor?: string;
  success(result: { confirm: boolean; cancel: boolean; content?: string }): void;
  fail(error: WxFail): void;
}

export interface DialogWx {
  showModal(options: ModalOptions): unknown;
  showActionSheet(options: { itemList: string[]; success(result: { tapIndex: number }): void; fail(error: WxFail): void }): unknown;
  showToast(options: { title: string; icon: 'none'; duration: number }): unknown;
}

const ACTIONS: readonly { label: string; action: HistoryAction }[] = [
  { label: '重命名', action: 'rename' },
  { label: '删除', action: 'delete' },
];

const TOAST_MS = 2500;

export function createHistoryDialogs(wx: DialogWx): HistoryDialogs {
  return {
    chooseAction() {
      return new Promise((resolve) => {
        wx.showActionSheet({
          itemList: ACTIONS.map((entry) => entry.label),
          success: (result) => resolve(ACTIONS[result.tapIndex]?.action),
          // Tapping outside the sheet is a `fail` with "cancel".
          fail: () => resolve(undefined),
        });
      });
    },
    askTitle(current, hint) {
      return new Promise((resolve) => {
        wx.showModal({
          title: hint === '' ? '重命名对话' : hint,
          content: current,
          editable: true,
          placeholderText: `输入新标题（最多 ${MAX_TITLE_CHARS} 个字）`,
          success: (result) => resolve(result.confirm && typeof result.content === 'string' ? result.content : undefined),
          fail: () => resolve(undefined),
        });
      });
    },
    confirmDelete(title) {
      return new Promise((resolve) => {
        wx.showModal({
          title: '删除对话',
          content: `删除“${title}”后无法恢复。`,
          confirmText: '删除',
          confirmColor: '#d93026',
          success: (result) => resolve(result.confirm),
          fail: () => resolve(false),
        });
      });
    },
    toast(message) {
      wx.showToast({ title: message, icon: 'none', duration: TOAST_MS });
    },
  };
}
