/**
 * Sigma correlation rules (specification 2.1, `correlation:` documents): the loaded form and its reader.
 * `correlation-load.ts` reads whole files (a correlation beside the rules it names, `---` separated);
 * `correlation-compile.ts` turns a correlation into an engine spec.
 */
import type { CorrelationThreshold } from '@sequor/engine';
import type { Document, Node } from 'yaml';
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { SigmaIssueCode, SigmaPosition } from './errors.js';
import { LineIndex, SigmaRuleError } from './errors.js';
import type { SigmaLevel, SigmaStatus } from './rule.js';
import { SIGMA_LEVELS, SIGMA_STATUSES, splitAuthors } from './rule.js';

export const SIGMA_CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const;
export type SigmaCorrelationType = (typeof SIGMA_CORRELATION_TYPES)[number];

/** A name in the file with where it is written (for errors found when the correlation is compiled). */
export interface SigmaNameAt {
  readonly name: string;
  readonly position: SigmaPosition;
}

export interface SigmaCorrelation {
  readonly file: string;
  readonly id: string | null;
  /** `name`: how another correlation may refer to this one. */
  readonly name: string | null;
  readonly title: string;
  readonly status: SigmaStatus | null;
  readonly level: SigmaLevel | null;
  readonly description: string | null;
  readonly author: string | null;
  readonly authors: readonly string[];
  readonly tags: readonly string[];
  readonly references: readonly string[];
  readonly falsepositives: readonly string[];
  readonly date: string | null;
  readonly modified: string | null;
  readonly type: SigmaCorrelationType;
  /** Where the `type` value is (a refusal of the type points there). */
  readonly typePosition: SigmaPosition;
  /** The rules (detection rules or correlations) it correlates, by id or name, in order. */
  readonly rules: readonly SigmaNameAt[];
  /** `group-by` names (fields, or aliases defined in `aliases`); empty: one group. */
  readonly groupBy: readonly SigmaNameAt[];
  readonly timespanMs: number;
  /** The bounds of `condition` (null: none given, for temporal types: every rule). */
  readonly threshold: CorrelationThreshold | null;
  /** `condition.field` (value_* types): one field, or for value_count several (their values as a tuple). */
  readonly fields: readonly SigmaNameAt[];
  /** alias -> (rule name or id -> the field in that rule's events). */
  readonly aliases: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** `generate`: whether the referenced rules also raise their own alerts (default false). */
  readonly generate: boolean;
  /** Where `correlation:` is. */
  readonly position: SigmaPosition;
}

const CORRELATION_KEYS = new Set([
  'type',
  'rules',
  'group-by',
  'timespan',
  'condition',
  'aliases',
  'generate',
]);
const CONDITION_KEYS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

/** Whether no number satisfies every bound of the condition (`gte: 5` with `lt: 3`; `eq: 2` with `neq: 2`). */
function neverHolds(t: { readonly [K in (typeof CONDITION_KEYS)[number]]?: number }): boolean {
  let low = Number.NEGATIVE_INFINITY;
  let lowOpen = false;
  let high = Number.POSITIVE_INFINITY;
  let highOpen = false;
  const above = (v: number, open: boolean) => {
    if (v > low || (v === low && open)) [low, lowOpen] = [v, open];
  };
  const below = (v: number, open: boolean) => {
    if (v < high || (v === high && open)) [high, highOpen] = [v, open];
  };
  if (t.gt !== undefined) above(t.gt, true);
  if (t.gte !== undefined) above(t.gte, false);
  if (t.lt !== undefined) below(t.lt, true);
  if (t.lte !== undefined) below(t.lte, false);
  if (t.eq !== undefined) {
    if (t.eq === t.neq) return true;
    above(t.eq, false);
    below(t.eq, false);
  }
  return low > high || (low === high && (lowOpen || highOpen));
}
const TIMESPAN_UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `timespan` (`90m`, `1h`, `2d`: a whole number and one of s, m, h, d) in ms, or null. */
export function parseSigmaTimespan(text: string): number | null {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (m === null) return null;
  const ms = Number(m[1]) * (TIMESPAN_UNITS[m[2] as string] as number);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : null;
}

class Stop extends Error {
  constructor(readonly error: SigmaRuleError) {
    super(error.message);
  }
}

/** Reads one `correlation:` document; every problem at `file:line:column`. */
class CorrelationReader {
  readonly errors: SigmaRuleError[] = [];

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineIndex,
  ) {}

  private position(node: Node | null | undefined): SigmaPosition {
    const range = node?.range;
    if (range === undefined || range === null) return this.lines.at(0);
    return this.lines.at(range[0], Math.max(1, range[1] - range[0]));
  }

  private stop(code: SigmaIssueCode, detail: string, node: Node | null | undefined): never {
    throw new Stop(new SigmaRuleError(this.file, this.position(node), code, detail, this.text));
  }

  private resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  private pairs(node: Node): { key: string; keyNode: Node; value: Node | null }[] {
    if (!isMap(node)) return [];
    return node.items.map((pair) => {
      const keyNode = this.resolve(pair.key) as Node;
      return {
        key: isScalar(keyNode) ? String(keyNode.value) : '',
        keyNode,
        value: this.resolve(pair.value),
      };
    });
  }

  private get(node: Node, key: string): { keyNode: Node; value: Node | null } | undefined {
    return this.pairs(node).find((p) => p.key === key);
  }

  private string(node: Node, key: string, required: boolean, what = 'a Sigma correlation'): string | null {
    const found = this.get(node, key);
    if (found === undefined || (isScalar(found.value) && found.value.value === null)) {
      if (required) this.stop('invalid-rule', `${what} needs \`${key}\``, node);
      return null;
    }
    if (!isScalar(found.value) || typeof found.value.value === 'object')
      this.stop('invalid-rule', `\`${key}\` must be a string`, found.value ?? found.keyNode);
    return String(found.value.value);
  }

  /** A list of strings (a single string is a list of one), each with its position. */
  private names(node: Node, key: string): SigmaNameAt[] {
    const found = this.get(node, key);
    if (found === undefined || found.value === null) return [];
    const items = isSeq(found.value) ? found.value.items.map((i) => this.resolve(i)) : [found.value];
    return items.map((item) => {
      if (!isScalar(item) || item.value === null || typeof item.value === 'object')
        this.stop('invalid-rule', `\`${key}\` must be a list of strings`, item ?? found.keyNode);
      return { name: String(item.value), position: this.position(item) };
    });
  }

  private oneOf<T extends string>(node: Node, key: string, allowed: readonly T[]): T | null {
    const value = this.string(node, key, false);
    if (value === null) return null;
    if (!(allowed as readonly string[]).includes(value))
      this.stop(
        'invalid-rule',
        `\`${key}\` must be one of ${allowed.join(', ')}, not "${value}"`,
        this.get(node, key)?.value,
      );
    return value as T;
  }

  private collect<T>(read: () => T): T | null {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      this.errors.push(error.error);
      return null;
    }
  }

  /** What an unloadable correlation names (`SigmaUnloadedCorrelation`); null when that part is unreadable too. */
  named(): SigmaUnloadedCorrelation | null {
    const root = this.doc.contents as Node;
    const found = this.get(root, 'correlation');
    const section = found?.value;
    if (found === undefined || section === null || section === undefined || !isMap(section)) return null;
    const quiet = <T>(read: () => T, otherwise: T): T => {
      try {
        return read();
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        return otherwise;
      }
    };
    // Every name that reads, even beside an item that does not (`[failed_login, ~]`).
    const listed = this.get(section, 'rules')?.value;
    const items = listed === null || listed === undefined ? [] : isSeq(listed) ? listed.items : [listed];
    const rules: SigmaNameAt[] = [];
    for (const raw of items) {
      const item = this.resolve(raw);
      if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number'))
        rules.push({ name: String(item.value), position: this.position(item) });
    }
    if (rules.length === 0) return null;
    return {
      file: this.file,
      title: quiet(() => this.string(root, 'title', false), null),
      position: this.position(found.keyNode),
      rules,
      generate: quiet(() => this.generate(root, section), false),
    };
  }

  read(): SigmaCorrelation | null {
    const root = this.doc.contents as Node;
    const meta = this.collect(() => ({
      id: this.string(root, 'id', false),
      name: this.string(root, 'name', false),
      title: this.string(root, 'title', true) as string,
      status: this.oneOf<SigmaStatus>(root, 'status', SIGMA_STATUSES),
      level: this.oneOf<SigmaLevel>(root, 'level', SIGMA_LEVELS),
      description: this.string(root, 'description', false),
      author: this.string(root, 'author', false),
      tags: this.names(root, 'tags').map((t) => t.name),
      references: this.names(root, 'references').map((t) => t.name),
      falsepositives: this.names(root, 'falsepositives').map((t) => t.name),
      date: this.string(root, 'date', false),
      modified: this.string(root, 'modified', false),
    }));
    const body = this.collect(() => this.correlation(root));
    if (meta === null || body === null || this.errors.length > 0) return null;
    const authors = splitAuthors(meta.author ?? '');
    return { file: this.file, ...meta, authors, ...body };
  }

  private correlation(root: Node) {
    const found = this.get(root, 'correlation')!;
    const section = found.value;
    if (section === null || !isMap(section))
      this.stop(
        'invalid-rule',
        '`correlation` must be a map (type, rules, group-by, timespan, condition)',
        found.keyNode,
      );
    for (const { key, keyNode } of this.pairs(section)) {
      if (!CORRELATION_KEYS.has(key))
        this.stop(
          'invalid-rule',
          `unknown correlation attribute \`${key}\` (known: ${[...CORRELATION_KEYS].join(', ')})`,
          keyNode,
        );
    }
    const type = this.oneOf(section, 'type', SIGMA_CORRELATION_TYPES);
    if (type === null) this.stop('invalid-rule', 'a Sigma correlation needs `type`', section);
    const rules = this.names(section, 'rules');
    if (rules.length === 0)
      this.stop('invalid-rule', 'a Sigma correlation needs `rules`: the ids or names it correlates', section);
    const seen = new Set<string>();
    for (const rule of rules) {
      if (seen.has(rule.name))
        throw new Stop(
          new SigmaRuleError(
            this.file,
            rule.position,
            'invalid-rule',
            `\`rules\` names "${rule.name}" twice`,
            this.text,
          ),
        );
      seen.add(rule.name);
    }
    const groupBy = this.names(section, 'group-by');
    const timespanText = this.string(section, 'timespan', true, `a ${type} correlation`) as string;
    const timespanMs = parseSigmaTimespan(timespanText);
    if (timespanMs === null)
      this.stop(
        'invalid-value',
        `\`timespan\` must be a whole number and one of s, m, h, d (\`90m\`), not "${timespanText}"`,
        this.get(section, 'timespan')?.value,
      );
    const { threshold, fields } = this.condition(section, type);
    const generate = this.generate(root, section);
    const typeNode = this.get(section, 'type')?.value;
    return {
      type,
      typePosition:
        typeNode === undefined || typeNode === null
          ? this.position(found.keyNode)
          : this.position(typeNode as Node),
      rules,
      groupBy,
      timespanMs,
      threshold,
      fields,
      aliases: this.aliases(section),
      generate,
      position: this.position(found.keyNode),
    };
  }

  private condition(section: Node, type: SigmaCorrelationType) {
    const found = this.get(section, 'condition');
    const temporal = type === 'temporal' || type === 'temporal_ordered';
    const valued = type.startsWith('value_');
    if (found === undefined || found.value === null) {
      if (!temporal)
        this.stop(
          'invalid-rule',
          `a ${type} correlation needs a \`condition\` (gt, gte, lt, lte, eq, neq)`,
          section,
        );
      return { threshold: null, fields: [] as SigmaNameAt[] };
    }
    const node = found.value;
    if (!isMap(node))
      this.stop('invalid-rule', '`condition` must be a map of gt, gte, lt, lte, eq, neq (and `field`)', node);
    const threshold: { -readonly [K in keyof CorrelationThreshold]: number } = {};
    let fields: SigmaNameAt[] = [];
    for (const { key, keyNode, value } of this.pairs(node)) {
      if (key === 'field') {
        if (!valued)
          this.stop(
            'invalid-rule',
            `\`condition.field\` belongs to value_* correlations, not ${type}`,
            keyNode,
          );
        fields = this.names(node, 'field');
        continue;
      }
      if (!(CONDITION_KEYS as readonly string[]).includes(key))
        this.stop(
          'invalid-rule',
          `unknown condition \`${key}\` (known: ${CONDITION_KEYS.join(', ')}, field)`,
          keyNode,
        );
      if (!isScalar(value) || typeof value.value !== 'number' || !Number.isFinite(value.value))
        this.stop('invalid-value', `\`condition.${key}\` must be a number`, value ?? keyNode);
      threshold[key as (typeof CONDITION_KEYS)[number]] = value.value;
    }
    if (Object.keys(threshold).length === 0)
      this.stop('invalid-rule', '`condition` needs at least one of gt, gte, lt, lte, eq, neq', node);
    if (neverHolds(threshold))
      this.stop(
        'invalid-value',
        `\`condition\` can never hold (${Object.entries(threshold)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}): the correlation would never fire`,
        node,
      );
    if (valued && fields.length === 0)
      this.stop('invalid-rule', `a ${type} correlation needs \`condition.field\``, node);
    if (fields.length > 1 && type !== 'value_count')
      this.stop('invalid-rule', `\`condition.field\` of ${type} is one numeric field`, node);
    return { threshold: threshold as CorrelationThreshold, fields };
  }

  /** `generate` as the specification places it (top level) or pySigma does (in `correlation`). */
  private generate(root: Node, section: Node): boolean {
    let generate = false;
    for (const where of [root, section]) {
      const found = this.get(where, 'generate');
      if (found === undefined || found.value === null) continue;
      if (!isScalar(found.value) || typeof found.value.value !== 'boolean')
        this.stop('invalid-value', '`generate` must be true or false', found.value);
      generate = found.value.value;
    }
    return generate;
  }

  private aliases(section: Node): ReadonlyMap<string, ReadonlyMap<string, string>> {
    const out = new Map<string, Map<string, string>>();
    const found = this.get(section, 'aliases');
    if (found === undefined || found.value === null) return out;
    if (!isMap(found.value))
      this.stop('invalid-rule', '`aliases` must map each alias to {rule name: field}', found.value);
    for (const { key, keyNode, value } of this.pairs(found.value)) {
      if (value === null || !isMap(value))
        this.stop('invalid-rule', `alias \`${key}\` must map rule names to fields`, value ?? keyNode);
      const byRule = new Map<string, string>();
      for (const entry of this.pairs(value)) {
        if (!isScalar(entry.value) || entry.value.value === null || typeof entry.value.value === 'object')
          this.stop(
            'invalid-rule',
            `alias \`${key}\`: the field for \`${entry.key}\` must be a string`,
            entry.value ?? entry.keyNode,
          );
        byRule.set(entry.key, String(entry.value.value));
      }
      out.set(key, byRule);
    }
    return out;
  }
}

/** Reads one parsed `correlation:` document of `text` (whose line index is `lines`). */
export function readSigmaCorrelation(
  text: string,
  file: string,
  doc: Document.Parsed,
  lines = new LineIndex(text),
): {
  readonly correlation: SigmaCorrelation | null;
  readonly errors: readonly SigmaRuleError[];
  /** When it did not load: what it names and whether it generates, as far as those parts read. */
  readonly unloaded: SigmaUnloadedCorrelation | null;
} {
  const reader = new CorrelationReader(text, file, doc, lines);
  const correlation = reader.read();
  if (reader.errors.length === 0) return { correlation, errors: reader.errors, unloaded: null };
  return { correlation: null, errors: reader.errors, unloaded: reader.named() };
}

/** What a correlation document names and whether it generates, as far as those parts read (`named`). */
export function namedBySigmaCorrelation(
  text: string,
  file: string,
  doc: Document.Parsed,
  lines = new LineIndex(text),
): SigmaUnloadedCorrelation | null {
  return new CorrelationReader(text, file, doc, lines).named();
}

/**
 * A correlation document that did not load (a typo in its type, a bad condition), read for the rules it
 * names and its `generate` alone: those rules are its building blocks whether it loads or not, so they
 * stay silent rather than start alerting on their own because of an error elsewhere in its document.
 */
export interface SigmaUnloadedCorrelation {
  readonly file: string;
  readonly title: string | null;
  readonly position: SigmaPosition;
  readonly rules: readonly SigmaNameAt[];
  readonly generate: boolean;
}
