/**
 * One rule file's text -> a checked `Rule`, or every problem found in it. Pure (no I/O): the loader reads
 * files and calls this; `rules lint` adds the checks that span files (duplicate ids) or depend on the
 * deployment (partition keys).
 */
import type { EqlSemanticError, EqlSyntaxError, Query } from '@sequor/eql';
import { checkQuery, tryParse } from '@sequor/eql';
import type { FieldCatalog } from '@sequor/model';
import type { SigmaFilter, SigmaUnloadedCorrelation } from '@sequor/sigma';
import { eventFieldCatalog } from '@sequor/model';
import type { Node } from 'yaml';
import { isMap, isNode, isScalar, parseDocument, visit } from 'yaml';
import type { RuleFileError } from './errors.js';
import { closest, MetadataReader, ruleKeys } from './metadata.js';
import { MessageTemplate } from './message.js';
import { slowPatterns } from './pattern-cost.js';
import type { DocPath } from './source-map.js';
import { RuleSourceMap } from './source-map.js';
import { readExceptions } from './exceptions.js';
import type { EqlRule, Rule } from './types.js';
import type { ValueListSet } from './value-lists.js';

export interface RuleAnalysisOptions {
  /** The fields rules may name; default: the event model's catalog. */
  readonly catalog?: FieldCatalog;
  /** The value lists `in_list` exceptions name (`--lists DIR`, `VALUE_LISTS_DIR`); default none. */
  readonly valueLists?: ValueListSet;
}

export interface RuleFileResult {
  readonly file: string;
  /** The rule when it has no errors (warnings allowed), else null. */
  readonly rule: Rule | null;
  readonly errors: readonly RuleFileError[];
  readonly warnings: readonly RuleFileError[];
  /** A Sigma meta filter the file holds: no rule itself, it applies to the set's Sigma rules. */
  readonly sigmaFilter?: SigmaFilter;
  /**
   * Sigma correlations of the file that did not load, with the rules they name: those stay building
   * blocks (`generate: false`) whether the correlation loads or not.
   */
  readonly unloadedCorrelations?: readonly SigmaUnloadedCorrelation[];
  /** The rule loads but raises no alerts of its own: a Sigma correlation with `generate: false` names it. */
  readonly silenced?: boolean;
  /** The rule loads but the selection (`--min-level`, `--status`, `--tags`) leaves it out: not compiled. */
  readonly deselected?: boolean;
  /**
   * The selection leaves the rule out but a kept correlation reads it: it runs for that correlation only
   * and raises no alerts of its own (it is `silenced`), whatever `generate` says.
   */
  readonly keptForCorrelation?: boolean;
}

/** What `analyzeRuleText` gives: a Sequor YAML file's rule is an EQL rule. */
export type EqlFileResult = RuleFileResult & { readonly rule: EqlRule | null };

function split(file: string, issues: readonly RuleFileError[], rule: EqlRule | null): EqlFileResult {
  const errors = issues.filter((i) => i.level === 'error');
  const warnings = issues.filter((i) => i.level === 'warning');
  return { file, rule: errors.length === 0 ? rule : null, errors, warnings };
}

/** How many nodes may be reached through aliases when a rule file is expanded (yaml's guard against alias bombs). */
export const MAX_ALIAS_COUNT = 100;

/** The range of the document's first alias (`*name`), where an alias-bomb error points. */
function firstAliasRange(doc: ReturnType<typeof parseDocument>): readonly [number, number] {
  let range: readonly [number, number] = [0, 1];
  visit(doc, {
    Alias(_key, node) {
      if (node.range) range = [node.range[0], node.range[1]];
      return visit.BREAK;
    },
  });
  return range;
}

/** Parses and checks one rule file's text; `file` names it in every message. */
export function analyzeRuleText(
  text: string,
  file: string,
  options: RuleAnalysisOptions = {},
): EqlFileResult {
  const catalog = options.catalog ?? eventFieldCatalog;
  const doc = parseDocument(text, { prettyErrors: false });
  const nodeAt = (path: DocPath): Node | undefined =>
    path.length === 0 ? (doc.contents ?? undefined) : (doc.getIn(path, true) as Node | undefined);
  const keyNodeAt = (path: DocPath): Node | undefined => {
    const parent = nodeAt(path.slice(0, -1));
    const last = path[path.length - 1];
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    return isNode(pair?.key) ? pair.key : undefined;
  };
  const map = new RuleSourceMap(file, text, nodeAt, keyNodeAt);

  // A YAML error leaves the document's shape unknown: report it (and any others) and stop.
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const [start, end] = e.pos;
      const at = map.position(start);
      return map.issue(at, 'yaml-syntax', `YAML: ${e.message}${plainScalarHint(text, at.offset)}`, {
        length: end - start,
        cause: e,
      });
    });
    return split(file, issues, null);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (error) {
    // yaml refuses an alias bomb ("billion laughs") while expanding it: a problem of this file, at its first alias.
    if (!(error instanceof ReferenceError)) throw error;
    const [start, end] = firstAliasRange(doc);
    const detail = `YAML: aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} through aliases: an alias bomb?)`;
    return split(
      file,
      [map.issue(map.position(start), 'yaml-syntax', detail, { length: end - start, cause: error })],
      null,
    );
  }
  if (!isMap(doc.contents) || typeof js !== 'object' || js === null || Array.isArray(js)) {
    return split(
      file,
      [map.issueAt([], 'invalid-field', 'a rule file must be a YAML mapping (one rule per file)')],
      null,
    );
  }
  const root = js as Record<string, unknown>;

  const read = new MetadataReader(root, map);
  read.unknownKeys([], ruleKeys);
  const id = read.id();
  const name = read.string(['name']);
  const description = read.string(['description']);
  const version = read.integer(
    ['version'],
    1,
    2 ** 31 - 1,
    'a positive integer (bump it when the logic changes: alert ids include it)',
  );
  const { severity, riskScore } = read.severityAndRisk();
  const author = read.strings(['author'], { required: true });
  const license = read.string(['license']);
  const threat = read.threat();
  const references = read.strings(['references']);
  const falsePositives = read.strings(['false_positives']);
  const tags = read.strings(['tags']);
  const source = read.source();
  const message = read.string(['message']);
  const type = read.type();
  const queryText = read.string(['query']);
  const tests = read.tests();

  const spanRule = type === 'span_aggregation';
  const span = spanRule ? read.span() : null;
  const groupBy = spanRule ? read.strings(['group_by'], { required: true }) : [];
  const suppress = read.suppress();

  const issues: RuleFileError[] = [...read.issues];
  groupBy.forEach((f, i) => {
    if (catalog.lookup(f.split('.')) === undefined)
      issues.push(unknownFieldIssue(map, ['group_by', i], f, catalog));
  });
  suppress?.by.forEach((f, i) => {
    if (catalog.lookup(f.split('.')) === undefined)
      issues.push(unknownFieldIssue(map, ['suppress', 'by', i], f, catalog));
  });
  const exceptions = readExceptions(root, map, catalog, options.valueLists, (path, field) =>
    unknownFieldIssue(map, path, field, catalog),
  );
  issues.push(...exceptions.issues);
  if (!spanRule) {
    for (const key of ['span', 'group_by'] as const) {
      if (key in root) {
        issues.push(
          map.issueAt(
            [key],
            'invalid-field',
            `\`${key}\` applies only to rules of type span_aggregation (this rule is type ${type})`,
          ),
        );
      }
    }
  }

  // The query: syntax, then semantics against the catalog, then the shape the rule type needs.
  let ast: Query | null = null;
  if (queryText !== '') {
    const parsed = tryParse(queryText);
    if (!parsed.ok) {
      issues.push(queryIssue(map, parsed.error, 'eql-syntax'));
    } else {
      ast = parsed.query;
      for (const e of checkQuery(ast, catalog)) issues.push(queryIssue(map, e, 'eql-semantic'));
      issues.push(...shapeIssues(map, ast, type));
      for (const p of slowPatterns(ast)) {
        issues.push(
          map.issue(map.positionInScalar(['query'], p.offset), 'slow-pattern', p.detail, {
            level: 'warning',
            length: p.length,
          }),
        );
      }
    }
  }

  // Message placeholders must name fields the model has, or alerts would say "unknown" forever.
  if (message !== '') {
    for (const p of MessageTemplate.parse(message).placeholders) {
      if (catalog.lookup(p.field.split('.')) !== undefined) continue;
      const guess = closest(p.field, fieldNames(catalog));
      issues.push(
        map.issue(
          map.positionInScalar(['message'], p.offset),
          'unknown-placeholder',
          `message placeholder $${p.field}$ names no field of the event model${guess ? `: did you mean $${guess}$?` : ''}`,
          { length: p.length },
        ),
      );
    }
  }

  if (ast === null) return split(file, issues, null);
  const rule: EqlRule = {
    id,
    name,
    description,
    version,
    severity,
    riskScore,
    author,
    license,
    threat,
    references,
    falsePositives,
    tags,
    source,
    message,
    type,
    query: queryText,
    ast,
    span,
    groupBy,
    suppress,
    ...(exceptions.items.length > 0 ? { exceptions: exceptions.items } : {}),
    tests,
    location: map,
  };
  return split(file, issues, rule);
}

/**
 * EQL's `:` operator inside a plain (unquoted) YAML scalar reads as a nested mapping: the most likely YAML
 * error in a rule file. When the error sits on a `query:` or `message:` line, say how to write it.
 */
function plainScalarHint(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const lineEnd = text.indexOf('\n', lineStart);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  return /^\s*(query|message)\s*:\s*[^|>\s"']/.test(line)
    ? ' (a `:` inside an unquoted value starts a mapping: write the value as a block scalar, `query: |` followed by the query on indented lines)'
    : '';
}

function fieldNames(catalog: FieldCatalog): string[] {
  return [...catalog.fields()].map((f) => f.name);
}

function unknownFieldIssue(
  map: RuleSourceMap,
  path: DocPath,
  field: string,
  catalog: FieldCatalog,
): RuleFileError {
  const guess = closest(field, fieldNames(catalog));
  return map.issueAt(
    path,
    'eql-semantic',
    `unknown field \`${field}\`: the event model has no such field${guess ? `; did you mean \`${guess}\`?` : ''}`,
  );
}

/** An EQL error at its query offset, re-pointed at the file line and column inside `query`. */
function queryIssue(
  map: RuleSourceMap,
  e: EqlSyntaxError | EqlSemanticError,
  code: 'eql-syntax' | 'eql-semantic',
): RuleFileError {
  const level = 'severity' in e ? e.severity : 'error';
  return map.issue(map.positionInScalar(['query'], e.offset), code, e.detail, {
    level,
    length: e.length,
    cause: e,
  });
}

/** What each rule type can run: streaming rules have no pipes; span aggregations aggregate one event query. */
function shapeIssues(map: RuleSourceMap, query: Query, type: EqlRule['type']): RuleFileError[] {
  const at = (offset: number, detail: string, length = 1): RuleFileError =>
    map.issue(map.positionInScalar(['query'], offset), 'invalid-field', detail, { length });
  const out: RuleFileError[] = [];
  for (const pipe of query.pipes) {
    out.push(
      at(
        pipe.span.start,
        `\`| ${pipe.kind}\` is for hunting queries: a streaming rule has no end to count from`,
        pipe.span.end - pipe.span.start,
      ),
    );
  }
  const body = query.body;
  if (type === 'span_aggregation' && body.kind !== 'event') {
    out.push(
      at(
        body.span.start,
        `a span_aggregation rule aggregates one event query (\`registry where ...\`), not a ${body.kind}: group with \`group_by\``,
      ),
    );
  }
  if (type === 'eql' && body.kind === 'sample') {
    out.push(
      at(
        body.span.start,
        '`sample` is not supported in streaming rules (it has no maxspan, so state would grow without bound): use `join ... with maxspan=`',
      ),
    );
  }
  return out;
}
