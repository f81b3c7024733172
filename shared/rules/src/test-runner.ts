/**
 * Runs the tests embedded in rule files: each case's ECS JSON events go through the `ecs` source format
 * (as real ECS data would), the rule runs over them through the pipeline the detector runs
 * (`createRuleSetPipeline` with this one rule, its `suppress` included, over an array), and the evidence
 * of each published alert (its events' `event.id`s, in order) is compared with the case's `expect`; a
 * rule with `suppress` publishes only the first alert of a group per window, so `expect` lists those.
 * A case's `expect_updates`, when given, is compared with the suppression updates (opening alert's
 * evidence, count, last evidence; end of input closes every window). `sequor rules test` prints the
 * results as a table.
 */
import { from } from 'rxjs';
import { createRuleSetPipeline } from '@sequor/engine';
import type { CorrelationOptions, Match } from '@sequor/engine';
import { getFormat } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { SequorError } from '@sequor/model';
import type { CompileRuleOptions, CompiledRule } from './compile.js';
import { compileRule } from './compile.js';
import { RuleSetError } from './errors.js';
import type { ExpectedUpdate, Rule, RuleTestCase } from './types.js';

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
  /**
   * The case's `expect_updates` and the updates the rule produced, each as `[opening evidence] +count
   * last [last evidence]`; null when the case has no `expect_updates` (updates not checked).
   */
  readonly expectedUpdates: readonly string[] | null;
  readonly actualUpdates: readonly string[];
  /** Expected updates not produced, and produced but not expected (empty when not checked). */
  readonly missingUpdates: readonly string[];
  readonly unexpectedUpdates: readonly string[];
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

/** Items present in `a` but not in `b`, counting repeats. */
function multisetMinus<T>(a: readonly T[], b: readonly T[]): T[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(JSON.stringify(x), (left.get(JSON.stringify(x)) ?? 0) + 1);
  const out: T[] = [];
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

/** An update as a result line: `[opening evidence] +count last [last evidence]`. */
export function describeExpectedUpdate(update: ExpectedUpdate): string {
  return `[${update.alert.join(', ')}] +${update.count} last [${update.lastEvidence.join(', ')}]`;
}

const evidenceIds = (match: Match<SequorEvent>): string[] => match.events.map((e) => e.event.id);

/**
 * The rule over the events as the detector runs it (one rule set of this rule, `suppress` applied),
 * synchronously; the end of input flushes the reorder stage, the rule's state and its open windows.
 */
function runCase(
  compiled: CompiledRule,
  options: CorrelationOptions<SequorEvent>,
  events: readonly SequorEvent[],
): { alerts: string[][]; updates: ExpectedUpdate[] } {
  const alerts: string[][] = [];
  const updates: ExpectedUpdate[] = [];
  const pipeline = createRuleSetPipeline(
    [{ rule: compiled, spec: compiled.compiled.spec, suppress: compiled.suppress }],
    compiled.compiled.eventTime,
    {
      ...options,
      onSuppressionUpdate: (update) =>
        updates.push({
          alert: evidenceIds(update.opening),
          count: update.suppressed,
          lastEvidence: evidenceIds(update.last),
        }),
    },
  );
  let completed = false;
  let failure: { error: unknown } | undefined;
  from(events)
    .pipe(pipeline.operator)
    .subscribe({
      next: ({ match }) => alerts.push(evidenceIds(match)),
      error: (error: unknown) => (failure = { error }),
      complete: () => (completed = true),
    });
  if (failure !== undefined) throw failure.error;
  if (!completed) throw new SequorError('rule test did not complete synchronously');
  return { alerts, updates };
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
      const expectedUpdates = testCase.expectUpdates?.map(describeExpectedUpdate) ?? null;
      let actual: (readonly string[])[] = [];
      let actualUpdates: string[] = [];
      let error = compileError;
      if (compiled !== null) {
        try {
          if (expectedUpdates !== null && compiled.suppress === null)
            throw new SequorError('`expect_updates` on a rule without `suppress`');
          const run = runCase(compiled, correlation, decodeTestEvents(rule, testCase));
          actual = run.alerts;
          actualUpdates = run.updates.map(describeExpectedUpdate);
        } catch (e) {
          error = describeError(e);
        }
      }
      const missing = multisetMinus(expected, actual);
      const unexpected = multisetMinus(actual, expected);
      const missingUpdates = expectedUpdates === null ? [] : multisetMinus(expectedUpdates, actualUpdates);
      const unexpectedUpdates = expectedUpdates === null ? [] : multisetMinus(actualUpdates, expectedUpdates);
      results.push({
        ...base,
        actual,
        missing,
        unexpected,
        expectedUpdates,
        actualUpdates,
        missingUpdates,
        unexpectedUpdates,
        error,
        passed:
          error === null &&
          missing.length === 0 &&
          unexpected.length === 0 &&
          missingUpdates.length === 0 &&
          unexpectedUpdates.length === 0,
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
      const alerts = `${r.file}: ${r.testName}: missing ${fmt(r.missing)}; unexpected ${fmt(r.unexpected)}`;
      if (r.missingUpdates.length === 0 && r.unexpectedUpdates.length === 0) return alerts;
      const list = (xs: readonly string[]): string => xs.join(' ') || 'none';
      return `${alerts}; updates missing ${list(r.missingUpdates)}; unexpected ${list(r.unexpectedUpdates)}`;
    });
}
