/**
 * Runs the tests embedded in rule files: each case's ECS JSON events go through the `ecs` source format
 * (as real ECS data would), the rule runs over them through the pipeline the detector runs (`runCorrelation`:
 * `createRuleSetPipeline` with this one rule, over an array), and the evidence
 * of each alert (its events' `event.id`s, in order) is compared with the case's `expect`. `sequor rules
 * test` prints the results as a table.
 */
import { runCorrelation } from '@sequor/engine';
import type { CorrelationOptions } from '@sequor/engine';
import { getFormat } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import type { CompileRuleOptions } from './compile.js';
import { compileRule } from './compile.js';
import { RuleSetError } from './errors.js';
import type { Rule, RuleTestCase } from './types.js';

export interface RuleTestResult {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly file: string;
  readonly testName: string;
  readonly passed: boolean;
  /** Expected evidence lists, as written. */
  readonly expected: readonly (readonly string[])[];
  /** Evidence lists the rule produced, in emission order. */
  readonly actual: readonly (readonly string[])[];
  /** Expected but not produced (multiset difference). */
  readonly missing: readonly (readonly string[])[];
  /** Produced but not expected. */
  readonly unexpected: readonly (readonly string[])[];
  /** Set when the case could not run (the rule does not compile, an event does not decode). */
  readonly error: string | null;
}

export interface RuleTestOptions extends Pick<CompileRuleOptions, 'catalog'> {
  /**
   * How far out of order test events may be listed. Default one week: test cases list events in any order
   * and the driver sorts them by event time, so a case tests the rule's logic, not the arrival order.
   */
  readonly allowedLatenessMs?: number;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** Evidence lists present in `a` but not in `b`, counting repeats. */
function multisetMinus(
  a: readonly (readonly string[])[],
  b: readonly (readonly string[])[],
): (readonly string[])[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(JSON.stringify(x), (left.get(JSON.stringify(x)) ?? 0) + 1);
  const out: (readonly string[])[] = [];
  for (const x of a) {
    const k = JSON.stringify(x);
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else out.push(x);
  }
  return out;
}

/** The test case's events as the ecs format decodes them (origin: the rule file and case, line = index). */
export function decodeTestEvents(rule: Rule, testCase: RuleTestCase): SequorEvent[] {
  const decoder = getFormat('ecs').createDecoder();
  const topic = `${rule.location.file}#${testCase.name}`;
  const encoder = new TextEncoder();
  return testCase.events.flatMap((doc, offset) =>
    decoder.decode(encoder.encode(JSON.stringify(doc)), { topic, partition: 0, offset }),
  );
}

function describeError(error: unknown): string {
  if (error instanceof RuleSetError) return error.errors.map((e) => e.message).join('; ');
  return error instanceof Error ? error.message : String(error);
}

/** Runs every embedded test case of every rule; one result per (rule, case). Never throws for a bad rule. */
export function runRuleTests(rules: readonly Rule[], options: RuleTestOptions = {}): RuleTestResult[] {
  const correlation: CorrelationOptions<SequorEvent> = {
    allowedLatenessMs: options.allowedLatenessMs ?? WEEK_MS,
  };
  const results: RuleTestResult[] = [];
  for (const rule of rules) {
    let compiled: ReturnType<typeof compileRule> | null = null;
    let compileError: string | null = null;
    try {
      compiled = compileRule(rule, { catalog: options.catalog });
    } catch (error) {
      compileError = describeError(error);
    }
    for (const testCase of rule.tests) {
      const expected = testCase.expect.map((x) => x.evidence);
      const base = {
        ruleId: rule.id,
        ruleName: rule.name,
        file: rule.location.file,
        testName: testCase.name,
        expected,
      };
      let actual: (readonly string[])[] = [];
      let error = compileError;
      if (compiled !== null) {
        try {
          const events = decodeTestEvents(rule, testCase);
          const matches = runCorrelation(
            compiled.compiled.spec,
            compiled.compiled.eventTime,
            correlation,
            events,
          );
          actual = matches.map((m) => m.events.map((e) => e.event.id));
        } catch (e) {
          error = describeError(e);
        }
      }
      const missing = multisetMinus(expected, actual);
      const unexpected = multisetMinus(actual, expected);
      results.push({
        ...base,
        actual,
        missing,
        unexpected,
        error,
        passed: error === null && missing.length === 0 && unexpected.length === 0,
      });
    }
  }
  return results;
}

/** One line per failed case: what was missing and what was unexpected (for logs and test failures). */
export function describeFailures(results: readonly RuleTestResult[]): string[] {
  return results
    .filter((r) => !r.passed)
    .map((r) => {
      const fmt = (xs: readonly (readonly string[])[]): string =>
        xs.map((x) => `[${x.join(', ')}]`).join(' ') || 'none';
      if (r.error !== null) return `${r.file}: ${r.testName}: error: ${r.error}`;
      return `${r.file}: ${r.testName}: missing ${fmt(r.missing)}; unexpected ${fmt(r.unexpected)}`;
    });
}
