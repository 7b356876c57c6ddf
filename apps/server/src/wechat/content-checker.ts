/**
 * What the chat needs from a content check, independent of who performs it.
 *
 * Contract: `checkText` judges one text written by the user or by the model, for the user with
 * that openid, and resolves with a verdict — or rejects with a `WxstreamError` when the check
 * could not be made and the checker fails closed (see wechat-config.ts), or with the caller's
 * abort reason. Verdicts follow WeChat's `suggest`: `pass`; `review` (the detector is unsure and
 * suggests human review); `risky`. Only `risky` blocks: `review` also comes back for harmless
 * text, and a chat that refuses on doubt refuses too often. The WeChat checker logs every `review`
 * and `risky` with its label and trace id (never the text), so an operator can look at them.
 * `NoContentChecker` passes everything; it stands in when no WeChat credentials are configured.
 */
import { WxstreamError } from '@wxstream/protocol';

export type ContentVerdict = 'pass' | 'review' | 'risky';
export type ContentRole = 'user' | 'assistant';

export interface ContentCheckInput {
  readonly openid: string;
  readonly text: string;
  readonly role: ContentRole;
  readonly signal?: AbortSignal;
}

export interface ContentCheckResult {
  readonly verdict: ContentVerdict;
  /** WeChat's label of the worst finding: 100 normal, 10001 ads, 20001 politics, 20002 porn, 20003 abuse, 20006 crime, 20008 fraud, 20012 vulgar, 20013 copyright, 21000 other. */
  readonly label?: number;
  /** WeChat's trace id of the request that gave the verdict, for WeChat support and audits. */
  readonly traceId?: string;
  /** True when the check could not run and the text was let through by the fail-open policy. */
  readonly failedOpen?: boolean;
}

export interface ContentChecker {
  checkText(input: ContentCheckInput): Promise<ContentCheckResult>;
}

export class NoContentChecker implements ContentChecker {
  async checkText(_input: ContentCheckInput): Promise<ContentCheckResult> {
    return { verdict: 'pass' };
  }
}

const SEVERITY: Readonly<Record<ContentVerdict, number>> = { pass: 0, review: 1, risky: 2 };

/** The most severe of several results (the first of equals), e.g. over the pieces of a long text. */
export function worstResult(results: readonly ContentCheckResult[]): ContentCheckResult {
  let worst: ContentCheckResult | undefined;
  for (const result of results) if (worst === undefined || SEVERITY[result.verdict] > SEVERITY[worst.verdict]) worst = result;
  return worst ?? { verdict: 'pass' };
}

export function isBlocked(result: ContentCheckResult): boolean {
  return result.verdict === 'risky';
}

/** Throws `content_blocked` when the result blocks the text; the message never quotes the text. */
export function assertContentAllowed(result: ContentCheckResult, role: ContentRole): void {
  if (!isBlocked(result)) return;
  const what = role === 'user' ? 'The message' : 'The reply';
  const label = result.label === undefined ? '' : ` (label ${result.label})`;
  throw new WxstreamError('content_blocked', `${what} was blocked by WeChat content security${label}`);
}
