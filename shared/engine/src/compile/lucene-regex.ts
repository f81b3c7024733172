/**
 * `regex` / `regex~` patterns are Lucene regular expressions in Elasticsearch (the `regexp` query with all
 * optional operators on), always matched against the whole value. `@sequor/eql` parses them
 * (`parseLuceneRegex`: the syntax and its differences from JavaScript are documented there); this module
 * compiles the tree once into an automaton and matches in time linear in the value, as Lucene does.
 *
 * Why not a JavaScript RegExp: attackers write the command lines and registry values these patterns read,
 * and a backtracking engine is exponential on `(a+)+b` or `(.*a){20}` (one event stalled a detector for
 * over a minute). Here a Thompson NFA is simulated as a state set (a Pike VM without captures) and a DFA is
 * built lazily from it, one state per distinct NFA set actually reached, so a match is one table lookup per
 * code point. The DFA cache is capped; past the cap the match continues on the NFA simulation, which is
 * O(value × states) and never worse. The NFA's size is bounded at compile time (`MAX_AUTOMATON_STATES`,
 * like Lucene's determinize work limit) and larger patterns are refused with a positioned error.
 *
 * `regex~` folds case at compile time: every character set is closed under Unicode simple case mapping, so
 * the value is never lower-cased per event.
 */
import type { CodePointRanges, LuceneRegexNode } from '@sequor/eql';
import { complementRanges, LuceneRegexError, normalizeRanges, parseLuceneRegex } from '@sequor/eql';

export { LuceneRegexError };

/** The most NFA states one pattern may expand to (`(a|b){5000}` is refused, not built). */
export const MAX_AUTOMATON_STATES = 10_000;
/** DFA states cached per pattern; a pattern that needs more finishes its matches on the NFA simulation. */
export const MAX_DFA_STATES = 2_000;
/** Bound on the per-pattern tables (DFA transitions and set membership), in entries. */
const MAX_TABLE_ENTRIES = 4_000_000;
const MAX_CODE_POINT = 0x10ffff;

const SET = 0;
const SPLIT = 1;
const MATCH = 2;

/**
 * Work done by every automaton match since the process started (or the caller reset it): one step per code
 * point on the DFA, one per live NFA state per code point on the simulation. Tests assert linearity with it;
 * it costs one addition per match.
 */
export const automatonWork = { steps: 0 };

/** A compiled pattern: `test` is the whole-value match. */
export interface LuceneMatcher {
  test(value: string): boolean;
  /** NFA states (the size bound `rules lint` reports). */
  readonly states: number;
  /** DFA states built so far (grows lazily up to `MAX_DFA_STATES`). */
  readonly dfaStates: number;
}

// ---------------------------------------------------------------------------------------------------
// Case folding: `regex~` closes each set under "same simple case mapping" at compile time.

let foldGroups: Map<number, readonly number[]> | null = null;
let foldMembers: Int32Array | null = null;

function singleCodePoint(s: string): number | null {
  const c = s.codePointAt(0);
  return c !== undefined && s.length === (c > 0xffff ? 2 : 1) ? c : null;
}

/**
 * Where Unicode has letters with case (Latin … Armenian, Georgian, Cherokee, Greek extended, letterlike
 * symbols, Glagolitic, Coptic, Cyrillic/Latin extensions, fullwidth; Deseret, Osage, Vithkuqi, Old
 * Hungarian, Garay, Warang Citi, Medefaidrin, Adlam), checked against Node 20's full table. Scanning only
 * these keeps the one-time table build short: CJK, Hangul, surrogates and private use have no case.
 */
const CASED_BLOCKS = [
  0x0000, 0x33ff, 0xa000, 0xabff, 0xf900, 0xffff, 0x10400, 0x104ff, 0x10570, 0x105bf, 0x10c80, 0x10cff,
  0x10d40, 0x10d8f, 0x118a0, 0x118ff, 0x16e40, 0x16eff, 0x1e900, 0x1e94f,
];

/** Code point → every code point with the same case key; only for those with more than one. Built once. */
function caseGroups(): { groups: Map<number, readonly number[]>; members: Int32Array } {
  if (foldGroups !== null && foldMembers !== null) return { groups: foldGroups, members: foldMembers };
  const byKey = new Map<number, number[]>();
  for (let b = 0; b < CASED_BLOCKS.length; b += 2) {
    for (let c = CASED_BLOCKS[b] as number; c <= (CASED_BLOCKS[b + 1] as number); c++) {
      const s = String.fromCodePoint(c);
      const upper = singleCodePoint(s.toUpperCase()) ?? c;
      const key = singleCodePoint(String.fromCodePoint(upper).toLowerCase()) ?? upper;
      const group = byKey.get(key);
      if (group === undefined) byKey.set(key, [c]);
      else group.push(c);
    }
  }
  const groups = new Map<number, readonly number[]>();
  for (const group of byKey.values()) if (group.length > 1) for (const c of group) groups.set(c, group);
  foldGroups = groups;
  foldMembers = Int32Array.from([...groups.keys()].sort((a, b) => a - b));
  return { groups, members: foldMembers };
}

/** `ranges` plus every case variant of its members. */
function foldRanges(ranges: CodePointRanges): number[] {
  const { groups, members } = caseGroups();
  const out = [...ranges];
  let r = 0;
  for (let i = 0; i < members.length && r < ranges.length; i++) {
    const c = members[i] as number;
    while (r < ranges.length && (ranges[r + 1] as number) < c) r += 2;
    if (r >= ranges.length || c < (ranges[r] as number)) continue;
    for (const v of groups.get(c) ?? []) out.push(v, v);
  }
  return normalizeRanges(out);
}

// ---------------------------------------------------------------------------------------------------
// `<n-m>`: Lucene's decimal interval, as a small tree of digit ranges (O(digits²) nodes, never 10⁹ values).

const DIGITS: CodePointRanges = [0x30, 0x39];

function digitsNode(count: number, start: number): LuceneRegexNode {
  const one: LuceneRegexNode = { kind: 'class', negated: false, ranges: DIGITS, start };
  return count === 1 ? one : { kind: 'repeat', item: one, min: count, max: count, start };
}

function seq(items: LuceneRegexNode[], start: number): LuceneRegexNode {
  const kept = items.filter((n) => n.kind !== 'empty');
  if (kept.length === 0) return { kind: 'empty', start };
  return kept.length === 1 ? (kept[0] as LuceneRegexNode) : { kind: 'concat', items: kept, start };
}

/** Digit strings of one length from `lo` to `hi` inclusive (`lo <= hi`, same length). */
function fixedWidthRange(lo: string, hi: string, start: number): LuceneRegexNode {
  if (lo.length === 0) return { kind: 'empty', start };
  const a = lo.charCodeAt(0);
  const b = hi.charCodeAt(0);
  const restLo = lo.slice(1);
  const restHi = hi.slice(1);
  const char = (c: number): LuceneRegexNode => ({ kind: 'char', codePoint: c, start });
  if (a === b) return seq([char(a), fixedWidthRange(restLo, restHi, start)], start);
  const width = lo.length - 1;
  const alts: LuceneRegexNode[] = [];
  let midLo = a;
  let midHi = b;
  if (restLo !== '0'.repeat(width)) {
    alts.push(seq([char(a), fixedWidthRange(restLo, '9'.repeat(width), start)], start));
    midLo = a + 1;
  }
  if (restHi !== '9'.repeat(width)) {
    alts.push(seq([char(b), fixedWidthRange('0'.repeat(width), restHi, start)], start));
    midHi = b - 1;
  }
  if (midLo <= midHi) {
    const head: LuceneRegexNode = { kind: 'class', negated: false, ranges: [midLo, midHi], start };
    alts.push(width === 0 ? head : seq([head, digitsNode(width, start)], start));
  }
  return alts.length === 1 ? (alts[0] as LuceneRegexNode) : { kind: 'union', items: alts, start };
}

function intervalNode(min: number, max: number, width: number, start: number): LuceneRegexNode {
  if (width > 0)
    return fixedWidthRange(String(min).padStart(width, '0'), String(max).padStart(width, '0'), start);
  // Any number of leading zeros, then the value without them.
  const alts: LuceneRegexNode[] = [];
  const [minLen, maxLen] = [String(min).length, String(max).length];
  for (let len = minLen; len <= maxLen; len++) {
    const lo = len === minLen ? min : 10 ** (len - 1);
    const hi = len === maxLen ? max : 10 ** len - 1;
    alts.push(fixedWidthRange(String(lo), String(hi), start));
  }
  const zeros: LuceneRegexNode = {
    kind: 'repeat',
    item: { kind: 'char', codePoint: 0x30, start },
    min: 0,
    max: null,
    start,
  };
  const value: LuceneRegexNode =
    alts.length === 1 ? (alts[0] as LuceneRegexNode) : { kind: 'union', items: alts, start };
  return { kind: 'concat', items: [zeros, value], start };
}

// ---------------------------------------------------------------------------------------------------
// Thompson construction, built back to front: `build(node, next)` returns the entry state of `node`
// followed by state `next`.

class NfaBuilder {
  readonly kind: number[] = [];
  readonly out: number[] = [];
  readonly out2: number[] = [];
  /** For SET states, the index of their ranges in `sets`. */
  readonly setOf: number[] = [];
  readonly sets: CodePointRanges[] = [];
  private readonly setIds = new Map<string, number>();
  /** Nodes visited: `((){9999}){9999}` adds no state but would still loop 10⁸ times. */
  private work = 0;

  constructor(private readonly fold: boolean) {}

  private add(kind: number, out: number, out2: number, set: number, at: number): number {
    if (this.kind.length >= MAX_AUTOMATON_STATES) {
      throw new LuceneRegexError(
        `the pattern expands to more than ${MAX_AUTOMATON_STATES} automaton states (a large {n,m} repeat or interval): simplify it`,
        at,
      );
    }
    this.kind.push(kind);
    this.out.push(out);
    this.out2.push(out2);
    this.setOf.push(set);
    return this.kind.length - 1;
  }

  match(): number {
    return this.add(MATCH, -1, -1, -1, 0);
  }

  private set(ranges: CodePointRanges, negated: boolean, next: number, at: number): number {
    const all = ranges.length === 2 && ranges[0] === 0 && ranges[1] === MAX_CODE_POINT;
    let r = this.fold && !all ? foldRanges(ranges) : ranges;
    if (negated) r = complementRanges(r);
    const key = r.join(',');
    let id = this.setIds.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.sets.push(r);
      this.setIds.set(key, id);
    }
    return this.add(SET, next, -1, id, at);
  }

  private split(a: number, b: number, at: number): number {
    return this.add(SPLIT, a, b, -1, at);
  }

  /** A loop `item*` before `next`: the split is created first so the body can jump back to it. */
  private star(item: LuceneRegexNode, next: number, at: number): number {
    const loop = this.split(-1, next, at);
    this.out[loop] = this.build(item, loop);
    return loop;
  }

  build(node: LuceneRegexNode, next: number): number {
    if (++this.work > 20 * MAX_AUTOMATON_STATES) {
      throw new LuceneRegexError(
        `the pattern expands past the automaton size limit (${MAX_AUTOMATON_STATES} states): simplify it`,
        node.start,
      );
    }
    switch (node.kind) {
      case 'empty':
        return next;
      case 'nothing':
        return this.set([], false, next, node.start);
      case 'anyChar':
        return this.set([0, MAX_CODE_POINT], false, next, node.start);
      case 'anyString':
        return this.star({ kind: 'anyChar', start: node.start }, next, node.start);
      case 'char':
        return this.set([node.codePoint, node.codePoint], false, next, node.start);
      case 'class':
        return this.set(node.ranges, node.negated, next, node.start);
      case 'interval':
        return this.build(intervalNode(node.min, node.max, node.width, node.start), next);
      case 'concat': {
        let entry = next;
        for (let i = node.items.length - 1; i >= 0; i--)
          entry = this.build(node.items[i] as LuceneRegexNode, entry);
        return entry;
      }
      case 'union': {
        let entry = this.build(node.items[node.items.length - 1] as LuceneRegexNode, next);
        for (let i = node.items.length - 2; i >= 0; i--) {
          entry = this.split(this.build(node.items[i] as LuceneRegexNode, next), entry, node.start);
        }
        return entry;
      }
      case 'repeat': {
        // item{min,max} = item × min, then (item (item …)?)? for the optional rest, or item* when unbounded.
        let entry: number;
        if (node.max === null) entry = this.star(node.item, next, node.start);
        else {
          entry = next;
          for (let k = node.min; k < node.max; k++)
            entry = this.split(this.build(node.item, entry), next, node.start);
        }
        for (let k = 0; k < node.min; k++) entry = this.build(node.item, entry);
        return entry;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Literal pre-checks: cheap rejections before the automaton runs.

/**
 * What every match must contain, read off the top-level concatenation: the literal it starts with, and
 * each run of two or more literal characters (in order, but checked independently: a cheap superset test).
 * `exact` when the whole pattern is one literal.
 */
function requiredLiterals(node: LuceneRegexNode): { prefix: string; inner: string[]; exact: boolean } {
  const flat = (n: LuceneRegexNode): readonly LuceneRegexNode[] =>
    n.kind === 'concat' ? n.items.flatMap(flat) : [n];
  let run = '';
  const runs: string[] = [];
  let prefix: string | null = null;
  for (const item of flat(node)) {
    if (item.kind === 'char') {
      run += String.fromCodePoint(item.codePoint);
      continue;
    }
    if (item.kind === 'empty') continue;
    prefix ??= run;
    runs.push(run);
    run = '';
  }
  runs.push(run);
  const inner = runs.filter((r) => r.length >= 2 && r !== prefix).sort((a, b) => b.length - a.length);
  return { prefix: prefix ?? run, inner, exact: prefix === null };
}

// ---------------------------------------------------------------------------------------------------
// The matcher: lazy DFA over alphabet classes, NFA set simulation past the cache cap.

class Automaton implements LuceneMatcher {
  private readonly kind: Uint8Array;
  private readonly out: Int32Array;
  private readonly out2: Int32Array;
  private readonly setOf: Int32Array;
  /** Alphabet classes: `bounds[k]` is the first code point of class k. */
  private readonly bounds: Int32Array;
  private readonly classes: number;
  /** Class of each code point below 256 (most values are ASCII). */
  private readonly lowClass: Uint16Array;
  /** `member[set * classes + k]`: whether set `set` contains class k. */
  private readonly member: Uint8Array;

  /** DFA: NFA state lists, transitions (-1 not built yet), acceptance. */
  private readonly dfaLists: Int32Array[] = [];
  private readonly dfaIds = new Map<string, number>();
  private trans: Int32Array;
  private accept: Uint8Array;
  /** Per DFA state: 1 when the answer is already known (dead, or a state that accepts every suffix). */
  private stop: Uint8Array;
  /** NFA states from which every suffix is accepted (`@` or `.*` before the end). */
  private readonly universal: Uint8Array;
  private readonly startState: number;
  private readonly dfaCap: number;

  /** Scratch for the NFA simulation and for building DFA states: allocated once. */
  private cur: Int32Array;
  private next: Int32Array;
  private curLen = 0;
  private nextLen = 0;
  private readonly marks: Uint32Array;
  private generation = 0;
  private readonly stack: Int32Array;

  readonly states: number;

  constructor(nfa: NfaBuilder, start: number, at: number) {
    const n = nfa.kind.length;
    this.states = n;
    this.kind = Uint8Array.from(nfa.kind);
    this.out = Int32Array.from(nfa.out);
    this.out2 = Int32Array.from(nfa.out2);
    this.setOf = Int32Array.from(nfa.setOf);

    const cuts = new Set<number>([0]);
    for (const ranges of nfa.sets) {
      for (let i = 0; i < ranges.length; i += 2) {
        cuts.add(ranges[i] as number);
        if ((ranges[i + 1] as number) < MAX_CODE_POINT) cuts.add((ranges[i + 1] as number) + 1);
      }
    }
    this.bounds = Int32Array.from([...cuts].sort((a, b) => a - b));
    this.classes = this.bounds.length;
    if (nfa.sets.length * this.classes > MAX_TABLE_ENTRIES) {
      throw new LuceneRegexError(
        'the pattern has too many distinct character classes to compile: simplify it',
        at,
      );
    }
    this.lowClass = new Uint16Array(256);
    for (let c = 0; c < 256; c++) this.lowClass[c] = this.classOf(c);
    this.member = new Uint8Array(nfa.sets.length * this.classes);
    nfa.sets.forEach((ranges, s) => {
      for (let i = 0; i < ranges.length; i += 2) {
        const first = this.classOf(ranges[i] as number);
        const last = this.classOf(ranges[i + 1] as number);
        for (let k = first; k <= last; k++) this.member[s * this.classes + k] = 1;
      }
    });

    this.cur = new Int32Array(n);
    this.next = new Int32Array(n);
    this.marks = new Uint32Array(n);
    this.stack = new Int32Array(n * 2 + 2);
    this.dfaCap = Math.max(2, Math.min(MAX_DFA_STATES, Math.floor(MAX_TABLE_ENTRIES / this.classes)));
    this.trans = new Int32Array(16 * this.classes).fill(-1);
    this.accept = new Uint8Array(16);
    this.stop = new Uint8Array(16);
    this.universal = new Uint8Array(n);
    const everything = nfa.sets.findIndex((r) => r.length === 2 && r[0] === 0 && r[1] === MAX_CODE_POINT);
    for (let s = 0; s < n; s++) {
      if (this.kind[s] !== SET || this.setOf[s] !== everything) continue;
      this.nextLen = 0;
      this.newGeneration();
      this.addState(this.out[s] as number);
      const reached = this.next.subarray(0, this.nextLen);
      if (reached.includes(s) && reached.some((x) => this.kind[x] === MATCH)) this.universal[s] = 1;
    }

    this.nextLen = 0;
    this.newGeneration();
    this.addState(start);
    this.startState = this.intern() as number;
  }

  get dfaStates(): number {
    return this.dfaLists.length;
  }

  /** Binary search for the class of `c`: the last bound at or below it. */
  private classOf(c: number): number {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((b[mid] as number) <= c) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private newGeneration(): void {
    this.generation += 1;
    if (this.generation === 0xffffffff) {
      this.marks.fill(0);
      this.generation = 1;
    }
  }

  /** Adds `state` and everything reachable from it without input to `next` (SET and MATCH states only). */
  private addState(state: number): void {
    const { kind, out, out2, marks, stack } = this;
    const gen = this.generation;
    let top = 0;
    stack[top++] = state;
    while (top > 0) {
      const s = stack[--top] as number;
      if (marks[s] === gen) continue;
      marks[s] = gen;
      if (kind[s] === SPLIT) {
        stack[top++] = out2[s] as number;
        stack[top++] = out[s] as number;
      } else {
        this.next[this.nextLen++] = s;
      }
    }
  }

  /** The states reached from the list `from` (of length `len`) on class `k`, into `next`. */
  private step(from: Int32Array, len: number, k: number): void {
    this.nextLen = 0;
    this.newGeneration();
    const { kind, setOf, out, member, classes } = this;
    for (let i = 0; i < len; i++) {
      const s = from[i] as number;
      if (kind[s] === SET && member[(setOf[s] as number) * classes + k] === 1)
        this.addState(out[s] as number);
    }
    automatonWork.steps += len;
  }

  /** The DFA state for the list in `next`, creating it if there is room; null when the cache is full. */
  private intern(): number | null {
    const list = this.next.slice(0, this.nextLen).sort();
    const key = list.join(',');
    const known = this.dfaIds.get(key);
    if (known !== undefined) return known;
    const id = this.dfaLists.length;
    if (id >= this.dfaCap) return null;
    this.dfaLists.push(list);
    this.dfaIds.set(key, id);
    if ((id + 1) * this.classes > this.trans.length) {
      const grown = new Int32Array(Math.min(this.dfaCap, (id + 1) * 2) * this.classes).fill(-1);
      grown.set(this.trans);
      this.trans = grown;
      const size = Math.min(this.dfaCap, (id + 1) * 2);
      const accept = new Uint8Array(size);
      accept.set(this.accept);
      this.accept = accept;
      const stop = new Uint8Array(size);
      stop.set(this.stop);
      this.stop = stop;
    }
    let accepting = 0;
    let universal = 0;
    for (const s of list) {
      if (this.kind[s] === MATCH) accepting = 1;
      if (this.universal[s] === 1) universal = 1;
    }
    this.accept[id] = accepting | universal;
    this.stop[id] = universal | (list.length === 0 ? 1 : 0);
    return id;
  }

  test(value: string): boolean {
    const n = value.length;
    const { lowClass, classes } = this;
    // Local copies of the tables, refreshed when a new DFA state grows them.
    let trans = this.trans;
    let stop = this.stop;
    let state = this.startState;
    let i = 0;
    while (i < n) {
      let c = value.charCodeAt(i++);
      if (c >= 0xd800 && c <= 0xdbff && i < n) {
        const d = value.charCodeAt(i);
        if ((d & 0xfc00) === 0xdc00) {
          c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          i += 1;
        }
      }
      const k = c < 256 ? (lowClass[c] as number) : this.classOf(c);
      let t = trans[state * classes + k] as number;
      if (t < 0) {
        const list = this.dfaLists[state] as Int32Array;
        this.step(list, list.length, k);
        const id = this.intern();
        if (id === null) {
          automatonWork.steps += i;
          return this.simulate(value, i);
        }
        trans = this.trans;
        stop = this.stop;
        trans[state * classes + k] = id;
        t = id;
      }
      state = t;
      // Dead (nothing can match) or universal (everything from here matches): the rest cannot change the answer.
      if (stop[state] !== 0) break;
    }
    automatonWork.steps += i;
    return this.accept[state] === 1;
  }

  /** The NFA set simulation from offset `i`, the current set already in `next`. */
  private simulate(value: string, i: number): boolean {
    const n = value.length;
    while (i < n && this.nextLen > 0) {
      [this.cur, this.next] = [this.next, this.cur];
      this.curLen = this.nextLen;
      const c = value.codePointAt(i) as number;
      i += c > 0xffff ? 2 : 1;
      this.step(this.cur, this.curLen, c < 256 ? (this.lowClass[c] as number) : this.classOf(c));
    }
    for (let j = 0; j < this.nextLen; j++) if (this.kind[this.next[j] as number] === MATCH) return true;
    return false;
  }
}

/** Parses and compiles one pattern. Throws `LuceneRegexError` (with the offset) for invalid or oversized ones. */
export function compileLuceneRegex(pattern: string, caseInsensitive: boolean): LuceneMatcher {
  return compileRegexTree(parseLuceneRegex(pattern), caseInsensitive);
}

/**
 * Compiles a tree another dialect's parser built (Sigma's PCRE subset, Sigma wildcards with escapes) onto
 * the same automaton, always a whole-value match: a search is the caller's `anyString` on either side.
 * Throws `LuceneRegexError` for trees past the size bounds (offsets are the tree's `start`s).
 */
export function compileRegexTree(ast: LuceneRegexNode, caseInsensitive: boolean): LuceneMatcher {
  const nfa = new NfaBuilder(caseInsensitive);
  const start = nfa.build(ast, nfa.match());
  const automaton = new Automaton(nfa, start, 0);
  if (caseInsensitive) return automaton;
  const { prefix, inner, exact } = requiredLiterals(ast);
  if (exact) {
    return { test: (value) => value === prefix, states: automaton.states, dfaStates: 0 };
  }
  // A value without the pattern's literal parts cannot match: `includes` is much faster than the automaton.
  if (prefix.length === 0 && inner.length === 0) return automaton;
  return {
    test: (value) => {
      if (!value.startsWith(prefix)) return false;
      for (let i = 0; i < inner.length; i++) if (!value.includes(inner[i] as string)) return false;
      return automaton.test(value);
    },
    states: automaton.states,
    get dfaStates() {
      return automaton.dfaStates;
    },
  };
}
