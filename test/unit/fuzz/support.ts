/**
 * Shared settings and checks for the fuzz/property tests (issue 17): reproducible by default, widened by
 * environment variables for a longer local or nightly run.
 *
 * - `FUZZ_SEED=<int>`: the seed of every property (default fixed, so CI is deterministic). fast-check
 *   prints the seed and the shrunk counterexample of a failure; rerun with that seed to reproduce it.
 * - `FUZZ_RUNS=<int>`: runs per property instead of each property's default.
 * - `FUZZ_HANG_MS=<int>`: the per-input bound on CPU time (default 1 s). It is a hang guard, not a
 *   benchmark: inputs are at most a few hundred KiB, which take a few milliseconds to decode or parse.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type fc from 'fast-check';

const DEFAULT_SEED = 17_2024;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

export const fuzzSeed: number = envInt('FUZZ_SEED') ?? DEFAULT_SEED;
const runsOverride = envInt('FUZZ_RUNS');
export const hangMs: number = envInt('FUZZ_HANG_MS') ?? 1_000;

/** `fc.assert` parameters: the fixed (or FUZZ_SEED) seed and `defaultRuns` (or FUZZ_RUNS) runs. */
export function fuzzParams<T>(defaultRuns: number): fc.Parameters<T> {
  // Stop (and shrink what failed so far) well before vitest's timeout: shrinking slow inputs is slow.
  return {
    seed: fuzzSeed,
    numRuns: runsOverride ?? defaultRuns,
    interruptAfterTimeLimit: Math.floor(fuzzTimeout(defaultRuns) * 0.7),
  };
}

/** Vitest timeout for a property of `defaultRuns` runs: generous, and scaled when FUZZ_RUNS asks for more. */
export function fuzzTimeout(defaultRuns: number, baseMs = 60_000): number {
  return Math.ceil(baseMs * Math.max(1, (runsOverride ?? defaultRuns) / defaultRuns));
}

/**
 * Runs `f`, failing when it takes more CPU time than the hang bound three times in a row. CPU time, not
 * wall time, so a busy shared machine (CI, or several test runs at once) does not fail it, while a hang
 * or a super-linear input, which burns CPU, does. Slow inputs are slow every time; a GC pause is not,
 * hence the retries (every `f` here is pure, or idempotent for the same input, so running it again
 * changes nothing).
 */
export function withinBound<T>(what: string, f: () => T): T {
  const times: number[] = [];
  for (;;) {
    const start = process.cpuUsage();
    let result: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      result = { ok: true, value: f() };
    } catch (error) {
      result = { ok: false, error };
    }
    const used = process.cpuUsage(start);
    const elapsed = (used.user + used.system) / 1000;
    if (elapsed <= hangMs) {
      if (!result.ok) throw result.error;
      return result.value;
    }
    times.push(elapsed);
    if (times.length === 3) {
      throw new Error(
        `${what} took ${times.map((t) => t.toFixed(0)).join(', ')} ms of CPU (bound ${hangMs} ms): a hang or super-linear input`,
      );
    }
  }
}

/** A short, printable view of an input for failure messages. */
export function preview(input: string | Uint8Array, max = 300): string {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
}

/** `global.gc` without `--expose-gc` on the command line (V8 lets a running process turn the flag on). */
const gc: (() => void) | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Heap growth (bytes) over `rounds` repetitions of `work`, measured after a full GC once warm. Work that
 * keeps no state between calls grows the heap by about nothing; a cache, a leak or state that accumulates
 * per input grows it by rounds x inputs. Without a GC to call the figure is coarse, so callers bound it
 * generously (see `heapBound`).
 */
export function heapGrowth(work: () => void, rounds: number): number {
  work();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < rounds; i++) work();
  gc?.();
  return process.memoryUsage().heapUsed - before;
}

/** The heap-growth bound: 16 MiB with an exact GC, 256 MiB when only a coarse figure is available. */
export const heapBound: number = gc === undefined ? 256 * 1024 * 1024 : 16 * 1024 * 1024;

export const utf8 = new TextEncoder();

/** Odd text: lone surrogates, NUL, controls, bidi overrides, BOM, combining marks, astral characters. */
export const ODD_TEXT: readonly string[] = [
  '\ud800',
  '\udfff',
  '\udc00\ud800',
  '\u0000',
  '\u0001\u001f\u007f',
  '\u202e',
  '\u200f\u202b',
  '\ufeff',
  '\u0301\u0301\u0301',
  '😀',
  '\u2028\u2029',
  '\r\n',
  '\t',
  '\\',
  '"',
  '%s%n',
  '${x}',
  '../../etc/passwd',
];
