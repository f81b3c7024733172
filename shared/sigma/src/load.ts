/**
 * Sigma rule files → `SigmaRule`, or every error in the file at `file:line:column`. Pure: `loadSigmaText`
 * takes the text; `io.ts` reads files and folders.
 *
 * YAML is read with the `yaml` package as `@sequor/rules` does, with its guards: aliases expanding past
 * `MAX_ALIAS_COUNT` nodes are refused (an alias bomb), and so is a file over `MAX_RULE_BYTES` before it is
 * parsed at all.
 */
import type { Document, Node, Pair } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, Scalar, visit } from 'yaml';
import type { ConditionNode } from './condition.js';
import { ConditionError, parseCondition } from './condition.js';
import type { SigmaIssueCode, SigmaPosition } from './errors.js';
import { LineIndex, SigmaRuleError } from './errors.js';
import { applyModifiers, checkModifiers, ModifierError } from './modifiers.js';
import { PcreError, parsePcre } from './pcre.js';
import type {
  SigmaFilter,
  DetectionItem,
  SearchNode,
  SigmaLevel,
  SigmaLogsource,
  SigmaRelated,
  SigmaRule,
  SigmaStatus,
} from './rule.js';
import { SIGMA_LEVELS, SIGMA_STATUSES, splitAuthors } from './rule.js';
import type { SigmaValue } from './values.js';

/** Rules larger than this are refused unread (SigmaHQ's largest is a few tens of KB). */
export const MAX_RULE_BYTES = 1024 * 1024;
/** Nodes reachable through aliases when a file is expanded: yaml's guard against alias bombs. */
export const MAX_ALIAS_COUNT = 100;

export interface SigmaFileResult {
  readonly file: string;
  /** Null when the file has errors, uses a feature that is refused, or is a filter. */
  readonly rule: SigmaRule | null;
  /** The meta filter the file holds (a `filter:` document), if it is one without errors. */
  readonly filter?: SigmaFilter | null;
  readonly errors: readonly SigmaRuleError[];
}

/** Thrown inside the reader to stop at the first problem of a part; collected per file. */
class Stop extends Error {
  constructor(readonly error: SigmaRuleError) {
    super(error.message);
  }
}

const RULE_KEYS = new Set([
  'title',
  'id',
  'name',
  'related',
  'taxonomy',
  'status',
  'description',
  'license',
  'author',
  'references',
  'date',
  'modified',
  'logsource',
  'detection',
  'fields',
  'falsepositives',
  'level',
  'tags',
  'scope',
  'regression_tests_path',
  'simulation',
]);

class Reader {
  readonly errors: SigmaRuleError[] = [];
  private readonly lines: LineIndex;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly doc: Document.Parsed,
  ) {
    this.lines = new LineIndex(text);
  }

  position(node: Node | null | undefined, fallback = 0): SigmaPosition {
    const range = node?.range;
    if (range === undefined || range === null) return this.lines.at(fallback);
    return this.lines.at(range[0], Math.max(1, range[1] - range[0]));
  }

  error(code: SigmaIssueCode, detail: string, at: SigmaPosition, cause?: unknown): SigmaRuleError {
    return new SigmaRuleError(this.file, at, code, detail, this.text, cause);
  }

  stop(code: SigmaIssueCode, detail: string, node: Node | null | undefined, cause?: unknown): never {
    throw new Stop(this.error(code, detail, this.position(node), cause));
  }

  /** A node with aliases followed (the alias bomb guard has already run on the whole document). */
  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  pairs(node: Node): { key: string; keyNode: Node; value: Node | null; pair: Pair }[] {
    if (!isMap(node)) return [];
    return node.items.map((pair) => {
      const keyNode = this.resolve(pair.key) as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      return { key, keyNode, value: this.resolve(pair.value), pair };
    });
  }

  get(node: Node, key: string): { keyNode: Node; value: Node | null } | undefined {
    return this.pairs(node).find((p) => p.key === key);
  }

  string(node: Node, key: string, required: boolean): string | null {
    const found = this.get(node, key);
    if (found === undefined || (isScalar(found.value) && found.value.value === null)) {
      if (required) this.stop('invalid-rule', `a Sigma rule needs \`${key}\``, node);
      return null;
    }
    if (!isScalar(found.value) || typeof found.value.value === 'object') {
      this.stop('invalid-rule', `\`${key}\` must be a string`, found.value ?? found.keyNode);
    }
    return String(found.value.value);
  }

  strings(node: Node, key: string): string[] {
    const found = this.get(node, key);
    if (found === undefined || found.value === null) return [];
    if (isScalar(found.value)) return found.value.value === null ? [] : [String(found.value.value)];
    if (!isSeq(found.value)) this.stop('invalid-rule', `\`${key}\` must be a list of strings`, found.value);
    return found.value.items.map((item) => {
      const n = this.resolve(item);
      if (!isScalar(n) || typeof n.value === 'object')
        this.stop('invalid-rule', `\`${key}\` must be a list of strings`, n);
      return String(n.value);
    });
  }

  oneOf<T extends string>(node: Node, key: string, allowed: readonly T[]): T | null {
    const value = this.string(node, key, false);
    if (value === null) return null;
    if (!(allowed as readonly string[]).includes(value)) {
      this.stop(
        'invalid-rule',
        `\`${key}\` must be one of ${allowed.join(', ')}, not "${value}"`,
        this.get(node, key)?.value,
      );
    }
    return value as T;
  }

  related(node: Node): SigmaRelated[] {
    const found = this.get(node, 'related');
    if (found === undefined || found.value === null) return [];
    if (!isSeq(found.value)) this.stop('invalid-rule', '`related` must be a list of {id, type}', found.value);
    return found.value.items.map((item) => {
      const n = this.resolve(item);
      if (n === null || !isMap(n)) this.stop('invalid-rule', '`related` entries are {id, type}', n);
      return { id: this.string(n, 'id', true) as string, type: this.string(n, 'type', true) as string };
    });
  }

  logsource(root: Node): SigmaLogsource {
    const found = this.get(root, 'logsource');
    if (found === undefined || found.value === null || !isMap(found.value)) {
      this.stop('invalid-rule', 'a Sigma rule needs a `logsource` map', found?.value ?? root);
    }
    const n = found.value;
    const out: { -readonly [K in keyof SigmaLogsource]: string } = {};
    for (const key of ['product', 'category', 'service', 'definition'] as const) {
      const v = this.string(n, key, false);
      if (v !== null) out[key] = v;
    }
    return out;
  }

  /** Reads the whole rule; collects errors of independent parts (metadata, each search identifier). */
  rule(): SigmaRule | null {
    const root = this.doc.contents;
    if (root === null || !isMap(root)) {
      this.errors.push(
        this.error('invalid-rule', 'a Sigma rule file must be a YAML mapping', this.lines.at(0)),
      );
      return null;
    }
    for (const { key, keyNode } of this.pairs(root)) {
      if (key === 'correlation') {
        this.errors.push(
          this.error(
            'unsupported',
            `${key} rules are not supported yet (only detection rules)`,
            this.position(keyNode),
          ),
        );
      }
      void RULE_KEYS; // unknown top-level keys are custom attributes (Sigma allows them)
    }
    if (this.errors.length > 0) return null;
    const meta = this.collect(() => ({
      id: this.string(root, 'id', false),
      name: this.string(root, 'name', false),
      title: this.string(root, 'title', true) as string,
      status: this.oneOf<SigmaStatus>(root, 'status', SIGMA_STATUSES),
      level: this.oneOf<SigmaLevel>(root, 'level', SIGMA_LEVELS),
      description: this.string(root, 'description', false),
      author: this.string(root, 'author', false),
      tags: this.strings(root, 'tags'),
      related: this.related(root),
      references: this.strings(root, 'references'),
      falsepositives: this.strings(root, 'falsepositives'),
      date: this.string(root, 'date', false),
      modified: this.string(root, 'modified', false),
      logsource: this.logsource(root),
    }));
    const detection = this.collect(() => this.detection(root));
    if (meta === null || detection === null || this.errors.length > 0) return null;
    const authors = splitAuthors(meta.author ?? '');
    return { file: this.file, ...meta, authors, ...detection };
  }

  /** A meta filter document (`filter:` with `rules`, search identifiers and a `condition`). */
  filter(): SigmaFilter | null {
    const root = this.doc.contents as Node;
    const read = this.collect(() => {
      const section = this.get(root, 'filter')?.value;
      if (section === null || section === undefined || !isMap(section)) {
        this.stop('invalid-rule', 'a Sigma filter needs a `filter` map', root);
      }
      const rulesNode = this.get(section, 'rules');
      if (rulesNode === undefined) {
        this.stop(
          'invalid-rule',
          'a Sigma filter needs `rules`: rule ids or names, or `any` for every rule of its logsource',
          section,
        );
      }
      let rules: 'any' | string[];
      const v = rulesNode.value;
      if (isScalar(v) && typeof v.value === 'string' && ['any', 'all'].includes(v.value.toLowerCase()))
        rules = 'any';
      else {
        const list = this.strings(section, 'rules');
        rules = list.length === 0 ? 'any' : list;
      }
      return {
        file: this.file,
        id: this.string(root, 'id', false),
        title: this.string(root, 'title', true) as string,
        logsource: this.logsource(root),
        rules,
        ...this.detection(root, 'filter'),
      };
    });
    return this.errors.length === 0 ? read : null;
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

  private detection(
    root: Node,
    section = 'detection',
  ): Pick<SigmaRule, 'searches' | 'condition' | 'position'> {
    const found = this.get(root, section);
    if (found === undefined || found.value === null || !isMap(found.value)) {
      this.stop(
        'invalid-rule',
        `a Sigma ${section === 'filter' ? 'filter' : 'rule'} needs a \`${section}\` map`,
        found?.value ?? root,
      );
    }
    const det = found.value;
    const searches = new Map<string, SearchNode>();
    let conditionNode: { keyNode: Node; value: Node | null } | undefined;
    let failed = false;
    for (const { key, keyNode, value } of this.pairs(det)) {
      if (key === 'condition') {
        conditionNode = { keyNode, value };
        continue;
      }
      if (section === 'filter' && key === 'rules') continue;
      if (key === 'timeframe') {
        this.errors.push(
          this.error(
            'unsupported',
            '`timeframe` belongs to Sigma 1 aggregations, which are not supported: write a correlation rule',
            this.position(keyNode),
          ),
        );
        failed = true;
        continue;
      }
      const search = this.collect(() => this.search(value, keyNode));
      if (search === null) failed = true;
      else searches.set(key, search);
    }
    if (conditionNode === undefined || conditionNode.value === null) {
      this.stop('invalid-rule', '`detection` needs a `condition`', det);
    }
    if (failed) throw new Stop(this.errors.pop() as SigmaRuleError);
    const names = [...searches.keys()];
    const texts: Scalar[] = isSeq(conditionNode.value)
      ? conditionNode.value.items.map((n) => this.resolve(n) as Scalar)
      : [conditionNode.value as Scalar];
    const conditions: ConditionNode[] = texts.map((n) => {
      if (!isScalar(n) || typeof n.value !== 'string')
        this.stop('invalid-condition', '`condition` must be a string or a list of strings', n);
      const quoted = n.type === Scalar.QUOTE_DOUBLE || n.type === Scalar.QUOTE_SINGLE;
      const base = (n.range?.[0] ?? 0) + (quoted ? 1 : 0);
      try {
        return parseCondition(n.value, names);
      } catch (error) {
        if (!(error instanceof ConditionError)) throw error;
        const block = n.type === Scalar.BLOCK_FOLDED || n.type === Scalar.BLOCK_LITERAL;
        const at = block ? this.position(n) : this.lines.at(base + error.offset, error.length);
        throw new Stop(
          this.error(error.unsupported ? 'unsupported' : 'invalid-condition', error.message, at, error),
        );
      }
    });
    const condition: ConditionNode =
      conditions.length === 1 ? (conditions[0] as ConditionNode) : { kind: 'or', items: conditions };
    return { searches, condition, position: this.position(found.keyNode) };
  }

  private search(node: Node | null, keyNode: Node): SearchNode {
    if (node === null)
      this.stop('invalid-rule', 'a search identifier needs a map, a list of maps or keywords', keyNode);
    if (isMap(node)) {
      // `{}` would hold on every event (an `and` of nothing): `not filter` would then never hold.
      if (node.items.length === 0)
        this.stop('invalid-rule', 'an empty search map (`{}`) names nothing to match: give it fields', node);
      return { kind: 'map', items: this.pairs(node).map((p) => this.item(p.key, p.keyNode, p.value)) };
    }
    if (isSeq(node)) {
      const items = node.items.map((i) => this.resolve(i));
      if (items.length > 0 && items.every((i) => isMap(i))) {
        return { kind: 'anyOf', maps: items.map((i) => this.search(i, keyNode)) };
      }
      if (items.every((i) => isScalar(i))) return { kind: 'map', items: [this.item('', keyNode, node)] };
      this.stop('invalid-rule', 'a search identifier list must hold only maps or only keywords', node);
    }
    if (isScalar(node)) return { kind: 'map', items: [this.item('', keyNode, node)] };
    return this.stop('invalid-rule', 'a search identifier needs a map, a list of maps or keywords', node);
  }

  private item(key: string, keyNode: Node, valueNode: Node | null): DetectionItem {
    const [fieldName, ...modifiers] = key.split('|');
    const field = fieldName === undefined || fieldName === '' ? null : fieldName;
    const position = this.position(keyNode);
    let all: boolean;
    try {
      all = checkModifiers(modifiers).all;
    } catch (error) {
      if (!(error instanceof ModifierError)) throw error;
      this.stop(error.unsupported ? 'unsupported' : 'invalid-modifier', error.message, keyNode, error);
    }
    const nodes: (Node | null)[] =
      valueNode !== null && isSeq(valueNode) ? valueNode.items.map((n) => this.resolve(n)) : [valueNode];
    if (nodes.length === 0)
      this.stop(
        'invalid-value',
        'an empty list of values matches nothing: remove the item',
        valueNode ?? keyNode,
      );
    const values: SigmaValue[] = nodes.map((n) => {
      if (n !== null && !isScalar(n))
        this.stop('invalid-value', 'a value must be a string, number, boolean or null', n);
      const raw = n === null ? null : this.scalarValue(n as Scalar);
      if (raw !== null && typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
        this.stop('invalid-value', 'a value must be a string, number, boolean or null', n);
      }
      const at = n?.range?.[0] ?? keyNode.range?.[0] ?? 0;
      let value: SigmaValue;
      try {
        value = applyModifiers(raw, modifiers, field, at);
      } catch (error) {
        if (!(error instanceof ModifierError)) throw error;
        this.stop(error.unsupported ? 'unsupported' : 'invalid-modifier', error.message, n ?? keyNode, error);
      }
      if (value.kind === 're') this.checkRegex(value, n);
      return value;
    });
    return { field, modifiers, link: all ? 'all' : 'any', values, position };
  }

  /**
   * A value as SigmaHQ's tooling (PyYAML, YAML 1.1) reads it where YAML 1.2 differs: a plain number with
   * leading zeros is text (`00000429`, a keyboard layout id, not 429) unless it is all octal digits, which
   * YAML 1.1 reads as an octal integer (`0755` is 493).
   */
  private scalarValue(n: Scalar): unknown {
    if (typeof n.value !== 'number' || n.type !== Scalar.PLAIN || n.range === null || n.range === undefined) {
      return n.value;
    }
    const written = this.text.slice(n.range[0], n.range[1]).trim();
    if (/^[-+]?0[0-7]+$/.test(written)) return Number.parseInt(written, 8);
    if (/^[-+]?0\d+$/.test(written)) return written;
    return n.value;
  }

  /** Parses the pattern now so an unsupported one refuses the rule at load, with the pattern's column. */
  private checkRegex(value: Extract<SigmaValue, { kind: 're' }>, node: Node | null): void {
    try {
      parsePcre(value.pattern, value.flags);
    } catch (error) {
      if (!(error instanceof PcreError)) throw error;
      // The column inside the pattern is exact when the file spells it verbatim; else the value's start.
      const range = node?.range ?? [value.offset, value.offset];
      const written = this.text.slice(range[0], range[1]);
      const type = isScalar(node) ? node.type : undefined;
      const verbatim =
        type === Scalar.PLAIN ||
        (type === Scalar.QUOTE_SINGLE && !written.includes("''")) ||
        (type === Scalar.QUOTE_DOUBLE && !written.includes('\\'));
      const quoted = type === Scalar.QUOTE_SINGLE || type === Scalar.QUOTE_DOUBLE;
      const at = verbatim ? value.offset + (quoted ? 1 : 0) + error.index : value.offset;
      throw new Stop(
        this.error(
          error.unsupported ? 'unsupported' : 'invalid-value',
          `regular expression: ${error.message}`,
          this.lines.at(at),
          error,
        ),
      );
    }
  }
}

/** The range of the document's first alias (`*name`), where an alias-bomb error points; null: none. */
function firstAlias(doc: Document.Parsed): readonly [number, number] | null {
  let found: readonly [number, number] | null = null;
  visit(doc, {
    Alias(_key, node) {
      found = node.range ? [node.range[0], node.range[1]] : [0, 1];
      return visit.BREAK;
    },
  });
  return found;
}

/** A rule file's YAML documents, parsed and guarded, or why they cannot be read. */
export type SigmaDocuments =
  | { readonly docs: readonly Document.Parsed[]; readonly lines: LineIndex }
  | {
      readonly errors: readonly SigmaRuleError[];
      /** Parsed, when the file was: the documents, each with its own YAML errors (none for most). */
      readonly parsed?: { readonly docs: readonly Document.Parsed[]; readonly lines: LineIndex };
    };

/**
 * The YAML documents of a rule file (`---` separated), or its errors: too large (refused unread), YAML
 * syntax, aliases past `MAX_ALIAS_COUNT`, no document at all.
 */
export function parseSigmaDocuments(text: string, file: string): SigmaDocuments {
  const fail = (
    code: SigmaIssueCode,
    detail: string,
    at: SigmaPosition,
    cause?: unknown,
  ): SigmaDocuments => ({
    errors: [new SigmaRuleError(file, at, code, detail, code === 'too-large' ? '' : text, cause)],
  });
  const start: SigmaPosition = { line: 1, column: 1, offset: 0, length: 1 };
  if (text.length > MAX_RULE_BYTES) {
    return fail(
      'too-large',
      `the rule file is ${text.length} characters; the limit is ${MAX_RULE_BYTES}`,
      start,
    );
  }
  const docs = parseAllDocuments(text, { prettyErrors: false });
  // An empty document (a trailing `---`, one holding only comments) holds no rule: left out, not refused.
  const list = (Array.isArray(docs) ? docs : []).filter(
    (d) =>
      d.errors.length > 0 || !(d.contents === null || (isScalar(d.contents) && d.contents.value === null)),
  );
  if (list.length === 0) return fail('invalid-rule', 'the file holds no YAML document', start);
  const lines = new LineIndex(text);
  const yamlErrors = list.flatMap((d) => d.errors);
  if (yamlErrors.length > 0) {
    return {
      parsed: { docs: list, lines },
      errors: yamlErrors.map(
        (e) =>
          new SigmaRuleError(
            file,
            lines.at(e.pos[0], e.pos[1] - e.pos[0]),
            'yaml-syntax',
            `YAML: ${e.message.split('\n')[0]}`,
            text,
            e,
          ),
      ),
    };
  }
  for (const doc of list) {
    const alias = firstAlias(doc);
    if (alias === null) continue;
    try {
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      if (!(error instanceof ReferenceError)) throw error;
      // yaml says which: an alias with no anchor before it, or past the expansion bound.
      const unresolved = /unresolved alias/i.test(error.message);
      return {
        ...fail(
          'yaml-syntax',
          unresolved
            ? 'YAML: an alias is used before its anchor, or has none (`&name` must come first)'
            : `YAML: aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT}: an alias bomb?)`,
          lines.at(alias[0], alias[1] - alias[0]),
          error,
        ),
        parsed: { docs: list, lines },
      };
    }
  }
  return { docs: list, lines };
}

/** One parsed document of a rule file as a detection rule or a meta filter, with its errors. */
export function readSigmaDocument(
  text: string,
  file: string,
  doc: Document.Parsed,
): {
  readonly rule: SigmaRule | null;
  readonly filter: SigmaFilter | null;
  readonly errors: readonly SigmaRuleError[];
} {
  const reader = new Reader(text, file, doc);
  const contents = doc.contents;
  if (isMap(contents) && contents.has('filter') && !contents.has('detection')) {
    const filter = reader.filter();
    return { rule: null, filter, errors: reader.errors };
  }
  const rule = reader.rule();
  return { rule: reader.errors.length === 0 ? rule : null, filter: null, errors: reader.errors };
}

/**
 * Parses one Sigma rule file's text holding one detection rule or meta filter. `file` names it in every
 * message. A file of several documents or a correlation is refused here: `loadSigmaDocuments`
 * (`correlation-load.ts`) reads those, for a caller that runs correlations.
 */
export function loadSigmaText(text: string, file: string): SigmaFileResult {
  const parsed = parseSigmaDocuments(text, file);
  if ('errors' in parsed) return { file, rule: null, errors: parsed.errors };
  const list = parsed.docs;
  if (list.length > 1) {
    const second = list[1]?.contents?.range?.[0] ?? 0;
    return {
      file,
      rule: null,
      errors: [
        new SigmaRuleError(
          file,
          parsed.lines.at(second),
          'unsupported',
          'files with several YAML documents (correlations, filters or Sigma 1 collections) are not supported yet',
          text,
        ),
      ],
    };
  }
  const read = readSigmaDocument(text, file, list[0] as Document.Parsed);
  return read.filter !== null
    ? { file, rule: null, filter: read.filter, errors: read.errors }
    : { file, rule: read.rule, errors: read.errors };
}
