import type { FieldExpr } from '@sequor/eql';
import type { Predicate } from '../types.js';
import type { CompileContext } from './context.js';

/** ECS's event category field; `event.category` is an array (`["authentication", "iam"]`). */
export const CATEGORY_FIELD = ['event', 'category'] as const;

/**
 * `<category> where …` matches when `event.category` holds the category (ES: a term query on the
 * category field, so any value of the array, case-sensitive). `any where …` returns null: no filter.
 */
export function compileCategory<E>(
  category: string | null,
  ctx: CompileContext,
  span: FieldExpr['span'],
): Predicate<E> | null {
  if (category === null) return null;
  const resolved = ctx.field<E>({ kind: 'field', path: CATEGORY_FIELD, optional: false, span });
  if (resolved === null) return null;
  const get = resolved.get;
  return (event) => {
    const v = get(event);
    return v === category || (Array.isArray(v) && v.includes(category));
  };
}
