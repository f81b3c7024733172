import type {
  Duration,
  EventQuery,
  Expr,
  FieldExpr,
  Literal,
  Pipe,
  Query,
  QueryBody,
  QueryItem,
  SourceSpan,
} from '@sequor/eql';

/** mulberry32: a tiny seeded PRNG so a failing case is reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPAN: SourceSpan = { start: 0, end: 0, line: 1, column: 1 };

// Pools chosen to hit the printer's quoting rules: keywords, spaces, backquotes, @, capitals, digits.
const SEGMENTS = [
  'process',
  'name',
  'Ext',
  'header_bytes',
  '@timestamp',
  'sequence',
  'in',
  'not',
  'by',
  'with space',
  'a`b',
  'x-y',
  '9lives',
  '_u',
  'head',
];
const STRINGS = [
  '',
  'cmd.exe',
  '*\\Software\\Remcos*',
  'say "hi"',
  'tab\there',
  'line\nbreak',
  'cr\r',
  '\u0001ctl',
  'é😀',
  'a*b?c',
  '"""',
  '\\',
  "it's",
];
const NUMBERS = [0, 1, 445, -7, 1.5, -0.25, 30000, 1e21, 1e-7, 0.30000000000000004, 2147483647];
const FUNCTIONS = ['startsWith', 'endsWith', 'cidrMatch', 'length', 'concat', 'wildcard', 'f_2'];
const CATEGORIES: (string | null)[] = [
  null,
  'process',
  'file',
  'registry',
  'my-category',
  'sequence',
  '6events',
  'with space',
];
const UNITS: [string, number][] = [
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
];

export class Arbitrary {
  constructor(private readonly random: () => number) {}

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private times<T>(min: number, max: number, f: () => T): T[] {
    return Array.from({ length: min + this.int(max - min + 1) }, f);
  }

  field(): FieldExpr {
    return {
      kind: 'field',
      path: this.times(1, 3, () => this.pick(SEGMENTS)),
      optional: this.random() < 0.2,
      span: SPAN,
    };
  }

  literal(): Expr {
    const r = this.random();
    const value: Literal =
      r < 0.45 ? this.pick(STRINGS) : r < 0.8 ? this.pick(NUMBERS) : r < 0.9 ? this.random() < 0.5 : null;
    return { kind: 'literal', value, span: SPAN };
  }

  expr(depth: number): Expr {
    const leaf = depth <= 0 || this.random() < 0.25;
    if (leaf) return this.random() < 0.5 ? this.field() : this.literal();
    const d = depth - 1;
    switch (this.int(8)) {
      case 0:
        return { kind: 'and', operands: this.times(2, 4, () => this.expr(d)), span: SPAN };
      case 1:
        return { kind: 'or', operands: this.times(2, 4, () => this.expr(d)), span: SPAN };
      case 2:
        return { kind: 'not', operand: this.expr(d), span: SPAN };
      case 3:
        return {
          kind: 'compare',
          op: this.pick(['==', '!=', '<', '<=', '>', '>='] as const),
          left: this.expr(d),
          right: this.expr(d),
          span: SPAN,
        };
      case 4:
        return {
          kind: 'match',
          op: this.pick([':', 'like', 'like~', 'regex', 'regex~'] as const),
          left: this.expr(d),
          patterns: this.times(1, 3, () => this.pick(STRINGS)),
          span: SPAN,
        };
      case 5:
        return {
          kind: 'in',
          left: this.expr(d),
          values: this.times(1, 3, () => this.expr(d)),
          caseInsensitive: this.random() < 0.5,
          negated: this.random() < 0.5,
          span: SPAN,
        };
      case 6:
        return {
          kind: 'call',
          name: this.pick(FUNCTIONS),
          caseInsensitive: this.random() < 0.3,
          args: this.times(0, 3, () => this.expr(d)),
          span: SPAN,
        };
      default:
        return this.field();
    }
  }

  eventQuery(): EventQuery {
    return { kind: 'event', category: this.pick(CATEGORIES), where: this.expr(3), span: SPAN };
  }

  duration(): Duration {
    const [unit, ms] = this.pick(UNITS);
    const n = this.int(120);
    return { ms: n * ms, text: `${n}${unit}`, span: SPAN };
  }

  item(): QueryItem {
    return {
      query: this.eventQuery(),
      by: this.times(0, 2, () => this.field()),
      runs: this.random() < 0.7 ? 1 : this.int(10),
      missing: this.random() < 0.2,
      span: SPAN,
    };
  }

  body(): QueryBody {
    switch (this.int(4)) {
      case 0:
        return this.eventQuery();
      case 1:
      case 2: {
        const kind = this.random() < 0.5 ? 'sequence' : 'join';
        return {
          kind,
          by: this.times(0, 2, () => this.field()),
          maxspan: this.random() < 0.7 ? this.duration() : null,
          items: this.times(1, 4, () => this.item()),
          until: this.random() < 0.3 ? { ...this.item(), missing: false } : null,
          span: SPAN,
        };
      }
      default:
        return {
          kind: 'sample',
          by: this.times(0, 2, () => this.field()),
          items: this.times(1, 3, () => this.item()),
          span: SPAN,
        };
    }
  }

  query(): Query {
    const pipes: Pipe[] = this.times(0, 2, () => ({
      kind: this.random() < 0.5 ? 'head' : 'tail',
      count: this.int(1000),
      span: SPAN,
    }));
    return { body: this.body(), pipes, source: '' };
  }
}
