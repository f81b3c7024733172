import {
  FUNCTIONS as SIGNATURES,
  type CallExpr,
  type Expr,
  type FunctionName,
  type ValueType,
} from '@sequor/eql';
import type { CompileContext } from './context.js';
import { InvalidPatternError, TypeMismatchError } from './errors.js';
import { compileWildcardList } from './wildcard.js';
import { inCidr, newIpWords, parseCidr, parseIpInto, type CidrBlock } from './ip.js';

/** A compiled value: the field's or function's value for one event; `null`/`undefined` is EQL null. */
export type ValueFn<E> = (event: E) => unknown;

/**
 * How one EQL function computes, as Elasticsearch defines it: null in → null out (a script returns null
 * and the event does not match), `~` variants case-insensitive. String predicates applied to a
 * multi-valued field match when any value does (ES's multi-value aware script query).
 */
interface Implementation {
  compile<E>(args: readonly ValueFn<E>[], call: CallExpr, ctx: CompileContext): ValueFn<E>;
}

/** One function: its signature from `@sequor/eql`'s table, its implementation from this file. */
export interface FunctionDef extends Implementation {
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Whether `name~(...)` exists. */
  readonly caseInsensitive: boolean;
  readonly returns: ValueType;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && !Number.isNaN(v) ? v : null);

/** `(s, lit) => boolean|null` over one string, lifted to multi-valued first arguments. */
function stringPredicate(test: (value: string, needle: string) => boolean): Implementation {
  return {
    compile<E>(args: readonly ValueFn<E>[], call: CallExpr): ValueFn<E> {
      const [getValue, getNeedle] = args as [ValueFn<E>, ValueFn<E>];
      const fold = call.caseInsensitive;
      const one = (v: unknown, needle: string): boolean | null => {
        const s = str(v);
        if (s === null) return null;
        return test(fold ? s.toLowerCase() : s, needle);
      };
      return (event) => {
        const rawNeedle = str(getNeedle(event));
        if (rawNeedle === null) return null;
        const needle = fold ? rawNeedle.toLowerCase() : rawNeedle;
        const value = getValue(event);
        if (!Array.isArray(value)) return one(value, needle);
        let result: boolean | null = null;
        for (const item of value) {
          const r = one(item, needle);
          if (r === true) return true;
          if (r === false) result = false;
        }
        return result;
      };
    },
  };
}

function arithmetic(op: (a: number, b: number) => number | null): Implementation {
  return {
    compile<E>(args: readonly ValueFn<E>[]): ValueFn<E> {
      const [left, right] = args as [ValueFn<E>, ValueFn<E>];
      return (event) => {
        const a = num(left(event));
        const b = num(right(event));
        return a === null || b === null ? null : op(a, b);
      };
    },
  };
}

/** String literal arguments (patterns compiled once); reports any that is not a literal. */
export function literalStrings(nodes: readonly Expr[], message: string, ctx: CompileContext): string[] {
  const out: string[] = [];
  for (const node of nodes) {
    if (node.kind === 'literal' && typeof node.value === 'string') out.push(node.value);
    else ctx.error(TypeMismatchError, message, node.span);
  }
  return out;
}

/** Literal CIDR blocks, parsed once; reports bad ones at their position. */
export function literalCidrs(nodes: readonly Expr[], ctx: CompileContext): CidrBlock[] | null {
  const blocks: CidrBlock[] = [];
  for (const node of nodes) {
    if (node.kind !== 'literal' || typeof node.value !== 'string') {
      return (
        ctx.error(TypeMismatchError, 'cidrMatch takes CIDR blocks as string literals', node.span) ?? null
      );
    }
    const block = parseCidr(node.value);
    if (block === null)
      return ctx.error(InvalidPatternError, `not a CIDR block: "${node.value}"`, node.span) ?? null;
    blocks.push(block);
  }
  return blocks;
}

/** The matcher shared by the pushed-down and the script form of cidrMatch. Reuses one parse buffer. */
export function cidrMatcher(blocks: readonly CidrBlock[]): (value: string) => boolean {
  const scratch = newIpWords();
  return (value) => {
    if (!parseIpInto(value, scratch)) return false;
    for (let i = 0; i < blocks.length; i++) if (inCidr(scratch, blocks[i] as CidrBlock)) return true;
    return false;
  };
}

/** Python-style slice indexes, as ES's substring: negative counts from the end, clamped to the string. */
function sliceIndex(index: number, length: number): number {
  const i = Math.trunc(index);
  if (i < 0) return Math.max(0, length + i);
  return Math.min(i, length);
}

/** Keyed by `FunctionName`: exactly the functions of `@sequor/eql`'s table, no more, no fewer. */
const IMPLEMENTATIONS: { readonly [N in FunctionName]: Implementation } = {
  add: arithmetic((a, b) => a + b),
  subtract: arithmetic((a, b) => a - b),
  multiply: arithmetic((a, b) => a * b),
  // Integer operands divide as Java longs do (truncating); a zero divisor is null, not an exception per event.
  divide: arithmetic((a, b) =>
    b === 0 ? null : Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b,
  ),
  modulo: arithmetic((a, b) => (b === 0 ? null : a % b)),
  startsWith: stringPredicate((s, needle) => s.startsWith(needle)),
  endsWith: stringPredicate((s, needle) => s.endsWith(needle)),
  // ES: an empty substring is not contained (`stringContains("", "")` is false).
  stringContains: stringPredicate((s, needle) => needle.length > 0 && s.includes(needle)),
  wildcard: {
    // Endgame/Python eql's function, here with `like` semantics: case-sensitive unless `wildcard~`.
    compile<E>(args: readonly ValueFn<E>[], call: CallExpr, ctx: CompileContext): ValueFn<E> {
      const patterns = literalStrings(
        call.args.slice(1),
        'wildcard takes its patterns as string literals',
        ctx,
      );
      const fold = call.caseInsensitive;
      const matches = compileWildcardList(patterns, fold);
      const get = args[0] as ValueFn<E>;
      const one = (v: unknown): boolean | null =>
        typeof v === 'string' ? matches(fold ? v.toLowerCase() : v) : null;
      return (event) => {
        const value = get(event);
        if (!Array.isArray(value)) return one(value);
        let result: boolean | null = null;
        for (const item of value) {
          const r = one(item);
          if (r === true) return true;
          if (r === false) result = false;
        }
        return result;
      };
    },
  },
  cidrMatch: {
    compile<E>(args: readonly ValueFn<E>[], call: CallExpr, ctx: CompileContext): ValueFn<E> {
      const blocks = literalCidrs(call.args.slice(1), ctx) ?? [];
      const matches = cidrMatcher(blocks);
      const getValue = args[0] as ValueFn<E>;
      return (event) => {
        const value = getValue(event);
        if (typeof value === 'string') return matches(value);
        if (!Array.isArray(value)) return null;
        let result: boolean | null = null;
        for (const item of value) {
          if (typeof item !== 'string') continue;
          if (matches(item)) return true;
          result = false;
        }
        return result;
      };
    },
  },
  length: {
    // A multi-valued field's length is its number of values (Endgame EQL); ES does not define it.
    compile<E>(args: readonly ValueFn<E>[]): ValueFn<E> {
      const get = args[0] as ValueFn<E>;
      return (event) => {
        const v = get(event);
        return typeof v === 'string' || Array.isArray(v) ? v.length : null;
      };
    },
  },
  concat: {
    compile<E>(args: readonly ValueFn<E>[]): ValueFn<E> {
      return (event) => {
        let out = '';
        for (let i = 0; i < args.length; i++) {
          const v = (args[i] as ValueFn<E>)(event);
          if (v == null || typeof v === 'object') return null;
          out += String(v);
        }
        return out;
      };
    },
  },
  string: {
    compile<E>(args: readonly ValueFn<E>[]): ValueFn<E> {
      const get = args[0] as ValueFn<E>;
      return (event) => {
        const v = get(event);
        return v == null || typeof v === 'object' ? null : String(v);
      };
    },
  },
  number: {
    compile<E>(args: readonly ValueFn<E>[]): ValueFn<E> {
      const [get, getBase] = args as [ValueFn<E>, ValueFn<E> | undefined];
      return (event) => {
        const v = get(event);
        if (typeof v === 'number') return v;
        const s = str(v)?.trim();
        if (s === undefined || s === null || s === '') return null;
        // A `0x` prefix means base 16 whatever the base; an explicit null base is the default (ES).
        const hex = /^[-+]?0x/i.test(s);
        const baseRaw = getBase === undefined ? null : getBase(event);
        const base = hex ? 16 : baseRaw == null ? 10 : num(baseRaw);
        if (base === null) return null;
        if (base === 10) {
          const n = Number(s);
          return Number.isNaN(n) ? null : n;
        }
        const digits = base === 16 ? s.replace(/^([-+]?)0x/i, '$1') : s;
        if (!/^[-+]?[0-9a-z]+$/i.test(digits)) return null;
        const n = parseInt(digits, base);
        return Number.isNaN(n) ? null : n;
      };
    },
  },
  substring: {
    compile<E>(args: readonly ValueFn<E>[]): ValueFn<E> {
      const [get, getStart, getEnd] = args as [ValueFn<E>, ValueFn<E>, ValueFn<E> | undefined];
      return (event) => {
        const s = str(get(event));
        const start = num(getStart(event));
        if (s === null || start === null) return null;
        const endRaw = getEnd === undefined ? null : getEnd(event);
        const end = endRaw == null ? s.length : num(endRaw);
        if (end === null) return null;
        const from = sliceIndex(start, s.length);
        const to = sliceIndex(end, s.length);
        return to <= from ? '' : s.slice(from, to);
      };
    },
  },
  indexOf: {
    compile<E>(args: readonly ValueFn<E>[], call: CallExpr): ValueFn<E> {
      const [get, getNeedle, getStart] = args as [ValueFn<E>, ValueFn<E>, ValueFn<E> | undefined];
      const fold = call.caseInsensitive;
      return (event) => {
        let s = str(get(event));
        let needle = str(getNeedle(event));
        if (s === null || needle === null) return null;
        const startRaw = getStart === undefined ? 0 : getStart(event);
        const start = startRaw == null ? 0 : num(startRaw);
        if (start === null) return null;
        if (fold) {
          s = s.toLowerCase();
          needle = needle.toLowerCase();
        }
        // ES: negative starts count as 0; a start past the end is null (JS would clamp it).
        const from = Math.max(0, Math.trunc(start));
        if (from > s.length) return null;
        const at = s.indexOf(needle, from);
        return at < 0 ? null : at;
      };
    },
  },
  between: {
    compile<E>(args: readonly ValueFn<E>[], call: CallExpr, ctx: CompileContext): ValueFn<E> {
      const [get, getLeft, getRight] = args as [ValueFn<E>, ValueFn<E>, ValueFn<E>];
      const greedyNode = call.args[3];
      let greedy = false;
      if (greedyNode !== undefined) {
        if (greedyNode.kind !== 'literal' || typeof greedyNode.value !== 'boolean') {
          ctx.error(
            TypeMismatchError,
            "between's fourth argument (greedy) must be true or false",
            greedyNode.span,
          );
        } else {
          greedy = greedyNode.value;
        }
      }
      const fold = call.caseInsensitive;
      return (event) => {
        const s = str(get(event));
        const left = str(getLeft(event));
        const right = str(getRight(event));
        if (s === null || left === null || right === null) return null;
        const haystack = fold ? s.toLowerCase() : s;
        const l = fold ? left.toLowerCase() : left;
        const r = fold ? right.toLowerCase() : right;
        const start = haystack.indexOf(l);
        if (start < 0) return '';
        const from = start + l.length;
        const end = greedy ? haystack.lastIndexOf(r) : haystack.indexOf(r, from);
        return end < from ? '' : s.slice(from, end);
      };
    },
  },
};

/** Every function the compiler runs: `@sequor/eql`'s signatures, each with its implementation. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(
  [...SIGNATURES.values()].map((spec): [string, FunctionDef] => [
    spec.name,
    {
      minArgs: spec.minArgs,
      maxArgs: spec.maxArgs,
      caseInsensitive: spec.tilde,
      returns: spec.returns,
      compile: IMPLEMENTATIONS[spec.name].compile,
    },
  ]),
);
