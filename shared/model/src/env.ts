/**
 * Reading configuration from environment variables, the same way in every package (12-factor): a value
 * is trimmed, unset and blank mean the same (an empty `FOO=` in a compose file asks for the default),
 * and anything unusable is a `ConfigError` naming the variable, the value and what was expected.
 */
import { ConfigError } from './errors.js';

/** Environment variables as a process sees them (`process.env`): what every `...FromEnv` reads. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The trimmed value, or undefined when unset or blank. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `true`/`1` or `false`/`0`, any case; `fallback` when unset. */
export function envBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = envValue(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, env[name], 'true or false');
}

/** A whole number from `min` to `max`; `fallback` when unset. `expected` words the error. */
export function envInteger(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  expected = `a whole number from ${min} to ${max}`,
): number {
  const value = envValue(env, name);
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new ConfigError(name, env[name], expected);
  return n;
}

/** One of `allowed` (given in lower case; the value is matched in any case); `fallback` when unset. */
export function envOneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = envValue(env, name);
  if (value === undefined) return fallback;
  const found = allowed.find((a) => a === value.toLowerCase());
  if (found === undefined) throw new ConfigError(name, env[name], `one of ${allowed.join(', ')}`);
  return found;
}
