/**
 * SigmaHQ's regression tests (`regression_data/.../info.yml` beside the events as the `evtx` crate's
 * JSON): each names a rule by id and how many of the file's events it must match. The events go through
 * the real input path (the `evtx-json` source format → SequorEvent) and the rule through the pipeline the
 * detector runs (`runCorrelation` of its compiled spec). Held to the stricter reading of PROVENANCE.md:
 * exactly `match_count` where it is given, at least one where it is not.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCorrelation } from '@sequor/engine';
import { frameJsonDocuments, getFormat } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { parse } from 'yaml';
import { compileRule } from './compile.js';
import type { Rule } from './types.js';

export type RegressionOutcome = 'pass' | 'fail' | 'refused' | 'error';

export interface RegressionResult {
  readonly info: string;
  readonly ruleId: string;
  readonly ruleName: string | null;
  readonly testName: string;
  readonly outcome: RegressionOutcome;
  /** `match_count` as given; null: at least one. */
  readonly expected: number | null;
  readonly matched: number | null;
  /** Why the rule was refused or the test could not run. */
  readonly reason: string | null;
}

/** Every `info.yml` under `dir`, sorted. */
export async function listRegressionTests(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name === 'info.yml')
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** An `info.yml` as YAML gives it: any entry may be missing, null or of another type. */
interface InfoFile {
  readonly rule_metadata?: readonly ({ readonly id?: string; readonly title?: string } | null)[];
  readonly regression_tests_info?: readonly ({
    readonly name?: string;
    readonly match_count?: unknown;
    readonly path?: string;
  } | null)[];
}

/** The events of an evtx JSON file, through the `evtx-json` source format. */
export function decodeEvtxJson(text: string, file: string): SequorEvent[] {
  const decoder = getFormat('evtx-json').createDecoder();
  return frameJsonDocuments(text).flatMap((doc) =>
    decoder.decode(doc.bytes, { topic: file, partition: 0, offset: doc.line }),
  );
}

/**
 * A test's `match_count`: null when not given (at least one), the number when a whole number (or its
 * decimal text, as YAML gives a quoted count), undefined when it is anything else.
 */
function matchCount(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Runs the regression tests of `infos` against `rules` (a loaded rule set); `refusals` says why a rule
 * id the set does not hold was refused, when it was (else the test is refused as "not loaded").
 */
export async function runRegressionTests(
  infos: readonly string[],
  rules: readonly Rule[],
  refusals: ReadonlyMap<string, string> = new Map(),
): Promise<RegressionResult[]> {
  const byId = new Map(rules.map((r) => [r.id.toLowerCase(), r]));
  const compiled = new Map<Rule, ReturnType<typeof compileRule>>();
  const results: RegressionResult[] = [];
  for (const info of infos) {
    // A file that cannot be read as a test is one error row: never a crash, never a test that vanishes.
    const unreadable = (reason: string): void => {
      results.push({
        info,
        ruleId: '',
        ruleName: null,
        testName: '',
        outcome: 'error',
        expected: null,
        matched: null,
        reason,
      });
    };
    let doc: InfoFile | null;
    try {
      doc = parse(await readFile(info, 'utf8'), { maxAliasCount: 100 }) as InfoFile | null;
    } catch (error) {
      unreadable(error instanceof Error ? error.message : String(error));
      continue;
    }
    const metas = doc !== null && typeof doc === 'object' ? doc.rule_metadata : undefined;
    const tests = doc !== null && typeof doc === 'object' ? doc.regression_tests_info : undefined;
    const entries = <T>(list: readonly (T | null)[] | undefined): list is readonly T[] =>
      Array.isArray(list) && list.length > 0 && list.every((e) => e !== null && typeof e === 'object');
    if (!entries(metas) || !entries(tests)) {
      unreadable(
        'info.yml needs rule_metadata and regression_tests_info, each a non-empty list of maps (SigmaHQ regression test format)',
      );
      continue;
    }
    for (const meta of metas) {
      const ruleId = String(meta?.id ?? '');
      const rule = byId.get(ruleId.toLowerCase());
      for (const test of tests) {
        const count = matchCount(test?.match_count);
        const expected = typeof count === 'number' ? count : null;
        const base = {
          info,
          ruleId,
          ruleName: rule?.name ?? meta?.title ?? null,
          testName: test?.name ?? '',
          expected,
        };
        if (count === undefined) {
          const reason = `match_count must be a whole number, not ${JSON.stringify(test?.match_count)}`;
          results.push({ ...base, outcome: 'error', matched: null, reason });
          continue;
        }
        if (rule === undefined) {
          // Refused by the loader (the reason it gave), or absent: a test that cannot run fails the command.
          const refusal = refusals.get(ruleId.toLowerCase());
          results.push(
            refusal === undefined
              ? { ...base, outcome: 'error', matched: null, reason: 'the rule is not in the loaded rule set' }
              : { ...base, outcome: 'refused', matched: null, reason: refusal },
          );
          continue;
        }
        const json = path.join(
          path.dirname(info),
          `${path.basename(test?.path ?? `${ruleId}.evtx`).replace(/\.evtx$/i, '')}.json`,
        );
        try {
          const events = decodeEvtxJson(await readFile(json, 'utf8'), json);
          let c = compiled.get(rule);
          if (c === undefined) compiled.set(rule, (c = compileRule(rule)));
          const matched = runCorrelation(
            c.compiled.spec,
            c.compiled.eventTime,
            { allowedLatenessMs: 7 * 86_400_000 },
            events,
          ).length;
          const pass = expected === null ? matched >= 1 : matched === expected;
          results.push({ ...base, outcome: pass ? 'pass' : 'fail', matched, reason: null });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          results.push({ ...base, outcome: 'error', matched: null, reason });
        }
      }
    }
  }
  return results;
}
