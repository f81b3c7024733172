/**
 * Fuzz/property tests of the rule loader (issue 17): mutations of the built-in rule files (lines dropped,
 * duplicated, swapped, re-indented; YAML syntax and EQL tokens inserted; values swapped for odd ones),
 * random YAML, and hostile YAML (alias bombs, deep nesting, huge scalars, many keys). Every file gives a
 * rule or RuleFileErrors naming the file at a line:column inside it, never an exception, within the hang
 * bound; a folder of hostile files loads with every file accounted for; the heap stays flat.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuleFileResult } from '@sequor/rules';
import {
  analyzeRuleText,
  builtinRulesDir,
  listRuleFiles,
  loadRuleDir,
  RuleFileError,
  ruleKeys,
} from '@sequor/rules';
import {
  fuzzParams,
  fuzzSeed,
  fuzzTimeout,
  heapBound,
  heapGrowth,
  ODD_TEXT,
  preview,
  withinBound,
} from './support.js';

// ---- seeds: the built-in rule files ----

const builtinFiles = await listRuleFiles(builtinRulesDir);
const SEEDS: readonly string[] = await Promise.all(builtinFiles.map((f) => readFile(f, 'utf8')));

// ---- the property ----

/** Line and column of `offset` as YAML's LineCounter counts them (lines end at `\n`). */
/** Line and column of `offset`, breaking lines at `\r\n`, `\r` and `\n` as YAML (and the caret renderer) do. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const lines = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: lines.length, column: (lines.at(-1) as string).length + 1 };
}

function expectFileError(text: string, file: string, e: RuleFileError): void {
  expect(e).toBeInstanceOf(RuleFileError);
  expect(e.file).toBe(file);
  expect(e.offset, e.message).toBeGreaterThanOrEqual(0);
  expect(e.offset, e.message).toBeLessThanOrEqual(text.length);
  expect(e.length).toBeGreaterThanOrEqual(1);
  expect(
    { line: e.line, column: e.column },
    `position of ${JSON.stringify(e.message.slice(0, 200))}`,
  ).toEqual(lineColumn(text, e.offset));
  expect(e.message.startsWith(`${file}:${e.line}:${e.column}: `)).toBe(true);
  expect(e.snippet.startsWith(`${file}:${e.line}:${e.column}: `)).toBe(true);
}

type Outcome = 'rule' | 'errors';

/** One file's text through the loader's per-file analysis: a rule, or positioned errors; never a throw. */
function checkRuleText(text: string, file = 'fuzz.yaml'): Outcome {
  let result: RuleFileResult;
  try {
    result = withinBound('analyzeRuleText', () => analyzeRuleText(text, file));
  } catch (e) {
    throw new Error(
      `analyzeRuleText threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} on ${preview(text, 600)}`,
      { cause: e },
    );
  }
  expect(result.file).toBe(file);
  for (const e of [...result.errors, ...result.warnings]) expectFileError(text, file, e);
  expect(result.errors.every((e) => e.level === 'error')).toBe(true);
  expect(result.warnings.every((e) => e.level === 'warning')).toBe(true);
  if (result.errors.length === 0) {
    expect(result.rule, 'no errors but no rule').not.toBeNull();
    return 'rule';
  }
  expect(result.rule).toBeNull();
  return 'errors';
}

// ---- generators ----

const YAML_BITS: readonly string[] = [
  ':',
  ': ',
  '"',
  "'",
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '<<: *a',
  '!',
  '!!str ',
  '!!binary ',
  '!!js/function ',
  '!<tag:x> ',
  '|',
  '>-',
  '|+2',
  '#',
  '- ',
  '? ',
  '%YAML 1.2\n',
  '---\n',
  '\n...\n',
  '\n',
  '\r\n',
  '\r',
  '  ',
  '\t',
  '\\',
  '@',
  '`',
  '$',
  '$process.name$',
  '$',
  '~',
  'null',
  '.inf',
  '0x1F',
  '1e999',
  '-1',
  '2147483648',
  '==',
  ' and ',
  ' or (',
  '"*\\\\*"',
  'sequence by host.id [',
  ' | head 1',
  '\ufeff',
  ...ODD_TEXT,
];

const ODD_VALUES: readonly string[] = [
  '',
  '~',
  'null',
  '[]',
  '{}',
  '[1, 2]',
  '{a: 1}',
  '-1',
  '0',
  '1.5',
  '1e999',
  '.nan',
  '2147483648',
  '99999999999999999999',
  'true',
  '"x"',
  "'y'",
  '&x 1',
  '*x',
  '!!binary aGVsbG8=',
  '!!timestamp 2024-01-01',
  '2024-01-01',
  '|\n  x',
  '>-\n  y\n  z',
  '"\\ud800"',
  '"\\u0000"',
  '"\\x"',
  'critical',
  '101',
  'span_aggregation',
  'eql',
  'T1112',
];

type TextMutation =
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'drop-line' | 'duplicate-line'; readonly line: number }
  | { readonly kind: 'swap-lines'; readonly line: number; readonly other: number }
  | { readonly kind: 'indent'; readonly line: number; readonly by: number }
  | { readonly kind: 'value'; readonly line: number; readonly value: string };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...YAML_BITS), fc.string({ unit: 'binary', maxLength: 4 })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constantFrom('drop-line' as const, 'duplicate-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('value' as const), line: fc.nat(), value: fc.constantFrom(...ODD_VALUES) }),
);

function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let s = text;
  for (const m of mutations) {
    if (m.kind === 'insert' || m.kind === 'delete') {
      const at = m.at % (s.length + 1);
      s =
        m.kind === 'insert' ? s.slice(0, at) + m.text + s.slice(at) : s.slice(0, at) + s.slice(at + m.length);
      continue;
    }
    const lines = s.split('\n');
    const i = m.line % lines.length;
    const line = lines[i] as string;
    if (m.kind === 'drop-line') lines.splice(i, 1);
    else if (m.kind === 'duplicate-line') lines.splice(i, 0, line);
    else if (m.kind === 'swap-lines') {
      const j = m.other % lines.length;
      lines[i] = lines[j] as string;
      lines[j] = line;
    } else if (m.kind === 'indent')
      lines[i] =
        m.by >= 0
          ? ' '.repeat(m.by) + line
          : line.slice(Math.min(-m.by, line.length - line.trimStart().length));
    else if (m.kind === 'value') {
      // The value of a `key: value` line (or a `- item`) swapped for an odd one.
      const match = /^(\s*(?:- )?[\w-]+:\s?|\s*- )/.exec(line);
      if (match) lines[i] = match[0] + m.value;
    }
    s = lines.join('\n');
  }
  return s;
}

/** Every top-level key a rule file may have (the loader's own list). */
const RULE_KEYS = ruleKeys;

/** Random documents: JSON (which is YAML) of random values, and of random values under the rule keys. */
const randomYaml: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc
    .dictionary(fc.constantFrom(...RULE_KEYS), fc.jsonValue({ maxDepth: 3 }), { maxKeys: RULE_KEYS.length })
    .map((o) => JSON.stringify(o)),
  fc
    .array(fc.tuple(fc.constantFrom(...RULE_KEYS), fc.constantFrom(...ODD_VALUES)), { maxLength: 20 })
    .map((kv) => kv.map(([k, v]) => `${k}: ${v}`).join('\n')),
  fc
    .array(fc.constantFrom(...YAML_BITS, ...RULE_KEYS, 'a', 'b', '1'), { maxLength: 60 })
    .map((xs) => xs.join('')),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

/**
 * Hostile shapes: alias bombs, deep nesting, huge scalars, many keys, many documents.
 *
 * Findings cost about 0.2 ms each (linear since formatAt stopped re-splitting the file and printing a
 * whole long line per finding: 5,000 `$a$` placeholders took 13 s, now under 1 s). The generators that
 * make one finding per line or placeholder (unknown top-level keys, unknown placeholders, nameless test
 * cases, YAML syntax errors) are capped so one input stays inside the per-input CPU bound.
 */
const FINDINGS_LIMIT = 500;
const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 2, max: 12 }).map((levels) => {
    const lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < levels; i++)
      lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
    return `${SEEDS[0] as string}\n${lines.join('\n')}\n`;
  }),
  fc.integer({ min: 2, max: 12 }).map((levels) => {
    const lines = ['base: &m0 {k: v}'];
    for (let i = 1; i < levels; i++)
      lines.push(`m${i}: &m${i}\n${Array.from({ length: 9 }, (_, j) => `  x${j}: *m${i - 1}`).join('\n')}`);
    return lines.join('\n');
  }),
  // yaml gives up (its own stack overflow, reported as a yaml-syntax error) near 1,000 levels; deeper only costs time.
  fc.integer({ min: 1, max: 5_000 }).map((n) => `tags: ${'['.repeat(n)}x${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `tags: ${'{a: '.repeat(n)}x${'}'.repeat(n)}`),
  fc
    .integer({ min: 1, max: FINDINGS_LIMIT })
    .map((n) => `a:.x\n${'  b: { c: 1 }, d: { e: 2 },\n'.repeat(n)}`),
  fc
    .integer({ min: 1, max: 600 })
    .map((n) => `tags:\n${Array.from({ length: n }, (_, i) => `${'  '.repeat(i)}- `).join('\n')}x`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `${SEEDS[0] as string}\nmessage: "${'m'.repeat(n)}"\n`),
  fc.integer({ min: 1, max: 100_000 }).map((n) => `query: |\n  process where a == "${'q'.repeat(n)}"\n`),
  // Known fields: each unknown one costs a spelling suggestion (about 0.1 ms, linear), which is not what this tests.
  fc
    .integer({ min: 1, max: 5_000 })
    .map(
      (n) =>
        `query: |\n  process where\n${Array.from({ length: n }, () => '  process.pid == 1 and').join('\n')}\n  process.name == "x"\n`,
    ),
  fc
    .integer({ min: 1, max: 5_000 })
    .map(
      (n) =>
        `query: "process where\n${Array.from({ length: n }, () => '  process.name == \\"\\x41\\" and').join('\n')}\n  process.pid == 2"\n`,
    ),
  fc
    .integer({ min: 1, max: FINDINGS_LIMIT })
    .map((n) => Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n')),
  fc
    .integer({ min: 1, max: 3_000 })
    .map((n) => `tags:\n${Array.from({ length: n }, (_, i) => `  - t${i}`).join('\n')}`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => '---\nid: x\n'.repeat(n)),
  fc.integer({ min: 1, max: FINDINGS_LIMIT }).map((n) => `message: ${'$a$'.repeat(n)}\n`),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `message: ${'$process.name$'.repeat(n)}\n`),
  fc
    .integer({ min: 1, max: FINDINGS_LIMIT })
    .map(
      (n) => `${withoutTests(SEEDS[0] as string)}\ntests:\n${'  - events: [{}]\n    expect: []\n'.repeat(n)}`,
    ),
);

function withoutTests(rule: string): string {
  const at = rule.indexOf('\ntests:');
  return at < 0 ? rule : rule.slice(0, at);
}

// ---- properties ----

describe('rule loader under fuzzing', () => {
  it('seeds: every built-in rule file loads', () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(4);
    for (const text of SEEDS) expect(checkRuleText(text)).toBe('rule');
  });

  const mutationRuns = 150;
  it(
    'mutated built-in rule files give a rule or positioned RuleFileErrors, never an exception',
    () => {
      const outcomes = { rule: 0, errors: 0 };
      fc.assert(
        fc.property(
          fc.constantFrom(...SEEDS),
          fc.array(textMutation, { minLength: 1, maxLength: 4 }),
          (text, ms) => {
            outcomes[checkRuleText(mutateText(text, ms))]++;
          },
        ),
        fuzzParams(mutationRuns),
      );
      expect(outcomes.rule).toBeGreaterThan(0);
      expect(outcomes.errors).toBeGreaterThan(0);
    },
    fuzzTimeout(mutationRuns, 90_000),
  );

  const randomRuns = 500;
  it(
    'random YAML and text',
    () => {
      fc.assert(
        fc.property(randomYaml, (text) => {
          checkRuleText(text);
        }),
        fuzzParams(randomRuns),
      );
    },
    fuzzTimeout(randomRuns),
  );

  const hostileRuns = 100;
  it(
    'alias bombs, deep nesting, huge scalars, many keys and documents: positioned errors within the bound',
    () => {
      fc.assert(
        fc.property(hostileYaml, (text) => {
          checkRuleText(text);
        }),
        fuzzParams(hostileRuns),
      );
    },
    fuzzTimeout(hostileRuns, 90_000),
  );

  it('a folder of hostile and mutated files loads: every file is accounted for, every error names its file', async () => {
    const texts = [
      ...SEEDS,
      ...fc.sample(
        fc.oneof(
          hostileYaml,
          randomYaml,
          fc
            .tuple(fc.constantFrom(...SEEDS), fc.array(textMutation, { minLength: 1, maxLength: 3 }))
            .map(([t, ms]) => mutateText(t, ms)),
        ),
        { numRuns: 40, seed: fuzzSeed },
      ),
    ];
    const dir = await mkdtemp(path.join(tmpdir(), 'sequor-fuzz-rules-'));
    try {
      const files = texts.map((_, i) => path.join(dir, `r${String(i).padStart(3, '0')}.yaml`));
      await Promise.all(texts.map((t, i) => writeFile(files[i] as string, t)));
      const start = performance.now();
      const load = await loadRuleDir(dir);
      expect(performance.now() - start).toBeLessThan(30_000);
      expect(load.files.map((f) => f.file).sort()).toEqual(files);
      const byFile = new Map(files.map((f, i) => [f, texts[i] as string]));
      for (const f of load.files) {
        for (const e of [...f.errors, ...f.warnings])
          expectFileError(byFile.get(f.file) as string, f.file, e);
        expect(f.rule === null).toBe(f.errors.length > 0);
      }
      // The seeds are distinct rules, so they still load next to the hostile files.
      expect(load.rules.length).toBeGreaterThanOrEqual(SEEDS.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('no unbounded memory: analysing the same files again keeps the heap flat', () => {
    const texts = fc.sample(
      fc.oneof(
        randomYaml,
        fc
          .tuple(fc.constantFrom(...SEEDS), fc.array(textMutation, { minLength: 1, maxLength: 3 }))
          .map(([t, ms]) => mutateText(t, ms)),
      ),
      { numRuns: 50, seed: 17 },
    );
    const work = (): void => {
      for (const t of texts) analyzeRuleText(t, 'fuzz.yaml');
    };
    const growth = heapGrowth(work, 3);
    expect(growth, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`).toBeLessThan(heapBound);
  }, 60_000);
});
