/**
 * A faster reader for Avro `map<string>` (the event's own data: `winlog.event_data`, `zeek.fields`), given
 * to avsc through its `typeHook` as a logical type over the same map. With every SigmaHQ rule loaded the
 * detector decodes these maps for every event (5-27 entries each), and avsc's own reader cost more than the
 * Sigma matching: a native UTF-8 decode call per key and per value, then each key hashed and internalized
 * by V8 on a keyed store that adds a property at a time (past ~16 keys the object turns into a slow
 * dictionary).
 *
 * Here a map is read in three steps: its entries' offsets (varints only); when all its text is ASCII (the
 * common case), one native decode of the whole span, each value a substring of it; and its keys, matched
 * by their text against the key sequences seen before (`Shape`): a known sequence builds the object with
 * one compiled object literal (one fast V8 shape, values in-object, no key string made). Anything else
 * (non-ASCII text, a new key sequence, a huge map) is read as avsc does.
 *
 * Same values, same semantics as avsc's reader: an object with the entries in the order read, as
 * `out[key] = value` builds it (a duplicate key's last value wins at its first position, and a
 * `__proto__` key is the inherited setter's business, as before); the same schema (canonical form and
 * fingerprint: a logical type exports only its underlying schema); the same schema resolution (a writer's
 * `map<bytes>` still reads through avsc); and a map that runs past the buffer leaves the tap invalid,
 * which the codec reports as truncated.
 */
import avro from 'avsc';
import type { Schema, Type } from 'avsc';

/** avsc's Tap, the little of it read here. */
interface Tap {
  buf: Buffer;
  pos: number;
}

/** avsc's Resolver: `_read` is what a resolved read calls. */
interface Resolver {
  _read: (tap: Tap) => unknown;
}

const LOGICAL_NAME = 'sequor-string-map';

interface NodeBuffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const nativeSlices =
  typeof (Buffer.prototype as unknown as Partial<NodeBuffer>).utf8Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<NodeBuffer>).latin1Slice === 'function';
/** Buffer's own decoders without `toString`'s argument checks, as avsc uses them (Node has had them for ever). */
const utf8Slice = (buf: Buffer, start: number, end: number): string =>
  nativeSlices ? (buf as unknown as NodeBuffer).utf8Slice(start, end) : buf.toString('utf8', start, end);
const latin1Slice = (buf: Buffer, start: number, end: number): string =>
  nativeSlices ? (buf as unknown as NodeBuffer).latin1Slice(start, end) : buf.toString('latin1', start, end);

/** Global, so that `test` moves `lastIndex` past each byte found without building a match. */
const NON_ASCII = /[\x80-\xff]/g; // latin1Slice text: no character above 0xff

/**
 * Marks in `nonAscii` the strings of the map (span `r` is `spans[2r, 2r + 1)`, keys even, values odd) that
 * are not all ASCII, within `text` (the map's bytes from `first`, one character per byte); returns how
 * many. The block counts and length varints between them may have their high bit set (a string of 64
 * bytes or more): such bytes are passed over.
 */
function markNonAscii(text: string, first: number, n: number): number {
  NON_ASCII.lastIndex = 0;
  let span = 0;
  let marked = 0;
  while (NON_ASCII.test(text)) {
    const at = NON_ASCII.lastIndex - 1 + first;
    while (span < 2 * n && (spans[2 * span + 1] as number) <= at) span++;
    if (span < 2 * n && (spans[2 * span] as number) <= at) {
      nonAscii[span] = 1;
      marked++;
      NON_ASCII.lastIndex = (spans[2 * span + 1] as number) - first;
      span++;
    }
  }
  return marked;
}

/**
 * The key sequences seen, as a tree from the first key: each kind of Windows event writes its EventData
 * names in one order, so a few hundred sequences cover a stream. A sequence seen twice gets a compiled
 * object literal.
 *
 * The keys are data an attacker may write (EventData names, Zeek fields), and the tree is bounded: a few
 * dozen maps of new keys would fill it, and every sequence seen later would be built a property at a time
 * (the Sigma projection's decode 0.72x). So the tree is pruned when maps keep missing it (`prune`): the
 * compiled sequences in use stay, and of the rest the half that the most maps went through, so the common
 * ones stay and room is made.
 */
interface Shape {
  readonly keys: string[];
  readonly next: Shape[];
  /** Maps with exactly these keys so far (until compiled). */
  seen: number;
  /** Maps with exactly these keys since the last prune (the hot path's only count). */
  hits: number;
  /** Maps with exactly these keys before the last prune, `PAST_WEIGHT` each, halved at each prune and reorder. */
  past: number;
  /** `past` and `hits` weighed over the subtree, or the shape's own (`prune`): what orders branches and sequences. */
  score: number;
  /** The compiled literal, `null` when these keys cannot be one (a duplicate, `__proto__`). */
  build: ((values: readonly string[]) => Record<string, string>) | null | undefined;
}
const newShape = (): Shape => ({ keys: [], next: [], seen: 0, hits: 0, past: 0, score: 0, build: undefined });
const root = newShape();
/** Bounds on the tree, whatever the input: past them a map is built a property at a time. */
const MAX_SHAPES = 8192;
const MAX_COMPILED = 1024;
const MAX_BRANCHES = 256;
/** Maps with more entries than this are read as avsc does (no literal this long, no scratch this big). */
const MAX_ENTRIES = 128;
/**
 * Maps whose strings span more bytes than this are not cut from one text: V8 keeps a substring of 13 or
 * more characters as a slice of its parent, so any value kept past the event (a correlation's group or
 * distinct value, a cache) keeps the map's whole text alive; a PowerShell 4104 map holds a script block of
 * up to 10 MB. Below it, a kept value keeps at most this much.
 */
const MAX_SLICED_SPAN = 4096;
/** Compiled once a key sequence repeats: a one-off map costs no compile. */
const COMPILE_AFTER = 2;
/** Maps the tree had no room for (a shape, a branch or a compile) before it is pruned: a prune costs ~1 ms. */
const PRUNE_AFTER_MISSES = 256;
/**
 * While prunes do not raise the rate of maps built by compiled literals (a stream with more sequences than
 * the tree holds: pruning only churns it), the misses between them double up to this. Bounded: after a
 * flood, a new sequence of the stream waits for a prune to get in.
 */
const MAX_PRUNE_AFTER_MISSES = 4 * PRUNE_AFTER_MISSES;
/**
 * What a map since the last prune weighs in `past` (halved at each prune): one map keeps a compiled
 * sequence in use for three prunes more, so that a stream's sequences sent in rotation stay compiled.
 */
const PAST_WEIGHT = 8;
/**
 * A key found past this many others at its place in the tree counts as a slow find; so many of them and the
 * tree's branches are put in order of use (`reorder`): keys an attacker got in first (a prune keeps the
 * sequences of its last maps too) would otherwise be compared before the stream's own on every map.
 */
const SLOW_FIND = 8;
const REORDER_AFTER_SLOW_FINDS = 4096;
let shapeCount = 1;
let compiledCount = 0;
let misses = 0;
/** Misses before the next prune (`prune` backs off), and the rate of compiled builds per miss before the last. */
let pruneAfterMisses = PRUNE_AFTER_MISSES;
let compiledRate = 0;
let slowFinds = 0;

/** How big the key-sequence tree has grown (for tests of its bounds). */
export function stringMapShapeCounts(): { shapes: number; compiled: number } {
  return { shapes: shapeCount, compiled: compiledCount };
}

/** Per entry: key start, key end, value start, value end (byte offsets into the tap's buffer). */
const spans = new Int32Array(4 * MAX_ENTRIES);
/** Per span (as in `markNonAscii`): 1 when the string is not all ASCII; all 0 between maps. */
const nonAscii = new Uint8Array(2 * MAX_ENTRIES);
const scratchKeys: string[] = new Array<string>(MAX_ENTRIES).fill('');
const scratchValues: string[] = new Array<string>(MAX_ENTRIES).fill('');

function compileShape(keys: readonly string[]): Shape['build'] {
  // An object literal's `__proto__: v` would set the prototype, unlike `out['__proto__'] = v`; a
  // duplicate key would also work but is rare enough not to reason about.
  if (keys.includes('__proto__') || new Set(keys).size !== keys.length) return null;
  compiledCount++;
  const body = keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ');
  // The keys are data, quoted by JSON.stringify.
  return new Function('v', `return { ${body} };`) as Shape['build'];
}

/** Whether the ASCII bytes of `buf` at `at` are `key`'s characters (a loop: cheaper than a string made). */
function sameBytes(buf: Buffer, at: number, key: string): boolean {
  for (let i = 0; i < key.length; i++) if (buf[at + i] !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * `s` as a flat, internalized string: a substring may be a slice of the whole map's text, which would
 * keep that text alive in the tree and make every compare with it go through the slice.
 */
function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/**
 * Reads one `map<string>` from `tap`, as avsc's MapType does. Stops at the first read past the buffer's
 * end (the tap is then invalid and the codec throws `truncated`): a hostile block count cannot make it
 * loop on nothing.
 */
export function readStringMap(tap: Tap): Record<string, string> {
  const buf = tap.buf;
  const end = buf.length;
  const start = tap.pos;
  let pos = start;
  let n = 0;
  for (;;) {
    let count = readLong(buf, pos);
    pos = afterLong;
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      // The block's size in bytes, which a reader that decodes every entry does not need.
      while (((buf[pos++] as number) & 0x80) !== 0 && pos <= end);
    }
    if (n + count > MAX_ENTRIES) return readEntryByEntry(tap, start);
    for (; count > 0; count--) {
      const at = 4 * n++;
      // `!(len >= 0)`, not `len < 0`: a 150-byte varint reads as NaN, which passes both `<` tests and would
      // leave `pos` NaN with the block's count (2^40) still to loop over.
      let len = readLong(buf, pos);
      pos = afterLong;
      if (!(len >= 0 && pos + len <= end)) return invalid(tap);
      spans[at] = pos;
      spans[at + 1] = pos += len;
      len = readLong(buf, pos);
      pos = afterLong;
      if (!(len >= 0 && pos + len <= end)) return invalid(tap);
      spans[at + 2] = pos;
      spans[at + 3] = pos += len;
    }
  }
  if (pos > end) return invalid(tap);
  tap.pos = pos;
  if (n === 0) return {};
  // Everything from the first key to the last value, block counts and lengths included: ASCII text
  // decodes byte for character, so each ASCII string is a substring at its byte offsets.
  const first = spans[0] as number;
  const last = spans[4 * n - 1] as number;
  if (last - first > MAX_SLICED_SPAN) {
    // Each string decoded on its own, as avsc does (the walk's path for non-ASCII strings, for all).
    nonAscii.fill(1, 0, 2 * n);
    const out = walk(buf, '', first, n, true);
    nonAscii.fill(0, 0, 2 * n);
    return out;
  }
  const text = latin1Slice(buf, first, last);
  const marked = markNonAscii(text, first, n);
  const out = walk(buf, text, first, n, marked > 0);
  if (marked > 0) nonAscii.fill(0, 0, 2 * n);
  return out;
}

/** Span `r`'s string: a substring of the map's text when ASCII, else decoded from its UTF-8 bytes. */
function spanString(buf: Buffer, text: string, first: number, r: number, mixed: boolean): string {
  const from = spans[2 * r] as number;
  const to = spans[2 * r + 1] as number;
  return mixed && nonAscii[r] === 1 ? utf8Slice(buf, from, to) : text.substring(from - first, to - first);
}

/** Finds the map's key sequence in the tree (growing it when new) and builds the object. */
function walk(buf: Buffer, text: string, first: number, n: number, mixed: boolean): Record<string, string> {
  let shape = root;
  for (let i = 0; i < n; i++) {
    const keyAt = spans[4 * i] as number;
    const keyLength = (spans[4 * i + 1] as number) - keyAt;
    // A non-ASCII key is compared as a string (its UTF-16 length is not its byte length).
    const decoded = mixed && nonAscii[2 * i] === 1 ? utf8Slice(buf, keyAt, keyAt + keyLength) : undefined;
    const keys = shape.keys;
    let b = 0;
    while (b < keys.length) {
      const key = keys[b] as string;
      if (decoded === undefined ? key.length === keyLength && sameBytes(buf, keyAt, key) : key === decoded)
        break;
      b++;
    }
    scratchValues[i] = spanString(buf, text, first, 2 * i + 1, mixed);
    if (b < keys.length) {
      shape = shape.next[b] as Shape;
      if (b >= SLOW_FIND && ++slowFinds >= REORDER_AFTER_SLOW_FINDS) reorder();
      continue;
    }
    // A key sequence not seen before: the rest of it as strings, the tree grown while it may.
    for (let j = 0; j < n; j++) scratchKeys[j] = spanString(buf, text, first, 2 * j, mixed);
    for (let j = i + 1; j < n; j++) scratchValues[j] = spanString(buf, text, first, 2 * j + 1, mixed);
    return grow(shape, i, n);
  }
  if (shape.build) {
    shape.hits++;
    return shape.build(scratchValues);
  }
  for (let j = 0; j < n; j++) scratchKeys[j] = spanString(buf, text, first, 2 * j, mixed);
  return finish(shape, n);
}

/** Grows the tree from `shape` by the keys `scratchKeys[i, n)` as far as its bounds allow, then builds. */
function grow(from: Shape, i: number, n: number): Record<string, string> {
  let shape = from;
  for (; i < n; i++) {
    if (shapeCount >= MAX_SHAPES || shape.keys.length >= MAX_BRANCHES) return missed(n);
    const next = newShape();
    shapeCount++;
    shape.keys.push(internalized(scratchKeys[i] as string));
    shape.next.push(next);
    shape = next;
  }
  return finish(shape, n);
}

/** The object for the key sequence ending at `shape`: keys in `scratchKeys`, values in `scratchValues`. */
function finish(shape: Shape, n: number): Record<string, string> {
  shape.hits++;
  if (shape.build === undefined && ++shape.seen >= COMPILE_AFTER) {
    // No room: left undefined, so that it is compiled once a prune makes some.
    if (compiledCount >= MAX_COMPILED) return missed(n);
    shape.build = compileShape(scratchKeys.slice(0, n));
  }
  return shape.build ? shape.build(scratchValues) : assignAll(n);
}

/** A map the tree had no room for: built a property at a time, and the tree pruned every so many. */
function missed(n: number): Record<string, string> {
  if (++misses >= pruneAfterMisses) prune();
  return assignAll(n);
}

/** Maps through `shape` (its own and its subtree's, before the last prune halved), kept in `score`. */
function scoreOf(shape: Shape): number {
  let sum = shape.past + PAST_WEIGHT * shape.hits;
  for (const next of shape.next) sum += scoreOf(next);
  shape.score = sum;
  return sum;
}

/** Whether maps ended at `shape`: a key sequence of its own, not only a prefix of others. */
const endsSequence = (shape: Shape): boolean => shape.seen > 0 || shape.build !== undefined;
/** Compiled and used since the last prune or the few before it (`PAST_WEIGHT`): what the stream reads now. */
const inUse = (shape: Shape): boolean => typeof shape.build === 'function' && shape.hits + shape.past > 0;
/** Seen more than once (compiled, or waiting for room to be). */
const repeated = (shape: Shape): boolean => shape.build !== undefined || shape.seen >= COMPILE_AFTER;

/**
 * Makes room in the tree, by whole key sequences (a sequence's shape and its ancestors), and halves the
 * counts so that what was common long ago gives way:
 * - the compiled sequences used since the last prune or the few before it are all kept. A stream may have more sequences than
 *   the tree has room for (Security logs: hundreds of event IDs whose EventData starts with the same keys),
 *   sent in rotation; making room among them would evict each before it is seen a second time, and none
 *   would stay compiled;
 * - of the others, as many as fill half of the shapes they held: the ones seen more than once first, then
 *   the ones with the most maps, then the oldest (a sequence seen once, kept, can be seen again). An
 *   attacker's one-off sequences (a map each) go first; to keep a sequence it takes more maps than the
 *   stream's own sequences get, and room is made at each prune whatever arrives.
 */
function prune(): void {
  misses = 0;
  // The tree breadth-first, with each shape's parent (the tree has no pointers up).
  const order: Shape[] = [root];
  const parent: number[] = [-1];
  const firstChild: number[] = [];
  for (let q = 0; q < order.length; q++) {
    firstChild.push(order.length);
    for (const next of (order[q] as Shape).next) {
      order.push(next);
      parent.push(q);
    }
  }
  const kept = new Uint8Array(order.length);
  kept[0] = 1;
  let keptCount = 0;
  /** Keeps the sequence ending at `order[i]` if that keeps at most `budget` shapes in all. */
  const keep = (i: number, budget: number): boolean => {
    let added = 0;
    for (let a = i; kept[a] === 0; a = parent[a] as number) added++;
    if (keptCount + added > budget) return false;
    for (let a = i; kept[a] === 0; a = parent[a] as number) kept[a] = 1;
    keptCount += added;
    return true;
  };
  const others: number[] = [];
  for (let i = 1; i < order.length; i++) {
    const shape = order[i] as Shape;
    if (inUse(shape)) keep(i, Infinity);
    else if (endsSequence(shape)) {
      shape.score = shape.past + PAST_WEIGHT * shape.hits;
      others.push(i);
    }
  }
  const budget = keptCount + ((order.length - 1 - keptCount) >> 1);
  // A stable sort: among equals, breadth-first order (older branches first).
  others.sort((a, b) => {
    const x = order[a] as Shape;
    const y = order[b] as Shape;
    const rx = repeated(x);
    const ry = repeated(y);
    return rx !== ry ? Number(ry) - Number(rx) : rx ? y.score - x.score : 0;
  });
  for (const i of others) if (!keep(i, budget)) break;
  let compiled = 0;
  // Maps built by compiled literals since the last prune (on every shape, kept or not).
  let compiledHits = 0;
  for (const shape of order) if (typeof shape.build === 'function') compiledHits += shape.hits;
  // Backs off while pruning does not raise the compiled builds (by an eighth, above the noise of which maps
  // came when): the stream's sequences in rotation, more than the tree holds, are then kept in use longer.
  const rate = compiledHits / pruneAfterMisses;
  pruneAfterMisses =
    rate > compiledRate * 1.125
      ? Math.max(PRUNE_AFTER_MISSES, pruneAfterMisses >> 1)
      : Math.min(MAX_PRUNE_AFTER_MISSES, pruneAfterMisses * 2);
  compiledRate = rate;
  for (let i = 0; i < order.length; i++) {
    if (kept[i] === 0) continue;
    const shape = order[i] as Shape;
    let j = 0;
    for (let b = 0; b < shape.next.length; b++) {
      if (kept[(firstChild[i] as number) + b] === 0) continue;
      shape.keys[j] = shape.keys[b] as string;
      shape.next[j++] = shape.next[b] as Shape;
    }
    shape.keys.length = j;
    shape.next.length = j;
    // Not `>>> 1`: a count past 2^32 (hits since a prune long ago) would wrap.
    shape.past = Math.floor((shape.past + PAST_WEIGHT * shape.hits) / 2);
    shape.hits = 0;
    if (typeof shape.build === 'function') compiled++;
  }
  shapeCount = keptCount + 1;
  compiledCount = compiled;
  scoreOf(root);
  sortBranches();
}

/** Puts every branch list of the tree in order of maps through it, and halves the past counts. */
function reorder(): void {
  scoreOf(root);
  sortBranches();
  const halve = (shape: Shape): void => {
    shape.past = Math.floor(shape.past / 2);
    for (const next of shape.next) halve(next);
  };
  halve(root);
}

/** Each shape's branches by their `score` (from `scoreOf`), most first. */
function sortBranches(): void {
  slowFinds = 0;
  const sort = (shape: Shape): void => {
    if (shape.next.length > 1) {
      const order = shape.next
        .map((next, b) => b)
        .sort((a, b) => (shape.next[b] as Shape).score - (shape.next[a] as Shape).score);
      const keys = order.map((b) => shape.keys[b] as string);
      const next = order.map((b) => shape.next[b] as Shape);
      for (let b = 0; b < order.length; b++) {
        shape.keys[b] = keys[b] as string;
        shape.next[b] = next[b] as Shape;
      }
    }
    for (const next of shape.next) sort(next);
  };
  sort(root);
}

/**
 * For tests of the tree: whether the key sequence `keys` is in it (and built by a compiled literal there),
 * and how many other keys a map of it is compared with on its way.
 */
export function stringMapKeySequence(keys: readonly string[]): {
  state: 'compiled' | 'known' | 'unknown';
  passed: number;
} {
  let shape = root;
  let passed = 0;
  for (const key of keys) {
    const b = shape.keys.indexOf(key);
    if (b < 0) return { state: 'unknown', passed };
    passed += b;
    shape = shape.next[b] as Shape;
  }
  return { state: typeof shape.build === 'function' ? 'compiled' : 'known', passed };
}

/** `scratchKeys[0, n)` to `scratchValues[0, n)`, a property at a time (duplicates as assignment does). */
function assignAll(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[scratchKeys[i] as string] = scratchValues[i] as string;
  return out;
}

/** avsc's own way, from `start` (where the map began): each string decoded, each entry assigned. */
function readEntryByEntry(tap: Tap, start: number): Record<string, string> {
  const buf = tap.buf;
  const end = buf.length;
  let pos = start;
  const out: Record<string, string> = {};
  for (;;) {
    let count = readLong(buf, pos);
    pos = afterLong;
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      while (((buf[pos++] as number) & 0x80) !== 0 && pos <= end);
    }
    for (; count > 0; count--) {
      let len = readLong(buf, pos);
      pos = afterLong;
      if (!(len >= 0 && pos + len <= end)) return invalid(tap);
      const key = utf8Slice(buf, pos, (pos += len));
      len = readLong(buf, pos);
      pos = afterLong;
      if (!(len >= 0 && pos + len <= end)) return invalid(tap);
      out[key] = utf8Slice(buf, pos, (pos += len));
    }
  }
  if (pos > end) return invalid(tap);
  tap.pos = pos;
  return out;
}

function invalid(tap: Tap): Record<string, string> {
  tap.pos = tap.buf.length + 1;
  return {};
}

/** Where the last `readLong` ended (a second return value without allocating a pair). */
let afterLong = 0;

/** Avro's zig-zag varint long at `pos`, as avsc's Tap.readLong (a byte past the end reads as 0). */
function readLong(buf: Buffer, pos: number): number {
  let n = 0;
  let shift = 0;
  let b: number;
  do {
    b = buf[pos++] ?? 0;
    n |= (b & 0x7f) << shift;
    shift += 7;
  } while ((b & 0x80) !== 0 && shift < 28);
  if ((b & 0x80) !== 0) {
    // Beyond 28 bits: float arithmetic, as avsc (a length this long is past any buffer anyway).
    let f = n;
    let scale = 268435456;
    do {
      b = buf[pos++] ?? 0;
      f += (b & 0x7f) * scale;
      scale *= 128;
    } while ((b & 0x80) !== 0);
    afterLong = pos;
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  afterLong = pos;
  return (n >> 1) ^ -(n & 1);
}

function isStringMapSchema(schema: Schema): boolean {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    !Array.isArray(schema) &&
    (schema as { type?: unknown }).type === 'map' &&
    (schema as { values?: unknown }).values === 'string' &&
    (schema as { logicalType?: unknown }).logicalType === undefined
  );
}

class StringMapType extends avro.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    return value;
  }

  protected override _toValue(value: unknown): unknown {
    return value;
  }

  protected override _resolve(): unknown {
    return undefined;
  }

  _read(tap: Tap): Record<string, string> {
    return readStringMap(tap);
  }

  /** Schema resolution: a writer's map<string> reads here; anything else as avsc's map<string> would. */
  _update(resolver: Resolver, writer: Type, opts: unknown): void {
    if (writer instanceof StringMapType) {
      resolver._read = readStringMap;
      return;
    }
    const inner = (
      this.underlyingType as unknown as {
        createResolver(w: Type, o: unknown): Resolver;
      }
    ).createResolver(writer, opts);
    resolver._read = (tap) => inner._read(tap);
  }
}

/** avsc `typeHook`: every `map<string>` becomes a StringMapType (same schema, faster reader). */
export function stringMapTypeHook(schema: Schema, opts: unknown): Type | undefined {
  if (!isStringMapSchema(schema)) return undefined;
  return new StringMapType({ ...(schema as object), logicalType: LOGICAL_NAME } as Schema, opts);
}
