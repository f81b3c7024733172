import type { FieldExpr } from '@sequor/eql';
import type { FieldCatalog, FieldInfo } from '@sequor/model';
import { UnknownFieldError } from './errors.js';

/**
 * Reads one field of an event: a chain of property reads along the storage path, built once per rule.
 * Returns `undefined`/`null` when the field or any parent is missing; the compiler treats both as EQL null.
 */
export type Accessor<E> = (event: E) => unknown;

/**
 * Compile a storage path (`['file', 'Ext', 'header_bytes']`) into an accessor: a function generated for
 * this path, with the property names written in its code (`e["file"]`, then `["Ext"]`, ...).
 *
 * Why generated: closures made from one shared function literal share their inline caches, so one
 * `x[b]` site saw every field of every rule and went megamorphic (a hash lookup per read, the single
 * largest cost in the engine's profile). A function per path keeps each property read monomorphic.
 * The names come from the field catalog, never from events, and are embedded as JSON string literals.
 */
export function compileAccessor<E>(storagePath: readonly string[]): Accessor<E> {
  if (storagePath.length === 0) throw new RangeError('empty storage path');
  const last = storagePath.length - 1;
  let body = '';
  let current = 'e';
  for (let depth = 0; depth < last; depth++) {
    const next = `x${depth}`;
    body += `const ${next} = ${current}[${JSON.stringify(storagePath[depth])}];\n`;
    body += `if (${next} == null) return undefined;\n`;
    current = next;
  }
  body += `return ${current}[${JSON.stringify(storagePath[last])}];`;
  return new Function('e', body) as Accessor<E>;
}

/** A field reference resolved through the catalog: where it lives, its type, and its accessor. */
export interface ResolvedField<E> {
  /** The ECS name as written in rules (`@timestamp`, `host.id`). */
  readonly name: string;
  /** Catalog info; null for an `?optional` field the model lacks (it then always reads null). */
  readonly info: FieldInfo | null;
  readonly get: Accessor<E>;
}

const alwaysNull = (): null => null;

/**
 * Resolve a parsed field through the catalog. An unknown field is an `UnknownFieldError` pointing at the
 * reference, unless written `?field` (Elasticsearch's optional-field syntax), which then reads as null.
 */
export function resolveField<E>(field: FieldExpr, catalog: FieldCatalog, source = ''): ResolvedField<E> {
  const name = field.path.join('.');
  const info = catalog.lookup(field.path);
  if (info !== undefined) return { name: info.name, info, get: compileAccessor<E>(info.storagePath) };
  if (field.optional) return { name, info: null, get: alwaysNull };
  throw new UnknownFieldError(name, suggestFields(name, catalog), field.span, source);
}

/** Up to two catalog names within a small edit distance of `name`, closest first. */
export function suggestFields(name: string, catalog: FieldCatalog): string[] {
  const limit = Math.max(2, Math.floor(name.length / 4));
  const scored: { name: string; distance: number }[] = [];
  for (const info of catalog.fields()) {
    const distance = editDistance(name.toLowerCase(), info.name.toLowerCase(), limit);
    if (distance <= limit) scored.push({ name: info.name, distance });
  }
  scored.sort((x, y) => x.distance - y.distance || x.name.localeCompare(y.name));
  return scored.slice(0, 2).map((s) => s.name);
}

/** Levenshtein distance, giving up (returning limit + 1) once every cell of a row exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      current.push(value);
      if (value < best) best = value;
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] as number;
}
