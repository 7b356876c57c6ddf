/**
 * Typed reads of environment-like variables that collect problems instead of throwing, so a
 * loader can report every invalid variable at once (the convention of `src/config.ts`).
 *
 * Contract: an unset or blank variable yields the fallback; an invalid one pushes one problem
 * naming the variable, the rule and the value, and yields the fallback so parsing can go on. The
 * caller throws `ConfigError(problems)` at the end when any were pushed.
 */
import type { Env } from '../config.ts';

export interface EnvReader {
  /** A whole number in [min, max]; signed when `min` is negative. */
  integer(name: string, fallback: number, min: number, max: number): number;
  flag(name: string, fallback: boolean): boolean;
  /** Trimmed text, or undefined when unset or blank. */
  text(name: string): string | undefined;
}

export function createEnvReader(env: Env, problems: string[]): EnvReader {
  const text = (name: string): string | undefined => {
    const trimmed = env[name]?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };
  return {
    text,
    integer(name, fallback, min, max) {
      const raw = text(name);
      if (raw === undefined) return fallback;
      const pattern = min < 0 ? /^[+-]?\d+$/ : /^\d+$/;
      if (!pattern.test(raw)) {
        problems.push(`${name} must be a whole number${min < 0 ? '' : ' (not negative)'}, got "${raw}"`);
        return fallback;
      }
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        problems.push(`${name} must be between ${min} and ${max}, got ${raw}`);
        return fallback;
      }
      // Number('-0') is -0; nobody means that.
      return value === 0 ? 0 : value;
    },
    flag(name, fallback) {
      const raw = text(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
      if (['0', 'false', 'no', 'off'].includes(raw)) return false;
      problems.push(`${name} must be true or false, got "${raw}"`);
      return fallback;
    },
  };
}
