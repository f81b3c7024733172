/**
 * Many literals searched in one value in one pass: an Aho-Corasick automaton compiled to a full DFA over
 * the literals' own characters (every other code unit is one "other" class), so a scan is one table
 * lookup per code unit whatever the number of literals. The rule set keeps one per field for the
 * substring gates (`gate.ts`): a value is scanned once per event, not once per rule.
 */
/** Code units below this get a dense row per state; the rare others follow sparse edges and failure links. */
const DENSE = 128;

/** An ASCII upper-case letter's lower case; any other code unit as it is. */
const asciiLower = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/**
 * Literals numbered in the order they are first added, the same number for the same text: the ids a
 * scanner reports, and that the rule set's gate index is keyed by.
 */
export class LiteralIds {
  private readonly ids = new Map<string, number>();
  readonly literals: string[] = [];

  /** The literal's id; `owner` names the scanner in the error an empty literal gets. */
  add(literal: string, owner: string): number {
    if (literal.length === 0) throw new Error(`${owner}: an empty literal matches everywhere`);
    let id = this.ids.get(literal);
    if (id === undefined) {
      id = this.literals.length;
      this.ids.set(literal, id);
      this.literals.push(literal);
    }
    return id;
  }
}

export class LiteralScanner {
  private readonly numbered = new LiteralIds();
  private readonly literals = this.numbered.literals;
  /** ASCII code unit → character class (0: in no literal); ASCII classes are numbered below `dense`. */
  private ascii = new Uint8Array(DENSE);
  /** Other code units in some literal → their (sparse) class; any other is class 0. */
  private other = new Map<number, number>();
  /** Classes with a dense row (ASCII ones, and 0). */
  private dense = 1;
  /**
   * `next[row + class]` for dense classes, where a state's row is `state * dense`: the next state's row
   * times two, plus 1 when literals end there. A scan step is one lookup, no multiply, and the outputs
   * are read only where some literal ends.
   */
  private next = new Int32Array(0);
  /** By state, the trie's own edges of sparse (non-ASCII) classes: only states that have some. */
  private sparse = new Map<number, Map<number, number>>();
  private fail = new Int32Array(0);
  /** Literal ids that end at each state (its own and its suffixes'), null for most states; by state. */
  private outputs: (readonly number[] | null)[] = [];
  private built = false;

  /** The literal's id (the same for the same text); literals must be added before `build`. */
  add(literal: string): number {
    if (this.built) throw new Error('LiteralScanner.add after build');
    return this.numbered.add(literal, 'LiteralScanner');
  }

  get size(): number {
    return this.literals.length;
  }

  build(): void {
    this.built = true;
    const { ascii, other } = this;
    let classes = 1;
    for (const literal of this.literals) {
      for (let i = 0; i < literal.length; i++) {
        const c = asciiLower(literal.charCodeAt(i));
        if (c < DENSE && ascii[c] === 0) ascii[c] = classes++;
      }
    }
    this.dense = classes;
    for (const literal of this.literals) {
      for (let i = 0; i < literal.length; i++) {
        const c = literal.charCodeAt(i);
        if (c >= DENSE && !other.has(c)) other.set(c, classes++);
      }
    }
    // ASCII upper case reads as lower case (`scanFolded` scans values as written).
    for (let c = 65; c <= 90; c++) ascii[c] = ascii[c + 32] as number;
    const dense = this.dense;
    // The trie.
    const trie: Map<number, number>[] = [new Map()];
    const trieOwn: number[][] = [[]];
    this.literals.forEach((literal, id) => {
      let s = 0;
      for (let i = 0; i < literal.length; i++) {
        const k = this.classOf(literal.charCodeAt(i));
        let next = (trie[s] as Map<number, number>).get(k);
        if (next === undefined) {
          next = trie.length;
          trie.push(new Map());
          trieOwn.push([]);
          (trie[s] as Map<number, number>).set(k, next);
        }
        s = next;
      }
      (trieOwn[s] as number[]).push(id);
    });
    const states = trie.length;
    if (states * dense >= 2 ** 30) throw new RangeError('LiteralScanner: too many literals for one table');
    // States numbered breadth first: the shallow ones, where a scan spends most of its steps, share
    // cache lines (a 5,000-literal table is megabytes).
    const order = [0];
    for (let head = 0; head < order.length; head++)
      for (const next of (trie[order[head] as number] as Map<number, number>).values()) order.push(next);
    const rank = new Int32Array(states);
    order.forEach((state, i) => (rank[state] = i));
    const edges = order.map(
      (state) =>
        new Map([...(trie[state] as Map<number, number>)].map(([k, next]) => [k, rank[next] as number])),
    );
    const own = order.map((state) => trieOwn[state] as number[]);
    const delta = new Int32Array(states * dense);
    const fail = new Int32Array(states);
    const outputs: (readonly number[] | null)[] = new Array<readonly number[] | null>(states).fill(null);
    for (let state = 0; state < states; state++) {
      for (const [k, next] of edges[state] as Map<number, number>) {
        if (k < dense) continue;
        let own = this.sparse.get(state);
        if (own === undefined) this.sparse.set(state, (own = new Map()));
        own.set(k, next);
      }
    }
    this.fail = fail;
    /** The state after `state` reads class `k`, from the rows already built. */
    const step = (state: number, k: number): number =>
      k < dense ? (delta[state * dense + k] as number) : this.sparseStep(state, k);
    // Breadth first: a state's failure state is shallower, so its row, failure and outputs are complete.
    const queue: number[] = [];
    for (const [k, next] of edges[0] as Map<number, number>) {
      if (k < dense) delta[k] = next;
      queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head] as number;
      const f = fail[s] as number;
      const mine = own[s] as number[];
      const inherited = outputs[f] ?? null;
      outputs[s] = mine.length === 0 ? inherited : inherited === null ? mine : [...mine, ...inherited];
      // The failure state's row, then this state's own edges over it.
      const row = s * dense;
      delta.copyWithin(row, f * dense, f * dense + dense);
      for (const [k, next] of edges[s] as Map<number, number>) {
        fail[next] = step(f, k);
        if (k < dense) delta[row + k] = next;
        queue.push(next);
      }
    }
    this.outputs = outputs;
    const table = new Int32Array(states * dense);
    for (let i = 0; i < table.length; i++) table[i] = this.encode(delta[i] as number);
    this.next = table;
  }

  /** A code unit's class; an ASCII upper-case letter has its lower case's. */
  private classOf(c: number): number {
    return c < DENSE ? (this.ascii[c] as number) : (this.other.get(c) ?? 0);
  }

  /** A state as a `next` entry: its row times two, plus 1 when literals end there. */
  private encode(state: number): number {
    return state * this.dense * 2 + (this.outputs[state] === null ? 0 : 1);
  }

  /** The state after `state` reads a code unit of sparse class `k` (`k >= dense`): the trie's goto. */
  private sparseStep(state: number, k: number): number {
    let s = state;
    for (;;) {
      const next = this.sparse.get(s)?.get(k);
      if (next !== undefined) return next;
      if (s === 0) return 0;
      s = this.fail[s] as number;
    }
  }

  /**
   * Whether `value` holds any literal (ASCII letters in either case, as `scan`), stopping at the first:
   * one pass, one lookup per code unit, however many literals (a list of `contains` values as one test).
   */
  holdsAny(value: string): boolean {
    if (!this.built) throw new Error('LiteralScanner.holdsAny before build');
    const { ascii, dense, next } = this;
    let row = 0;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      const k = c < DENSE ? (ascii[c] as number) : (this.other.get(c) ?? 0);
      const n = k < dense ? (next[row + k] as number) : this.encode(this.sparseStep(row / dense, k));
      if ((n & 1) !== 0) return true;
      row = n >> 1;
    }
    return false;
  }

  /**
   * Appends to `out` each distinct literal id found in `value` and not yet stamped: `seen[id] === stamp`
   * means already reported (the caller's per-event stamp). Allocates nothing once `out` has grown.
   * ASCII letters match in either case (literals are lower case: gate keys are lower-cased).
   */
  scan(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    this.scanFrom(value, 0, 0, seen, stamp, out);
  }

  /**
   * As `scan` over `value.toLowerCase()`, without lower-casing an ASCII value: the scan reads ASCII
   * letters in either case, and at the first other code unit (whose lower case may differ in length or
   * be ASCII, as the Kelvin sign's is) goes on in the lower-cased value from there, in the same state:
   * lower-casing maps the ASCII prefix one to one.
   */
  scanFolded(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    if (!this.built) throw new Error('LiteralScanner.scan before build');
    const { ascii, next, outputs } = this;
    let row = 0;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= DENSE) {
        this.scanFrom(value.toLowerCase(), i, row, seen, stamp, out);
        return;
      }
      const n = next[row + (ascii[c] as number)] as number;
      row = n >> 1;
      if ((n & 1) === 0) continue;
      const ends = outputs[row / this.dense] as readonly number[];
      for (let j = 0; j < ends.length; j++) {
        const id = ends[j] as number;
        if (seen[id] === stamp) continue;
        seen[id] = stamp;
        out.push(id);
      }
    }
  }

  /** `scan` from `start`, in the state whose row is `row`. */
  private scanFrom(
    value: string,
    start: number,
    row: number,
    seen: Int32Array,
    stamp: number,
    out: number[],
  ): void {
    if (!this.built) throw new Error('LiteralScanner.scan before build');
    const { dense, next, outputs } = this;
    let r = row;
    for (let i = start; i < value.length; i++) {
      const k = this.classOf(value.charCodeAt(i));
      const n = k < dense ? (next[r + k] as number) : this.encode(this.sparseStep(r / dense, k));
      r = n >> 1;
      if ((n & 1) === 0) continue;
      const ends = outputs[r / dense] as readonly number[];
      for (let j = 0; j < ends.length; j++) {
        const id = ends[j] as number;
        if (seen[id] === stamp) continue;
        seen[id] = stamp;
        out.push(id);
      }
    }
  }
}
