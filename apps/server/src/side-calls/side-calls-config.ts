/**
 * Settings of the model's side calls — a conversation's title and a reply's follow-up questions —
 * read from an environment-like record by a pure function (same conventions as `src/config.ts`).
 *
 * | variable              | default | meaning                                                              |
 * |-----------------------|---------|----------------------------------------------------------------------|
 * | TITLE_GENERATION      | true    | after a conversation's first reply, the model titles it (in the background) |
 * | FOLLOW_UP_SUGGESTIONS | true    | a finished reply offers up to three follow-up questions before `done` |
 * | FOLLOW_UP_TIMEOUT_MS  | 3000    | the longest `done` waits for them; later, none are sent             |
 */
import { ConfigError, type Env } from '../config.ts';
import { createEnvReader } from '../limits/env-reader.ts';

export interface SideCallsConfig {
  readonly titleGeneration: boolean;
  readonly followUpSuggestions: boolean;
  readonly followUpTimeoutMs: number;
}

export const DEFAULT_SIDE_CALLS: SideCallsConfig = { titleGeneration: true, followUpSuggestions: true, followUpTimeoutMs: 3000 };

export function loadSideCallsConfig(env: Env): SideCallsConfig {
  const problems: string[] = [];
  const read = createEnvReader(env, problems);
  const d = DEFAULT_SIDE_CALLS;
  const config: SideCallsConfig = {
    titleGeneration: read.flag('TITLE_GENERATION', d.titleGeneration),
    followUpSuggestions: read.flag('FOLLOW_UP_SUGGESTIONS', d.followUpSuggestions),
    followUpTimeoutMs: read.integer('FOLLOW_UP_TIMEOUT_MS', d.followUpTimeoutMs, 100, 60_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
