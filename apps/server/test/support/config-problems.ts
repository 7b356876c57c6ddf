/** The problems a configuration loader reports (its `ConfigError`), or none when it loads. */
import { ConfigError } from '../../src/config.ts';

export function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
