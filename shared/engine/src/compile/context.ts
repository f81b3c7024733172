import type { FieldExpr, SourceSpan } from '@sequor/eql';
import type { FieldCatalog } from '@sequor/model';
import { resolveField, type ResolvedField } from './accessor.js';
import { CompileError, QueryCompileError } from './errors.js';

/**
 * State of one compilation: the catalog, the query text (for error positions), every error found so far
 * and every field read. Compilation goes on after an error (with a placeholder) so that one pass reports
 * all of a rule's problems.
 */
export class CompileContext {
  readonly errors: CompileError[] = [];
  private readonly used = new Set<string>();

  constructor(
    readonly catalog: FieldCatalog,
    readonly source = '',
  ) {}

  /** Record an error; returns nothing so callers write `return ctx.fail(...) ?? placeholder`. */
  fail(error: CompileError): undefined {
    // The same reference compiled twice (a sequence's shared `by` key, once per item) is one problem.
    if (!this.errors.some((e) => e.offset === error.offset && e.detail === error.detail))
      this.errors.push(error);
    return undefined;
  }

  /** Build and record an error of class `kind` at `span`. */
  error(
    kind: new (detail: string, span: SourceSpan, source: string) => CompileError,
    detail: string,
    span: SourceSpan,
  ): undefined {
    return this.fail(new kind(detail, span, this.source));
  }

  /** Resolve a field, recording it as used; null (with the error recorded) when the model lacks it. */
  field<E>(field: FieldExpr): ResolvedField<E> | null {
    try {
      const resolved = resolveField<E>(field, this.catalog, this.source);
      this.used.add(resolved.name);
      return resolved;
    } catch (error) {
      if (error instanceof CompileError) return this.fail(error) ?? null;
      throw error;
    }
  }

  /** Note a field read implicitly (e.g. `event.category` for `process where`). */
  use(name: string): void {
    this.used.add(name);
  }

  get fieldsUsed(): readonly string[] {
    return [...this.used];
  }

  /** Throw every recorded error at once, in source order. */
  throwIfFailed(): void {
    if (this.errors.length === 0) return;
    const sorted = [...this.errors].sort((a, b) => a.offset - b.offset);
    throw new QueryCompileError(sorted, this.source);
  }
}
