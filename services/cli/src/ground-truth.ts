/**
 * Alerts against a generated scenario's ground truth, exactly: the same rule and the same evidence
 * file:line set for every alert, nothing missing, nothing extra. An alert's evidence names its source as
 * `origin.topic` (the input path `sequor detect` read) and `origin.offset` (the 0-based line), which map
 * back to the ground truth's (file relative to the scenario directory, 1-based line). Used by
 * `npm run demo` and the CLI tests.
 */
import path from 'node:path';
import type { GroundTruth } from '@sequor/scenarios';
import type { Alert, Rule } from '@sequor/rules';

export interface AlertRef {
  readonly rule: string;
  /** `file:line`, sorted. */
  readonly evidence: readonly string[];
}

export interface GroundTruthComparison {
  readonly expected: number;
  readonly matched: number;
  readonly missing: readonly AlertRef[];
  readonly unexpected: readonly AlertRef[];
  readonly nearMisses: number;
  /** Near-misses sharing evidence with an unexpected alert of their rule: what fired that must not. */
  readonly nearMissesFired: readonly AlertRef[];
  readonly exact: boolean;
}

/** Rule id -> ground truth slug (the built-in rule's file name without `.yaml`). */
export function ruleSlugs(rules: readonly Rule[]): Map<string, string> {
  return new Map(rules.map((r) => [r.id, path.basename(r.location.file).replace(/\.ya?ml$/i, '')]));
}

const keyOf = (ref: AlertRef): string => `${ref.rule} ${ref.evidence.join(' ')}`;

/**
 * Compares `alerts` with `truth`. `scenarioDir` is the directory the scenario was generated into, as
 * the detect run named it (relative or absolute: paths are resolved). Evidence in a Zeek JSON mirror
 * file is mapped back to the TSV log it mirrors, where the ground truth names it.
 */
export function compareWithGroundTruth(
  truth: GroundTruth,
  scenarioDir: string,
  alerts: readonly Alert[],
  slugs: ReadonlyMap<string, string>,
): GroundTruthComparison {
  const base = path.resolve(scenarioDir);
  const mirrors = new Map(
    truth.files.flatMap((f) => (f.mirrors === undefined ? [] : [[f.path, f.mirrors] as const])),
  );
  const evidenceOf = (e: Alert['evidence'][number]): string => {
    const topic = e.origin.topic ?? '?';
    let file = path.relative(base, path.resolve(topic)).split(path.sep).join('/');
    let line = (e.origin.offset ?? -1) + 1;
    const mirror = mirrors.get(file);
    if (mirror !== undefined) {
      file = mirror.path;
      line -= mirror.lineOffset;
    }
    return `${file}:${line}`;
  };
  const actual: AlertRef[] = alerts.map((a) => ({
    rule: slugs.get(a.rule.id) ?? a.rule.id,
    evidence: a.evidence.map(evidenceOf).sort(),
  }));
  const expected: AlertRef[] = truth.alerts.map((a) => ({
    rule: a.rule,
    evidence: a.evidence.map((e) => `${e.file}:${e.line}`).sort(),
  }));

  const waiting = new Map<string, AlertRef[]>();
  for (const ref of expected) waiting.set(keyOf(ref), [...(waiting.get(keyOf(ref)) ?? []), ref]);
  const unexpected: AlertRef[] = [];
  let matched = 0;
  for (const ref of actual) {
    const list = waiting.get(keyOf(ref));
    if (list !== undefined && list.length > 0) {
      list.pop();
      matched++;
    } else unexpected.push(ref);
  }
  const missing = [...waiting.values()].flat();
  const nearMissesFired = truth.near_misses
    .map((m) => ({ rule: m.rule, evidence: m.evidence.map((e) => `${e.file}:${e.line}`).sort() }))
    .filter((m) =>
      unexpected.some((u) => u.rule === m.rule && u.evidence.some((e) => m.evidence.includes(e))),
    );
  return {
    expected: expected.length,
    matched,
    missing,
    unexpected,
    nearMisses: truth.near_misses.length,
    nearMissesFired,
    exact: missing.length === 0 && unexpected.length === 0,
  };
}

/** `ground truth: 27/27 alerts match, 0 missing, 0 unexpected; 25 near-misses, none fired`. */
export function formatComparison(c: GroundTruthComparison): string {
  const fired = c.nearMissesFired.length === 0 ? 'none fired' : `${c.nearMissesFired.length} fired`;
  const lines = [
    `ground truth: ${c.matched}/${c.expected} alerts match, ${c.missing.length} missing, ${c.unexpected.length} unexpected; ${c.nearMisses} near-misses, ${fired}`,
  ];
  for (const m of c.missing) lines.push(`  missing:    ${keyOf(m)}`);
  for (const u of c.unexpected) lines.push(`  unexpected: ${keyOf(u)}`);
  return lines.join('\n');
}
