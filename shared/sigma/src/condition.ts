/**
 * Sigma conditions: `and`, `or`, `not`, parentheses, `1 of x*` / `all of x*` / `any of x*` with `them`.
 * Precedence as the specification gives it: `not` binds tightest, then `and`, then `or`. The deprecated
 * Sigma 1 aggregations (`| count() by x > 5`) and `near` are refused with the reason: correlation rules
 * replace them.
 */

export type ConditionNode =
  | { readonly kind: 'and' | 'or'; readonly items: readonly ConditionNode[] }
  | { readonly kind: 'not'; readonly item: ConditionNode }
  | { readonly kind: 'ref'; readonly name: string; readonly offset: number }
  | {
      readonly kind: 'of';
      readonly quantifier: 'any' | 'all';
      /** The search identifiers the pattern selects, already resolved. */
      readonly names: readonly string[];
      readonly offset: number;
    };

/** A problem in a condition at `offset` (in the condition text). `unsupported`: valid Sigma we refuse. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly length: number,
    readonly unsupported: boolean,
  ) {
    super(message);
    this.name = 'ConditionError';
  }
}

interface Token {
  readonly text: string;
  readonly offset: number;
}

const MAX_DEPTH = 100;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:([()|])|([^\s()|]+))/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    const t = (m[1] ?? m[2]) as string;
    tokens.push({ text: t, offset: m.index + m[0].length - t.length });
  }
  return tokens;
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly text: string,
    private readonly identifiers: readonly string[],
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private word(t: Token | undefined): string {
    return t === undefined ? '' : t.text.toLowerCase();
  }

  private fail(message: string, at: Token | undefined, unsupported = false): never {
    const offset = at?.offset ?? this.text.length;
    throw new ConditionError(message, offset, at?.text.length ?? 1, unsupported);
  }

  parse(): ConditionNode {
    if (this.tokens.length === 0) this.fail('the condition is empty', undefined);
    const node = this.or();
    const rest = this.peek();
    if (rest !== undefined) {
      if (rest.text === '|') {
        this.fail(
          'aggregations (`| count() …`) are deprecated Sigma 1 syntax and not supported: write a correlation rule',
          rest,
          true,
        );
      }
      this.fail(`unexpected \`${rest.text}\``, rest);
    }
    return node;
  }

  private or(): ConditionNode {
    const items = [this.and()];
    while (this.word(this.peek()) === 'or') {
      this.i += 1;
      items.push(this.and());
    }
    return items.length === 1 ? (items[0] as ConditionNode) : { kind: 'or', items };
  }

  private and(): ConditionNode {
    const items = [this.not()];
    while (this.word(this.peek()) === 'and') {
      this.i += 1;
      items.push(this.not());
    }
    return items.length === 1 ? (items[0] as ConditionNode) : { kind: 'and', items };
  }

  private not(): ConditionNode {
    if (this.word(this.peek()) === 'not') {
      const at = this.peek();
      this.i += 1;
      if (++this.depth > MAX_DEPTH) this.fail(`conditions nested deeper than ${MAX_DEPTH}`, at);
      const item = this.not();
      this.depth -= 1;
      return { kind: 'not', item };
    }
    return this.primary();
  }

  private primary(): ConditionNode {
    const t = this.peek();
    if (t === undefined) this.fail('the condition ends where a search identifier was expected', t);
    const w = this.word(t);
    if (t.text === '(') {
      this.i += 1;
      if (++this.depth > MAX_DEPTH) this.fail(`conditions nested deeper than ${MAX_DEPTH}`, t);
      const inner = this.or();
      this.depth -= 1;
      if (this.peek()?.text !== ')') this.fail('`(` without `)`', this.peek() ?? t);
      this.i += 1;
      return inner;
    }
    if (t.text === ')' || t.text === '|' || w === 'and' || w === 'or')
      this.fail(`unexpected \`${t.text}\``, t);
    if (w === 'near') this.fail('`near` is deprecated Sigma 1 syntax and not supported', t, true);
    if (this.word(this.tokens[this.i + 1]) === 'of') return this.quantified(t);
    this.i += 1;
    if (!this.identifiers.includes(t.text)) {
      this.fail(`\`${t.text}\` is not a search identifier of this rule's detection`, t);
    }
    return { kind: 'ref', name: t.text, offset: t.offset };
  }

  private quantified(count: Token): ConditionNode {
    const w = this.word(count);
    let quantifier: 'any' | 'all';
    if (w === '1' || w === 'any') quantifier = 'any';
    else if (w === 'all') quantifier = 'all';
    else if (/^\d+$/.test(w))
      this.fail(`\`${w} of\` is not Sigma: only \`1 of\` and \`all of\``, count, false);
    else this.fail(`\`${count.text} of\`: expected \`1 of\` or \`all of\``, count);
    this.i += 2;
    const target = this.peek();
    if (target === undefined || target.text === '(' || target.text === ')' || target.text === '|') {
      this.fail('`of` needs `them` or a search identifier pattern', target);
    }
    this.i += 1;
    let names: string[];
    if (target.text === 'them') names = this.identifiers.filter((n) => !n.startsWith('_'));
    else {
      // "Same as `1 of them`, restricted to the matching identifiers" (the specification): an identifier
      // starting with `_` is left out unless the pattern asks for such names itself (`1 of _helper*`).
      const re = globToRegExp(target.text);
      const hidden = !target.text.startsWith('_');
      names = this.identifiers.filter((n) => re.test(n) && !(hidden && n.startsWith('_')));
    }
    if (names.length === 0) this.fail(`\`${target.text}\` matches no search identifier`, target);
    return { kind: 'of', quantifier, names, offset: count.offset };
  }
}

/** Parses one condition over the rule's search identifiers. Throws `ConditionError`. */
export function parseCondition(text: string, identifiers: readonly string[]): ConditionNode {
  return new Parser(tokenize(text), text, identifiers).parse();
}
