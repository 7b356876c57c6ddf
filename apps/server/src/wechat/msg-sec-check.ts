/**
 * Text content security through WeChat's `msgSecCheck` (version 2).
 *
 * Contract: `msgSecCheck` makes one call for one piece of at most 2,500 characters and returns
 * WeChat's overall verdict (`result.suggest`), label and trace id, or rejects with a
 * `WechatApiError`. `createWechatContentChecker` is the `ContentChecker` built on it: a text is
 * split at sentence boundaries into pieces within the limit (`splitForCheck`), pieces that are
 * only whitespace are not sent (WeChat refuses empty content), the pieces are checked at most
 * `maxConcurrentChecks` at a time with the access token cache's one refresh-and-retry, and the
 * worst verdict wins. A risky piece decides even if another piece's check failed.
 *
 * Scene: chat text is checked as scene 2 (评论, comment) for both roles. WeChat's scenes are
 * 1 资料 (profile fields), 2 评论 (comments), 3 论坛 (forum posts), 4 社交日志 (social log): a chat
 * message is a short reply within a conversation, read by the other party, which is what a
 * comment is; the model's reply is the same kind of text in the same place, and checking both
 * roles alike keeps verdicts comparable. `scenes` overrides this.
 *
 * When the check cannot be made (WeChat down, quota, refused configuration), the role's
 * fail-open flag decides: closed rethrows the `WechatApiError` (`wechat_unavailable` or
 * `rate_limited`), open resolves `pass` with `failedOpen: true`; both are logged. The caller's
 * abort is never turned into a verdict.
 */
import type { Logger } from '../logger.ts';
import type { AccessTokenSource } from './access-token-cache.ts';
import type { ContentCheckFailOpen } from './wechat-config.ts';
import { worstResult, type ContentChecker, type ContentCheckResult, type ContentRole, type ContentVerdict } from './content-checker.ts';
import { MSG_SEC_CHECK_MAX_CHARS, splitForCheck } from './reply-check-segmenter.ts';
import { WechatApiError } from './wechat-errors.ts';
import type { WechatHttp } from './wechat-http.ts';

export { MSG_SEC_CHECK_MAX_CHARS } from './reply-check-segmenter.ts';

export const MSG_SEC_CHECK_SCENE = { profile: 1, comment: 2, forum: 3, socialLog: 4 } as const;
export type MsgSecCheckScene = (typeof MSG_SEC_CHECK_SCENE)[keyof typeof MSG_SEC_CHECK_SCENE];

export const DEFAULT_SCENES: Readonly<Record<ContentRole, MsgSecCheckScene>> = {
  user: MSG_SEC_CHECK_SCENE.comment,
  assistant: MSG_SEC_CHECK_SCENE.comment,
};
export const DEFAULT_MAX_CONCURRENT_CHECKS = 4;

export interface MsgSecCheckInput {
  readonly openid: string;
  /** At most `MSG_SEC_CHECK_MAX_CHARS` UTF-16 code units, not only whitespace. */
  readonly content: string;
  readonly scene: MsgSecCheckScene;
  readonly signal?: AbortSignal;
}

export interface MsgSecCheckResult {
  readonly suggest: ContentVerdict;
  readonly label: number | undefined;
  readonly traceId: string | undefined;
}

const VERDICTS: ReadonlySet<string> = new Set<ContentVerdict>(['pass', 'review', 'risky']);

export async function msgSecCheck(http: WechatHttp, accessToken: string, input: MsgSecCheckInput): Promise<MsgSecCheckResult> {
  if (input.content.length > MSG_SEC_CHECK_MAX_CHARS) {
    throw new RangeError(`msgSecCheck content is ${input.content.length} characters; the limit is ${MSG_SEC_CHECK_MAX_CHARS}`);
  }
  const answer = await http.call({
    api: 'msg_sec_check',
    method: 'POST',
    path: '/wxa/msg_sec_check',
    query: { access_token: accessToken },
    body: { content: input.content, version: 2, scene: input.scene, openid: input.openid },
    secrets: [accessToken, input.content],
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  const result = answer.result as { suggest?: unknown; label?: unknown } | undefined;
  const suggest = typeof result === 'object' && result !== null ? result.suggest : undefined;
  if (typeof suggest !== 'string' || !VERDICTS.has(suggest)) {
    throw new WechatApiError('wechat_unavailable', {
      api: 'msg_sec_check',
      failure: 'bad_response',
      detail: 'answer has no result.suggest of pass, review or risky',
    });
  }
  const label = result?.label;
  return {
    suggest: suggest as ContentVerdict,
    label: typeof label === 'number' ? label : undefined,
    traceId: typeof answer.trace_id === 'string' ? answer.trace_id : undefined,
  };
}

export interface WechatContentCheckerDeps {
  readonly http: WechatHttp;
  readonly tokens: AccessTokenSource;
  readonly logger: Logger;
  readonly failOpen: ContentCheckFailOpen;
  readonly scenes?: Readonly<Record<ContentRole, MsgSecCheckScene>>;
  readonly maxConcurrentChecks?: number;
}

type PieceOutcome = { readonly ok: true; readonly result: ContentCheckResult } | { readonly ok: false; readonly error: unknown };

async function mapWithLimit<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function createWechatContentChecker(deps: WechatContentCheckerDeps): ContentChecker {
  const scenes = deps.scenes ?? DEFAULT_SCENES;
  const limit = Math.max(1, deps.maxConcurrentChecks ?? DEFAULT_MAX_CONCURRENT_CHECKS);

  return {
    async checkText({ openid, text, role, signal }) {
      const pieces = splitForCheck(text).filter((piece) => piece.trim() !== '');
      if (pieces.length === 0) return { verdict: 'pass' };

      const outcomes = await mapWithLimit(pieces, limit, async (content): Promise<PieceOutcome> => {
        try {
          const checked = await deps.tokens.withAccessToken((accessToken) =>
            msgSecCheck(deps.http, accessToken, { openid, content, scene: scenes[role], ...(signal === undefined ? {} : { signal }) }),
          );
          const result: ContentCheckResult = {
            verdict: checked.suggest,
            ...(checked.label === undefined ? {} : { label: checked.label }),
            ...(checked.traceId === undefined ? {} : { traceId: checked.traceId }),
          };
          return { ok: true, result };
        } catch (error) {
          return { ok: false, error };
        }
      });
      if (signal?.aborted === true) throw signal.reason;

      const worst = worstResult(outcomes.flatMap((outcome) => (outcome.ok ? [outcome.result] : [])));
      const failure = outcomes.find((outcome) => !outcome.ok);
      if (worst.verdict === 'risky' || failure === undefined) {
        if (worst.verdict !== 'pass') {
          deps.logger.warn(
            { role, verdict: worst.verdict, label: worst.label, traceId: worst.traceId, pieces: pieces.length },
            worst.verdict === 'risky' ? 'WeChat content security blocked a text' : 'WeChat content security suggests a review; text allowed',
          );
        }
        return worst;
      }

      // Only WeChat's failures fall under the policy; anything else is a bug and must surface.
      const error = failure.error;
      if (!(error instanceof WechatApiError)) throw error;
      if (deps.failOpen[role]) {
        deps.logger.warn({ role, ...error.logFields() }, 'content check failed; text let through (CONTENT_CHECK_FAIL_OPEN)');
        return { ...worst, failedOpen: true };
      }
      deps.logger.warn({ role, ...error.logFields() }, 'content check failed; text refused (fail closed)');
      throw error;
    },
  };
}
