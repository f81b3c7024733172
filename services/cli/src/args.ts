/**
 * Argument parsing on `node:util` parseArgs (no framework): one call per command, errors turned into
 * UsageErrors naming the option, and value checks for numbers.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** parseArgs in strict mode; its errors (`Unknown option '--x'`) become UsageErrors. */
export function parseCommandArgs(args: readonly string[], options: OptionSpecs): ParsedArgs {
  try {
    const parsed = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    // A value option given twice would keep its last value silently (`--tags a --tags b` runs only b's).
    const seen = new Set<string>();
    for (const token of parsed.tokens) {
      if (token.kind !== 'option' || options[token.name]?.type !== 'string' || options[token.name]?.multiple)
        continue;
      if (seen.has(token.name))
        throw new UsageError(
          `--${token.name} is given more than once: give it once${token.name === 'tags' || token.name === 'status' ? ', with a comma-separated list' : ''}`,
        );
      seen.add(token.name);
    }
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      // Node's messages carry a hint sentence about `--` and positional values: keep the first sentence.
      const message = (error as Error).message.split('. ')[0]?.replace(/\.$/, '') ?? String(error);
      throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
    }
    throw error;
  }
}

export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(values: ParsedArgs['values'], name: string): boolean {
  return values[name] === true;
}

/** An integer option within [min, max]; `fallback` when absent. */
export function integerOption(
  values: ParsedArgs['values'],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!/^-?[\d_]+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** A finite number within [min, max]. */
export function numberOption(
  values: ParsedArgs['values'],
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as milliseconds: `5000`, `5000ms`, `30s`, `2m`, `1h` (a bare number is milliseconds). */
export function durationOption(
  values: ParsedArgs['values'],
  name: string,
  fallback: number | undefined,
): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const m = DURATION.exec(text.trim());
  if (m === null)
    throw new UsageError(
      `--${name} must be a duration such as 5000, 30s, 2m or 1h, got ${JSON.stringify(text)}`,
    );
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] as number));
}

export function noPositionals(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0)
    throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(positionals[0])}`);
}

/**
 * `--no-builtins`: run only the given rules (false), else the built-ins too (true). Without rule paths
 * there would be nothing to run: a usage error naming `what` takes them.
 */
export function builtinsOption(
  values: ParsedArgs['values'],
  paths: readonly string[],
  what: string,
): boolean {
  if (!flag(values, 'no-builtins')) return true;
  if (paths.length === 0) throw new UsageError(`--no-builtins needs rules to run: give ${what}`);
  return false;
}
