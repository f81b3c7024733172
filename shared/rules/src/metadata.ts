/**
 * Checks of a rule file's metadata: shape, formats (UUID, ATT&CK ids) and consistency (risk score vs
 * severity). Pure: takes the YAML value and a source map, returns the typed pieces and every issue found.
 */
import type { RuleFileError } from './errors.js';
import type { DocPath, RuleSourceMap } from './source-map.js';
import type {
  AttackRef,
  AttackTechnique,
  ExpectedAlert,
  ExpectedUpdate,
  RulePublication,
  RuleSeverity,
  RuleSpan,
  RuleSuppression,
  RuleTestCase,
  ThreatMapping,
} from './types.js';
import { ruleSeverities, ruleTypes, suppressMissingModes } from './types.js';

/** Every top-level key a rule file may have; anything else is a typo until proven otherwise. */
export const ruleKeys = [
  'id',
  'name',
  'description',
  'version',
  'severity',
  'risk_score',
  'author',
  'license',
  'threat',
  'references',
  'false_positives',
  'tags',
  'source',
  'message',
  'type',
  'query',
  'span',
  'group_by',
  'suppress',
  'exceptions',
  'tests',
] as const;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tacticPattern = /^TA\d{4}$/;
const techniquePattern = /^T\d{4}$/;
const subtechniquePattern = /^T\d{4}\.\d{3}$/;
const spanPattern = /^(\d+)(ms|s|m|h|d)$/;
const spanUnitMs: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Elastic's mapping from risk score to severity (detection-rules: 0-21 low, 22-47 medium, 48-73 high,
 * 74-100 critical). A rule whose two numbers disagree is probably mis-typed: lint warns.
 */
export function severityForRiskScore(riskScore: number): RuleSeverity {
  if (riskScore <= 21) return 'low';
  if (riskScore <= 47) return 'medium';
  if (riskScore <= 73) return 'high';
  return 'critical';
}

/** `1h` -> 3_600_000; null when not a positive duration. */
export function parseSpan(text: string): RuleSpan | null {
  const m = spanPattern.exec(text.trim());
  if (m === null) return null;
  const ms = Number(m[1]) * (spanUnitMs[m[2] ?? ''] ?? 0);
  return ms > 0 ? { text: text.trim(), ms } : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Edit distance, for "did you mean" on unknown keys. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate within a small edit distance, for "did you mean ...". */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Reads typed values out of the rule document, recording an issue for each one that is missing or wrong. */
export class MetadataReader {
  readonly issues: RuleFileError[] = [];

  constructor(
    private readonly root: Record<string, unknown>,
    private readonly map: RuleSourceMap,
  ) {}

  private fail(path: DocPath, code: 'missing-field' | 'invalid-field', detail: string): void {
    this.issues.push(this.map.issueAt(path, code, detail));
  }

  private valueAt(path: DocPath): unknown {
    let v: unknown = this.root;
    for (const p of path) {
      if (typeof p === 'number') v = Array.isArray(v) ? v[p] : undefined;
      else v = isRecord(v) ? v[p] : undefined;
    }
    return v;
  }

  private missing(path: DocPath, what: string): void {
    const parent = path.slice(0, -1);
    const where = parent.length === 0 ? 'the rule' : path.slice(0, -1).join('.');
    this.fail(parent, 'missing-field', `${where} has no \`${String(path[path.length - 1])}\`: ${what}`);
  }

  string(
    path: DocPath,
    options: { readonly optional?: boolean; readonly pattern?: RegExp; readonly what?: string } = {},
  ): string {
    const v = this.valueAt(path);
    const what = options.what ?? 'a non-empty string';
    if (v === undefined || v === null) {
      if (!options.optional) this.missing(path, `expected ${what}`);
      return '';
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must be ${what}, found ${describe(v)}`);
      return '';
    }
    if (options.pattern && !options.pattern.test(v)) {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must be ${what}, found ${JSON.stringify(v)}`);
    }
    return v;
  }

  integer(path: DocPath, min: number, max: number, what: string): number {
    const v = this.valueAt(path);
    if (v === undefined || v === null) {
      this.missing(path, `expected ${what}`);
      return min;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must be ${what}, found ${describe(v)}`);
      return min;
    }
    return v;
  }

  oneOf<T extends string>(path: DocPath, allowed: readonly T[]): T {
    const v = this.valueAt(path);
    const list = allowed.map((a) => `"${a}"`).join(', ');
    if (v === undefined || v === null) {
      this.missing(path, `expected one of ${list}`);
      return allowed[0] as T;
    }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must be one of ${list}, found ${describe(v)}`);
      return allowed[0] as T;
    }
    return v as T;
  }

  /** A list of non-empty strings; `required` means present and non-empty. */
  strings(path: DocPath, options: { readonly required?: boolean } = {}): string[] {
    const v = this.valueAt(path);
    if (v === undefined || v === null) {
      if (options.required) this.missing(path, 'expected a list of strings');
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(
        path,
        'invalid-field',
        `\`${path.join('.')}\` must be a list of strings, found ${describe(v)}`,
      );
      return [];
    }
    if (options.required && v.length === 0) {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must not be empty`);
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === 'string' && item.trim() !== '') out.push(item);
      else
        this.fail(
          [...path, i],
          'invalid-field',
          `\`${path.join('.')}[${i}]\` must be a non-empty string, found ${describe(item)}`,
        );
    });
    return out;
  }

  list(path: DocPath, options: { readonly required?: boolean } = {}): unknown[] {
    const v = this.valueAt(path);
    if (v === undefined || v === null) {
      if (options.required) this.missing(path, 'expected a list');
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must be a list, found ${describe(v)}`);
      return [];
    }
    return v;
  }

  mapping(path: DocPath, options: { readonly optional?: boolean } = {}): Record<string, unknown> | null {
    const v = this.valueAt(path);
    if (v === undefined || v === null) {
      if (!options.optional) this.missing(path, 'expected a mapping');
      return null;
    }
    if (!isRecord(v)) {
      this.fail(path, 'invalid-field', `\`${path.join('.')}\` must be a mapping, found ${describe(v)}`);
      return null;
    }
    return v;
  }

  unknownKeys(path: DocPath, allowed: readonly string[]): void {
    const v = path.length === 0 ? this.root : this.valueAt(path);
    if (!isRecord(v)) return;
    for (const key of Object.keys(v)) {
      if (allowed.includes(key)) continue;
      const guess = closest(key, allowed);
      const where = path.length === 0 ? 'a rule' : `\`${path.join('.')}\``;
      const at = this.map.positionOfKey([...path, key]);
      this.issues.push(
        this.map.issue(
          at,
          'unknown-key',
          `unknown key \`${key}\` in ${where}${guess ? `: did you mean \`${guess}\`?` : ''} (allowed: ${allowed.join(', ')})`,
          { length: at.length },
        ),
      );
    }
  }

  // --- whole sections ---

  id(): string {
    return this.string(['id'], { pattern: uuidPattern, what: 'a UUID (8-4-4-4-12 hex digits)' });
  }

  severityAndRisk(): { severity: RuleSeverity; riskScore: number } {
    const severity = this.oneOf(['severity'], ruleSeverities);
    const riskScore = this.integer(['risk_score'], 0, 100, 'an integer from 0 to 100');
    // Compare only when both were valid as written (the readers return placeholders otherwise).
    if (this.valueAt(['severity']) === severity && this.valueAt(['risk_score']) === riskScore) {
      const expected = severityForRiskScore(riskScore);
      if (expected !== severity) {
        this.issues.push(
          this.map.issueAt(
            ['risk_score'],
            'risk-severity-mismatch',
            `risk_score ${riskScore} is "${expected}" in Elastic's mapping (0-21 low, 22-47 medium, 48-73 high, 74-100 critical) but severity is "${severity}"`,
            { level: 'warning' },
          ),
        );
      }
    }
    return { severity, riskScore };
  }

  type(): (typeof ruleTypes)[number] {
    return this.oneOf(['type'], ruleTypes);
  }

  span(): RuleSpan | null {
    const text = this.string(['span'], { what: 'a duration such as "1h", "30m"' });
    if (text === '') return null;
    const span = parseSpan(text);
    if (span === null)
      this.fail(
        ['span'],
        'invalid-field',
        `\`span\` must be a positive duration such as "1h", "30m", "90s", found ${JSON.stringify(text)}`,
      );
    return span;
  }

  /** `suppress` (optional): `by` (1-3 fields, checked against the model by the caller), `window`, `missing`. */
  suppress(): RuleSuppression | null {
    // Written with no value (its lines commented out, say), it would turn suppression off without a word.
    if (this.valueAt(['suppress']) === null)
      this.fail(
        ['suppress'],
        'invalid-field',
        '`suppress` is empty: give `by` and `window`, or remove the key',
      );
    const s = this.mapping(['suppress'], { optional: true });
    if (s === null) return null;
    this.unknownKeys(['suppress'], ['by', 'window', 'missing']);
    const by = this.strings(['suppress', 'by'], { required: true });
    if (by.length > 3)
      this.fail(
        ['suppress', 'by'],
        'invalid-field',
        `\`suppress.by\` takes at most 3 fields, found ${by.length}`,
      );
    const twice = by.find((field, i) => by.indexOf(field) !== i);
    if (twice !== undefined)
      this.fail(['suppress', 'by'], 'invalid-field', `\`suppress.by\` names ${twice} twice`);
    const text = this.string(['suppress', 'window'], { what: 'a duration such as "1h", "30m"' });
    const window = text === '' ? null : parseSpan(text);
    if (text !== '' && window === null)
      this.fail(
        ['suppress', 'window'],
        'invalid-field',
        `\`suppress.window\` must be a positive duration such as "1h", "30m", "90s", found ${JSON.stringify(text)}`,
      );
    const missing =
      this.valueAt(['suppress', 'missing']) === undefined
        ? 'suppress'
        : this.oneOf(['suppress', 'missing'], suppressMissingModes);
    return { by, window: window ?? { text: '', ms: 0 }, missing };
  }

  source(): RulePublication | null {
    const s = this.mapping(['source'], { optional: true });
    if (s === null) return null;
    this.unknownKeys(['source'], ['name', 'url', 'id']);
    const id = this.string(['source', 'id'], { optional: true });
    return {
      name: this.string(['source', 'name']),
      url: this.string(['source', 'url']),
      id: id === '' ? null : id,
    };
  }

  private attackRef(path: DocPath, pattern: RegExp, what: string, extra: readonly string[] = []): AttackRef {
    this.unknownKeys(path, ['id', 'name', 'reference', ...extra]);
    return {
      id: this.string([...path, 'id'], { pattern, what }),
      name: this.string([...path, 'name']),
      reference: this.string([...path, 'reference'], { pattern: /^https?:\/\//, what: 'a URL' }),
    };
  }

  threat(): ThreatMapping[] {
    return this.list(['threat'], { required: true }).map((_, i): ThreatMapping => {
      const path: DocPath = ['threat', i];
      if (this.mapping(path) === null)
        return { framework: '', tactic: { id: '', name: '', reference: '' }, technique: [] };
      this.unknownKeys(path, ['framework', 'tactic', 'technique']);
      const framework = this.string([...path, 'framework']);
      this.mapping([...path, 'tactic']);
      const tactic = this.attackRef(
        [...path, 'tactic'],
        tacticPattern,
        'an ATT&CK tactic id (TA followed by 4 digits)',
      );
      const technique = this.list([...path, 'technique']).map((__, j): AttackTechnique => {
        const tp: DocPath = [...path, 'technique', j];
        if (this.mapping(tp) === null) return { id: '', name: '', reference: '', subtechnique: [] };
        const parent = this.attackRef(
          tp,
          techniquePattern,
          'an ATT&CK technique id (T followed by 4 digits)',
          ['subtechnique'],
        );
        const subtechnique = this.list([...tp, 'subtechnique']).map((___, k): AttackRef => {
          const sp: DocPath = [...tp, 'subtechnique', k];
          if (this.mapping(sp) === null) return { id: '', name: '', reference: '' };
          const sub = this.attackRef(sp, subtechniquePattern, 'an ATT&CK sub-technique id (T1234.001)');
          if (
            subtechniquePattern.test(sub.id) &&
            techniquePattern.test(parent.id) &&
            !sub.id.startsWith(`${parent.id}.`)
          ) {
            this.fail(
              [...sp, 'id'],
              'invalid-field',
              `sub-technique ${sub.id} does not belong to technique ${parent.id}`,
            );
          }
          return sub;
        });
        return { ...parent, subtechnique };
      });
      return { framework, tactic, technique };
    });
  }

  tests(): RuleTestCase[] {
    return this.list(['tests']).map((_, i): RuleTestCase => {
      const path: DocPath = ['tests', i];
      if (this.mapping(path) === null) return { name: '', events: [], expect: [] };
      this.unknownKeys(path, ['name', 'events', 'expect', 'expect_updates']);
      const name = this.string([...path, 'name']);
      const ids = new Set<string>();
      const events = this.list([...path, 'events'], { required: true }).flatMap((ev, j) => {
        const ep: DocPath = [...path, 'events', j];
        if (!isRecord(ev)) {
          this.issues.push(
            this.map.issueAt(
              ep,
              'invalid-test',
              `test event must be an ECS JSON object, found ${describe(ev)}`,
            ),
          );
          return [];
        }
        const id = ecsValue(ev, ['event', 'id']);
        if (typeof id !== 'string' || id === '') {
          this.issues.push(
            this.map.issueAt(
              ep,
              'invalid-test',
              'test event has no `event.id`: expectations name evidence by event.id',
            ),
          );
        } else if (ids.has(id)) {
          this.issues.push(
            this.map.issueAt(ep, 'invalid-test', `test event id "${id}" is used twice in this case`),
          );
        } else {
          ids.add(id);
        }
        if (typeof ecsValue(ev, ['@timestamp']) !== 'string') {
          this.issues.push(
            this.map.issueAt(ep, 'invalid-test', 'test event has no `@timestamp` (an ISO-8601 string)'),
          );
        }
        return [ev];
      });
      const expect = this.list([...path, 'expect'], { required: true }).map((_exp, j): ExpectedAlert => {
        const xp: DocPath = [...path, 'expect', j];
        if (this.mapping(xp) === null) return { evidence: [] };
        this.unknownKeys(xp, ['evidence']);
        const evidence = this.strings([...xp, 'evidence'], { required: true });
        evidence.forEach((id, k) => {
          if (!ids.has(id)) {
            this.issues.push(
              this.map.issueAt(
                [...xp, 'evidence', k],
                'invalid-test',
                `evidence "${id}" is not the event.id of any event in this test`,
              ),
            );
          }
        });
        return { evidence };
      });
      const checkIds = (named: readonly string[], at: DocPath): void =>
        named.forEach((id, k) => {
          if (!ids.has(id))
            this.issues.push(
              this.map.issueAt(
                [...at, k],
                'invalid-test',
                `evidence "${id}" is not the event.id of any event in this test`,
              ),
            );
        });
      if (this.valueAt([...path, 'expect_updates']) === undefined) return { name, events, expect };
      const expectUpdates = this.list([...path, 'expect_updates']).map((_u, j): ExpectedUpdate => {
        const up: DocPath = [...path, 'expect_updates', j];
        if (this.mapping(up) === null) return { alert: [], count: 1, lastEvidence: [] };
        this.unknownKeys(up, ['alert', 'count', 'last_evidence']);
        const alert = this.strings([...up, 'alert'], { required: true });
        const count = this.integer([...up, 'count'], 1, Number.MAX_SAFE_INTEGER, 'an integer >= 1');
        const lastEvidence = this.strings([...up, 'last_evidence'], { required: true });
        checkIds(alert, [...up, 'alert']);
        checkIds(lastEvidence, [...up, 'last_evidence']);
        return { alert, count, lastEvidence };
      });
      return { name, events, expect, expectUpdates };
    });
  }
}

/** A field of an ECS JSON object written nested (`event: {id: x}`) or dotted (`event.id: x`). */
export function ecsValue(doc: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  const dotted = path.join('.');
  if (dotted in doc) return doc[dotted];
  let v: unknown = doc;
  for (const p of path) {
    if (!isRecord(v)) return undefined;
    v = v[p];
  }
  return v;
}
