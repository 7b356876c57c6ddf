/**
 * Asks for the optional comment after a 👎: WeChat's editable modal (`wx.showModal({ editable: true })`).
 *
 * Contract: resolves with the trimmed comment, or undefined when the user skips (跳过), leaves it
 * empty, or the modal fails. A comment longer than MAX_FEEDBACK_COMMENT_CHARS code points is not cut:
 * the user is told the limit and the modal opens again with their text, so nothing they wrote is lost.
 */
import { MAX_FEEDBACK_COMMENT_CHARS } from '../vendor/wxstream-client.js';

export interface ModalResult {
  confirm: boolean;
  content?: string;
}

export interface FeedbackDialogDeps {
  showModal(options: {
    title: string;
    content: string;
    editable: true;
    placeholderText: string;
    confirmText: string;
    cancelText: string;
    success(result: ModalResult): void;
    fail(): void;
  }): void;
  notify(message: string): void;
}

export const FEEDBACK_TITLE = '哪里不满意？';
export const FEEDBACK_PLACEHOLDER = `说说问题（可选，${MAX_FEEDBACK_COMMENT_CHARS} 字以内）`;
export const FEEDBACK_TOO_LONG = `反馈最多 ${MAX_FEEDBACK_COMMENT_CHARS} 字，请精简一下`;

function ask(deps: FeedbackDialogDeps, content: string): Promise<ModalResult | undefined> {
  return new Promise((resolve) => {
    deps.showModal({
      title: FEEDBACK_TITLE,
      content,
      editable: true,
      placeholderText: FEEDBACK_PLACEHOLDER,
      confirmText: '提交',
      cancelText: '跳过',
      success: (result) => resolve(result),
      fail: () => resolve(undefined),
    });
  });
}

export async function askFeedbackComment(deps: FeedbackDialogDeps): Promise<string | undefined> {
  let draft = '';
  for (;;) {
    const result = await ask(deps, draft);
    if (!result?.confirm) return undefined;
    const comment = (result.content ?? '').trim();
    if (comment === '') return undefined;
    if (Array.from(comment).length <= MAX_FEEDBACK_COMMENT_CHARS) return comment;
    deps.notify(FEEDBACK_TOO_LONG);
    draft = comment;
  }
}
