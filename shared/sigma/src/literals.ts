/**
 * Many literals searched in one value in one pass: an Aho-Corasick automaton compiled to a full DFA over
 * the literals' own characters (every other code unit is one "other" class), so a scan is one table
 * lookup per code unit whatever the number of literals. The rule set keeps one per field for the
 * substring gates (`gate.ts`): a value is scanned once per event, not once per rule.
 */
export class LiteralScanner {
  private readonly ids = new Map<string, number>();
  private readonly literals: string[] = [];
  /** Code unit → character class (0: in no literal). */
  private classOf = new Uint16Array(0);
  private classes = 1;
  /** `delta[state * classes + class]`: the next state. */
  private delta = new Int32Array(0);
  /** Literal ids that end at each state (its own and its suffixes'), empty for most states. */
  private outputs: (readonly number[] | null)[] = [];
  private built = false;

  /** The literal's id (the same for the same text); literals must be added before `build`. */
  add(literal: string): number {
    if (this.built) throw new Error('LiteralScanner.add after build');
    if (literal.length === 0) throw new Error('LiteralScanner: an empty literal matches everywhere');
    let id = this.ids.get(literal);
    if (id === undefined) {
      id = this.literals.length;
      this.ids.set(literal, id);
      this.literals.push(literal);
    }
    return id;
  }

  get size(): number {
    return this.literals.length;
  }

  build(): void {
    this.built = true;
    const classOf = new Uint16Array(65536);
    let classes = 1;
    for (const literal of this.literals) {
      for (let i = 0; i < literal.length; i++) {
        const c = literal.charCodeAt(i);
        if (classOf[c] === 0) classOf[c] = classes++;
      }
    }
    // The trie, with sparse edges while it grows.
    const edges: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    this.literals.forEach((literal, id) => {
      let s = 0;
      for (let i = 0; i < literal.length; i++) {
        const k = classOf[literal.charCodeAt(i)] as number;
        let next = (edges[s] as Map<number, number>).get(k);
        if (next === undefined) {
          next = edges.length;
          edges.push(new Map());
          own.push([]);
          (edges[s] as Map<number, number>).set(k, next);
        }
        s = next;
      }
      (own[s] as number[]).push(id);
    });
    const states = edges.length;
    const delta = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const outputs: (readonly number[] | null)[] = new Array<readonly number[] | null>(states).fill(null);
    // Breadth first: a state's failure state is shallower, so its row and outputs are complete already.
    const queue: number[] = [];
    for (let k = 1; k < classes; k++) {
      const next = (edges[0] as Map<number, number>).get(k);
      if (next !== undefined) {
        delta[k] = next;
        queue.push(next);
      }
    }
    outputs[0] = null;
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head] as number;
      const f = fail[s] as number;
      const mine = own[s] as number[];
      const inherited = outputs[f];
      outputs[s] =
        mine.length === 0 ? (inherited ?? null) : inherited === null ? mine : [...mine, ...(inherited ?? [])];
      // The failure state's row, then this state's own edges over it.
      const row = s * classes;
      const failRow = f * classes;
      delta.copyWithin(row, failRow, failRow + classes);
      for (const [k, next] of edges[s] as Map<number, number>) {
        fail[next] = delta[failRow + k] as number;
        delta[row + k] = next;
        queue.push(next);
      }
    }
    this.classOf = classOf;
    this.classes = classes;
    this.delta = delta;
    this.outputs = outputs;
  }

  /**
   * Appends to `out` each distinct literal id found in `value` and not yet stamped: `seen[id] === stamp`
   * means already reported (the caller's per-event stamp). Allocates nothing once `out` has grown.
   */
  scan(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    if (!this.built) throw new Error('LiteralScanner.scan before build');
    const { classOf, classes, delta, outputs } = this;
    let s = 0;
    for (let i = 0; i < value.length; i++) {
      s = delta[s * classes + (classOf[value.charCodeAt(i)] as number)] as number;
      const ends = outputs[s];
      if (ends === null || ends === undefined) continue;
      for (let j = 0; j < ends.length; j++) {
        const id = ends[j] as number;
        if (seen[id] === stamp) continue;
        seen[id] = stamp;
        out.push(id);
      }
    }
  }
}
