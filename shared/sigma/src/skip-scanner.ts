/**
 * Many long literals searched in one value without reading most of it: Wu-Manber (Set-Horspool over
 * blocks of two code units). A window as long as the shortest literal slides along the value; the block
 * at its end, read through a class table (the literals' characters, case folded), gives how far the
 * window can move before any literal's start could fit in it. Only where that is 0 are the literals whose
 * prefix ends in that block compared, each from where it differs from the one before. With the mimikatz
 * keywords (9 code units or more) a window moves 9.7 units a step on generated Windows values, so most
 * code units are never read; values shorter than the window are not read at all. Same contract and
 * answers as `LiteralScanner.scanFolded` (the literals of `value.toLowerCase()`).
 *
 * Exact without lower-casing and without looking for non-ASCII code units first (that would read them
 * all): lower-casing maps only two non-ASCII code units to ASCII, the Kelvin sign to `k` and U+0130 to
 * `i` followed by U+0307, and only U+0130 changes length. So an ASCII literal is in the lower-cased value
 * exactly where the value has a run as long, each code unit the literal's ASCII-folded, or the Kelvin
 * sign for a `k`, or U+0130 for an `i` that ends the literal (the U+0307 after it is no literal's). Every
 * other non-ASCII code unit lower-cases to non-ASCII, which no ASCII literal holds.
 *
 * Literals holding non-ASCII code units (rare: keyword rules' are ASCII) go to a `LiteralScanner` of their
 * own that reads every code unit; sets whose shortest ASCII literal is under `MIN_SKIP` code units skip
 * too little to pay: the whole set is a `LiteralScanner`.
 */
import { LiteralIds, LiteralScanner } from './literals.js';

/** Below this shortest length, windows move at most 2 code units: a DFA's one lookup per unit wins. */
export const MIN_SKIP = 4;

const KELVIN = 0x212a;
const DOTTED_I = 0x130;
const LOWER_K = 107;
const LOWER_I = 105;

/** `SkipScanner.mode`s. */
const UNBUILT = 0;
const SKIP = 1;
const SKIP_AND_WIDE = 2;
const WHOLE = 3;

/** `SkipScanner.shared` of a candidate whose text is the one before's (in other case). */
const SAME_TEXT = -1;

/** An ASCII upper-case letter's lower case; any other code unit as it is (literals are read so too). */
const asciiLower = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

/** A code unit's lower case where it is ASCII or lower-cases to ASCII mid-literal; -1 for any other. */
const foldMid = (c: number): number => (c < 128 ? asciiLower(c) : c === KELVIN ? LOWER_K : -1);

export class SkipScanner {
  private readonly numbered = new LiteralIds();
  /** The literals by id (lower case, as added). */
  readonly literals: readonly string[] = this.numbered.literals;
  private mode = UNBUILT;
  /** Values shorter than this hold no literal: the window when only the skip search runs, else 0. */
  private shortest = 0;
  /** The whole set, when it is too short to skip (`MIN_SKIP`); null when skipping. */
  private whole: LiteralScanner | null = null;

  // The skip search over the ASCII literals.
  /** The shortest ASCII literal's length: the window. */
  private window = 0;
  /** Code unit → class of the code units in the literals' first `window` units (0: none of them). */
  private classes = new Uint8Array(0);
  /** Number of classes (0 included): a block's hash is `classes[a] * width + classes[b]`. */
  private width = 0;
  /** By block hash, how far the window moves; 0 where some literal's prefix ends in that block. */
  private shift = new Uint8Array(0);
  /** By block hash, `candidates[first[h]..first[h + 1])` are the literals whose prefix ends there. */
  private first = new Int32Array(0);
  private candidates = new Int32Array(0);
  /**
   * By candidate, how many code units its text shares with the candidate before it (`SAME_TEXT`: all, the
   * same text in other case).
   */
  private shared = new Int32Array(0);
  /** By literal id, its code units at `codes[start[id]..start[id + 1])` (ASCII literals only). */
  private start = new Int32Array(0);
  private codes = new Uint16Array(0);

  // Literals holding non-ASCII code units, scanned in full with their own ids.
  private wide: LiteralScanner | null = null;
  /** `wide`'s id → this scanner's. */
  private wideIds = new Int32Array(0);
  private wideSeen = new Int32Array(0);
  private wideStamp = 0;
  private readonly wideHits: number[] = [];

  /** The literal's id (the same for the same text); lower case, added before `build`. */
  add(literal: string): number {
    if (this.mode !== UNBUILT) throw new Error('SkipScanner.add after build');
    return this.numbered.add(literal, 'SkipScanner');
  }

  get size(): number {
    return this.literals.length;
  }

  /** Whether `build` chose the skip search (false: one `LiteralScanner` reads every code unit). */
  get skips(): boolean {
    return this.mode === SKIP || this.mode === SKIP_AND_WIDE;
  }

  build(): void {
    if (this.mode !== UNBUILT) throw new Error('SkipScanner.build twice');
    const { literals } = this;
    const isAscii = (l: string): boolean => {
      for (let i = 0; i < l.length; i++) if (l.charCodeAt(i) >= 128) return false;
      return true;
    };
    const ascii: number[] = [];
    const wide: number[] = [];
    literals.forEach((l, id) => (isAscii(l) ? ascii : wide).push(id));
    const window = Math.min(...ascii.map((id) => (literals[id] as string).length));
    if (ascii.length === 0 || window < MIN_SKIP) {
      const whole = new LiteralScanner();
      for (const l of literals) whole.add(l);
      whole.build();
      this.whole = whole;
      this.mode = WHOLE;
      return;
    }
    if (wide.length > 0) {
      const scanner = new LiteralScanner();
      for (const id of wide) scanner.add(literals[id] as string);
      scanner.build();
      this.wide = scanner;
      this.wideIds = Int32Array.from(wide);
      this.wideSeen = new Int32Array(wide.length);
    }
    this.window = window;

    // Classes: the code units of the literals' prefixes, upper case as lower; the Kelvin sign as `k` and
    // U+0130 as `i` (it is one only at a literal's end; a shift too small for it is still safe).
    const classes = new Uint8Array(65536);
    let width = 1;
    for (const id of ascii) {
      const l = literals[id] as string;
      for (let i = 0; i < window; i++) {
        const c = asciiLower(l.charCodeAt(i));
        if (classes[c] === 0) classes[c] = width++;
      }
    }
    for (let c = 65; c <= 90; c++) classes[c] = classes[c + 32] as number;
    classes[KELVIN] = classes[LOWER_K] as number;
    classes[DOTTED_I] = classes[LOWER_I] as number;
    this.classes = classes;
    this.width = width;

    // Shifts: a block ending `d` units before a prefix's end lets the window move at most `d`.
    const blocks = width * width;
    const most = Math.min(window - 1, 255);
    const shift = new Uint8Array(blocks).fill(most);
    const hash = (l: string, end: number): number =>
      (classes[asciiLower(l.charCodeAt(end - 1))] as number) * width +
      (classes[asciiLower(l.charCodeAt(end))] as number);
    const byBlock: number[][] = Array.from({ length: blocks }, () => []);
    for (const id of ascii) {
      const l = literals[id] as string;
      for (let end = 1; end < window; end++) {
        const h = hash(l, end);
        shift[h] = Math.min(shift[h] as number, window - 1 - end);
      }
      (byBlock[hash(l, window - 1)] as number[]).push(id);
    }
    this.shift = shift;
    const first = new Int32Array(blocks + 1);
    for (let h = 0; h < blocks; h++) first[h + 1] = (first[h] as number) + (byBlock[h] as number[]).length;
    this.first = first;
    // A block's candidates in the order of their text, each with the length of the prefix it shares with
    // the one before: where that one failed, this one fails too, without comparing again.
    const folded = (id: number): string => (literals[id] as string).replace(/[A-Z]/g, (c) => c.toLowerCase());
    const candidates: number[] = [];
    const shared: number[] = [];
    for (const ids of byBlock) {
      const texts = ids.map((id) => ({ id, text: folded(id) }));
      texts.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : a.id - b.id));
      texts.forEach(({ id, text }, k) => {
        const before = k === 0 ? '' : (texts[k - 1] as { text: string }).text;
        let common = 0;
        while (common < text.length && text.charCodeAt(common) === before.charCodeAt(common)) common++;
        candidates.push(id);
        shared.push(k > 0 && before === text ? SAME_TEXT : common);
      });
    }
    this.candidates = Int32Array.from(candidates);
    this.shared = Int32Array.from(shared);

    const start = new Int32Array(literals.length + 1);
    for (let id = 0; id < literals.length; id++)
      start[id + 1] =
        (start[id] as number) + (isAscii(literals[id] as string) ? (literals[id] as string).length : 0);
    const codes = new Uint16Array(start[literals.length] as number);
    for (const id of ascii) {
      const l = literals[id] as string;
      for (let i = 0; i < l.length; i++) codes[(start[id] as number) + i] = asciiLower(l.charCodeAt(i));
    }
    this.start = start;
    this.codes = codes;
    this.mode = wide.length > 0 ? SKIP_AND_WIDE : SKIP;
    this.shortest = wide.length > 0 ? 0 : window;
  }

  /**
   * Appends to `out` each distinct literal id found in `value.toLowerCase()` and not yet stamped:
   * `seen[id] === stamp` means already reported (the caller's per-event stamp). ASCII values are never
   * lower-cased. Allocates nothing once `out` has grown.
   */
  scanFolded(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    // Small enough to be inlined where it is called: most values are shorter than the window and end
    // here. Before `build`, and when delegating, `shortest` is 0.
    if (value.length < this.shortest) return;
    if (this.mode === SKIP) this.skipScan(value, seen, stamp, out);
    else this.otherScan(value, seen, stamp, out);
  }

  /** Not only the skip search: the whole set delegated, or the non-ASCII literals before the search. */
  private otherScan(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    if (this.mode === UNBUILT) throw new Error('SkipScanner.scanFolded before build');
    if (this.mode === WHOLE) {
      (this.whole as LiteralScanner).scanFolded(value, seen, stamp, out);
      return;
    }
    this.scanWide(value, seen, stamp, out);
    this.skipScan(value, seen, stamp, out);
  }

  /** The skip search for the ASCII literals (see the module comment). */
  private skipScan(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    const n = value.length;
    const { window, classes, width, shift } = this;
    let i = window - 1;
    while (i < n) {
      const b = classes[value.charCodeAt(i)] as number;
      // A code unit in no literal's prefix: no literal starts in the window nor at its end.
      if (b === 0) {
        i += window;
        continue;
      }
      const h = (classes[value.charCodeAt(i - 1)] as number) * width + b;
      const s = shift[h] as number;
      if (s !== 0) {
        i += s;
        continue;
      }
      this.verify(value, i - window + 1, h, seen, stamp, out);
      i++;
    }
  }

  /**
   * Reports the candidates of block `h` found at `from`. Each is compared from where it differs from the
   * one before (see `shared`), so a block's candidates cost at most their longest length plus their count.
   */
  private verify(
    value: string,
    from: number,
    h: number,
    seen: Int32Array,
    stamp: number,
    out: number[],
  ): void {
    const { candidates, shared } = this;
    const limit = value.length - from;
    // Of the candidate before: how many code units matched, and whether it was found.
    let matched = 0;
    let found = false;
    for (let k = this.first[h] as number, end = this.first[h + 1] as number; k < end; k++) {
      const id = candidates[k] as number;
      const common = shared[k] as number;
      if (common !== SAME_TEXT) {
        if (matched !== common) {
          // Failed before `common` (this one fails there too) or matched past it (where this one differs).
          if (matched > common) matched = common;
          found = false;
          continue;
        }
        const r = this.extend(value, from, id, common, limit);
        matched = r >> 1;
        found = (r & 1) !== 0;
      }
      if (found && seen[id] !== stamp) {
        seen[id] = stamp;
        out.push(id);
      }
    }
  }

  /**
   * ASCII literal `id` compared at `from` in the lower-cased value from its unit `j` on (the ones before
   * matched): how many units matched, times two, plus 1 when the literal is there. A U+0130 that matches
   * a final `i` counts as found but not as matched: a longer literal has a U+0307 to match there.
   */
  private extend(value: string, from: number, id: number, j: number, limit: number): number {
    const { codes } = this;
    const s = this.start[id] as number;
    const last = (this.start[id + 1] as number) - s - 1;
    const stop = last < limit ? last : limit;
    let k = j;
    while (k < stop && foldMid(value.charCodeAt(from + k)) === codes[s + k]) k++;
    if (k < last || last >= limit) return k << 1;
    const c = value.charCodeAt(from + last);
    const want = codes[s + last] as number;
    if (foldMid(c) === want) return ((last + 1) << 1) | 1;
    return (last << 1) | (c === DOTTED_I && want === LOWER_I ? 1 : 0);
  }

  /** The non-ASCII literals, by their own scanner and stamps, reported under this scanner's ids. */
  private scanWide(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    const wide = this.wide as LiteralScanner;
    const hits = this.wideHits;
    hits.length = 0;
    this.wideStamp = (this.wideStamp + 1) | 0;
    if (this.wideStamp === 0) {
      this.wideSeen.fill(0);
      this.wideStamp = 1;
    }
    wide.scanFolded(value, this.wideSeen, this.wideStamp, hits);
    for (let k = 0; k < hits.length; k++) {
      const id = this.wideIds[hits[k] as number] as number;
      if (seen[id] === stamp) continue;
      seen[id] = stamp;
      out.push(id);
    }
  }
}
