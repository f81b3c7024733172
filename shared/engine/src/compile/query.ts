import type { EventQuery, FieldExpr, Pipe, Query, QueryItem, SourceSpan } from '@sequor/eql';
import type { FieldCatalog } from '@sequor/model';
import type {
  CorrelationSpec,
  EventTime,
  JoinItemSpec,
  KeyValues,
  Predicate,
  SequenceStepSpec,
  SpanAggregateSpec,
} from '../types.js';
import { compileAccessor } from './accessor.js';
import { compileCategory } from './category.js';
import { CompileContext } from './context.js';
import { CompileError, UnsupportedQueryError } from './errors.js';
import { compileCondition, toPredicate } from './expression.js';
import { compileKey } from './keys.js';

/**
 * The default `join` window when the rule gives no `maxspan`: one hour. A join without a window would
 * keep every unmatched half forever; an hour bounds state per key and is the span the Splunk Remcos
 * analytic joins over (`tstats … span=1h | join process_guid`).
 */
export const DEFAULT_JOIN_WINDOW_MS = 60 * 60 * 1000;

export interface CompileOptions {
  /** Window for a `join` without `maxspan`; default `DEFAULT_JOIN_WINDOW_MS`. */
  readonly defaultJoinWindowMs?: number;
}

/** A rule compiled for the operators, plus what the detector needs around it. */
export interface CompiledQuery<E> {
  readonly spec: CorrelationSpec<E>;
  readonly eventTime: EventTime<E>;
  /** How long a partial match can live: the sequence's maxspan (null when none) or the join window. */
  readonly windowMs: number | null;
  /** ECS names of the query-level `by` fields (the alert's grouping key). */
  readonly keyFields: readonly string[];
  /** ECS names of every field the query reads, in first-use order, for alert evidence. */
  readonly fieldsUsed: readonly string[];
  /** `| head` / `| tail`: not part of a streaming rule; left for `sequor query` to apply to its output. */
  readonly pipes: readonly Pipe[];
}

const at = (span: SourceSpan): FieldExpr['span'] => span;

/** `[category where cond]` → one predicate: the category test and the condition, compiled once. */
function compileEventQuery<E>(event: EventQuery, ctx: CompileContext): Predicate<E> {
  const category = compileCategory<E>(event.category, ctx, at(event.span));
  const where = event.where;
  if (where.kind === 'literal' && where.value === true) return category ?? (() => true);
  const condition = toPredicate(compileCondition<E>(where, ctx));
  if (category === null) return condition;
  return (e) => category(e) && condition(e);
}

/**
 * Event time: `@timestamp` as epoch ms (ISO strings are parsed, for catalogs over raw ECS JSON).
 * Tiebreaker for equal timestamps: `event.sequence` when the event has it, else the source offset
 * (`origin.offset`), else 0. Either field may be absent from the catalog.
 */
export function compileEventTime<E>(catalog: FieldCatalog): EventTime<E> {
  const timestampInfo = catalog.lookup(['@timestamp']);
  if (timestampInfo === undefined) {
    throw new CompileError(
      "the event model has no '@timestamp' field",
      { start: 0, end: 0, line: 1, column: 1 },
      '',
    );
  }
  const getTime = compileAccessor<E>(timestampInfo.storagePath);
  const sequenceInfo = catalog.lookup(['event', 'sequence']);
  const offsetInfo = catalog.lookup(['origin', 'offset']);
  const getSequence = sequenceInfo ? compileAccessor<E>(sequenceInfo.storagePath) : null;
  const getOffset = offsetInfo ? compileAccessor<E>(offsetInfo.storagePath) : null;
  return {
    timestamp: (event) => {
      const t = getTime(event);
      return typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN;
    },
    tiebreaker: (event) => {
      const s = getSequence === null ? null : getSequence(event);
      if (typeof s === 'number') return s;
      const o = getOffset === null ? null : getOffset(event);
      return typeof o === 'number' ? o : 0;
    },
  };
}

function checkItem(item: QueryItem, where: 'sequence' | 'join', ctx: CompileContext): void {
  if (where === 'join' && item.missing)
    ctx.error(
      UnsupportedQueryError,
      'missing events ![...] are a sequence feature, not a join one',
      item.span,
    );
  if (where === 'join' && item.runs > 1)
    ctx.error(UnsupportedQueryError, 'with runs=N is a sequence feature, not a join one', item.span);
}

/**
 * Compile a parsed query against the event model. Throws `QueryCompileError` listing every problem
 * (unknown fields, type mismatches, bad patterns, unsupported constructs) with its position.
 */
export function compileQuery<E>(
  query: Query,
  catalog: FieldCatalog,
  options: CompileOptions = {},
): CompiledQuery<E> {
  const ctx = new CompileContext(catalog, query.source);
  let eventTime: EventTime<E>;
  try {
    eventTime = compileEventTime<E>(catalog);
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    ctx.fail(new CompileError(error.detail, query.body.span, query.source));
    eventTime = { timestamp: () => NaN, tiebreaker: () => 0 };
  }
  const body = query.body;
  let spec: CorrelationSpec<E>;
  let windowMs: number | null = null;
  let keyFields: readonly string[] = [];
  switch (body.kind) {
    case 'event': {
      spec = { kind: 'filter', predicate: compileEventQuery<E>(body, ctx), keyValues: () => [] };
      break;
    }
    case 'sequence': {
      const shared = compileKey<E>(body.by, ctx);
      keyFields = shared.fields;
      const steps: SequenceStepSpec<E>[] = [];
      let keyValues: KeyValues<E> | null = null;
      for (const item of body.items) {
        checkItem(item, 'sequence', ctx);
        const predicate = compileEventQuery<E>(item.query, ctx);
        const key = compileKey<E>([...body.by, ...item.by], ctx);
        if (keyValues === null && !item.missing) keyValues = key.values;
        // `[q] with runs=N` is N consecutive `[q]` steps; the sequence operator expands runs itself.
        steps.push({ predicate, key: key.key, runs: Math.max(1, item.runs), missing: item.missing });
      }
      if (body.items.some((i) => i.missing) && body.maxspan === null) {
        ctx.error(UnsupportedQueryError, 'a sequence with missing events ![...] needs a maxspan', body.span);
      }
      const until = body.until === null ? null : compileUntil<E>(body.until, body.by, ctx);
      windowMs = body.maxspan?.ms ?? null;
      spec = { kind: 'sequence', maxspanMs: windowMs, steps, until, keyValues: keyValues ?? shared.values };
      break;
    }
    case 'join': {
      const shared = compileKey<E>(body.by, ctx);
      keyFields = shared.fields;
      const items: JoinItemSpec<E>[] = [];
      let keyValues: KeyValues<E> | null = null;
      for (const item of body.items) {
        checkItem(item, 'join', ctx);
        const key = compileKey<E>([...body.by, ...item.by], ctx);
        keyValues ??= key.values;
        items.push({ predicate: compileEventQuery<E>(item.query, ctx), key: key.key });
      }
      const until = body.until === null ? null : compileUntil<E>(body.until, body.by, ctx);
      windowMs = body.maxspan?.ms ?? options.defaultJoinWindowMs ?? DEFAULT_JOIN_WINDOW_MS;
      spec = { kind: 'join', windowMs, items, until, keyValues: keyValues ?? shared.values };
      break;
    }
    case 'sample': {
      ctx.error(
        UnsupportedQueryError,
        'sample is not supported by the streaming engine; use join with maxspan',
        body.span,
      );
      spec = { kind: 'filter', predicate: () => false, keyValues: () => [] };
      break;
    }
    default: {
      const unknown: never = body;
      throw new Error(`unhandled query kind ${(unknown as { kind: string }).kind}`);
    }
  }
  ctx.throwIfFailed();
  return { spec, eventTime, windowMs, keyFields, fieldsUsed: ctx.fieldsUsed, pipes: query.pipes };
}

function compileUntil<E>(item: QueryItem, by: readonly FieldExpr[], ctx: CompileContext): JoinItemSpec<E> {
  if (item.missing || item.runs > 1)
    ctx.error(UnsupportedQueryError, 'until takes a plain [query]', item.span);
  return {
    predicate: compileEventQuery<E>(item.query, ctx),
    key: compileKey<E>([...by, ...item.by], ctx).key,
  };
}

export interface SpanAggregateOptions {
  /** The text `where` was parsed from, for error positions. */
  readonly source?: string;
}

/**
 * Splunk `tstats count … WHERE <cond> BY _time span=<spanMs> <fields>` as an event-time aggregate: one
 * group per distinct BY tuple per bucket. Null BY values form their own group (tstats drops such rows
 * unless `fillnull`; we keep them so evidence is never lost; documented divergence).
 */
export function compileSpanAggregate<E>(
  where: EventQuery,
  byFields: readonly FieldExpr[],
  spanMs: number,
  catalog: FieldCatalog,
  options: SpanAggregateOptions = {},
): SpanAggregateSpec<E> {
  const ctx = new CompileContext(catalog, options.source ?? '');
  if (!(spanMs > 0) || !Number.isFinite(spanMs)) {
    ctx.error(
      UnsupportedQueryError,
      `span must be a positive number of milliseconds, got ${spanMs}`,
      where.span,
    );
  }
  const predicate = compileEventQuery<E>(where, ctx);
  const key = compileKey<E>(
    byFields.map((f) => ({ ...f, optional: true })),
    ctx,
  );
  ctx.throwIfFailed();
  const groupKey = key.key as (event: E) => string;
  return { kind: 'spanAggregate', spanMs, predicate, groupKey, keyValues: key.values };
}
