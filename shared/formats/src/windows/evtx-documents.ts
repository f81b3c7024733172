/**
 * Where each JSON document ends in text that holds documents one after another: the `evtx` crate's
 * pretty-printed output (`evtx_dump -o json`, a document spans ~50 lines, optionally preceded by a
 * `Record <id>` line) and its one-per-line form (`-o jsonl`). One home for this framing: the CLI reads
 * files through it, `@sequor/sigma` splits regression files with it.
 *
 * Bytes go in as blocks of whole lines (a line, or a reader's chunk up to its last newline, so a file is
 * never held whole and no line costs a view of its own), documents come out with the 0-based index of
 * the line they start on. A bad document never takes its neighbours with it:
 * - an unclosed document ends where a line starts with `{` or `[` in column 0, or is a `Record <id>` line
 *   (a pretty-printer indents every inner line; a new document starts in column 0), or at the end of the
 *   input;
 * - a line cut for length (the caller says so) leaves the nesting unknown: the document then ends at the
 *   next line that starts with `}` (included) in column 0, or one that begins a document (excluded);
 * - a document is kept up to `maxBytes + 1` bytes (the decoder refuses it as too large, with its line);
 * - text between documents that is not one ends at its line's end, a record of its own (dead-lettered).
 * Strings are respected (`"}{"` is no boundary); a JSON string cannot span lines, so string state ends
 * with each line.
 */

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const CARRIAGE_RETURN = 0x0d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const RECORD_PREFIX = Buffer.from('Record ', 'latin1');

/** One framed document: its bytes and the 0-based index of the line it starts on. */
export interface FramedDocument {
  readonly bytes: Buffer;
  readonly line: number;
}

export class JsonDocumentFramer {
  private buffer: Buffer = Buffer.allocUnsafe(16 << 10);
  private length = 0;
  /** Line of the current document's start; -1 between documents. */
  private startLine = -1;
  private depth = 0;
  /** The current document holds a line cut for length: its nesting is unknown. */
  private lost = false;
  /** The current document began with something other than `{` or `[`: it ends with its line. */
  private stray = false;
  /** Where the current document's bytes not yet copied start in the block being pushed (-1: none). */
  private from = -1;
  private readonly ready: FramedDocument[] = [];
  private readyAt = 0;

  constructor(
    /** Documents are kept up to `maxBytes + 1` bytes; the rest is dropped (the decoder refuses them). */
    private readonly maxBytes: number,
  ) {}

  /** Whether complete documents wait to be taken. */
  get holdsDocuments(): boolean {
    return this.readyAt < this.ready.length;
  }

  /** The next complete document, or undefined until more lines are pushed (or `end()` is called). */
  take(): FramedDocument | undefined {
    if (this.readyAt === this.ready.length) return undefined;
    const doc = this.ready[this.readyAt++];
    if (this.readyAt === this.ready.length) {
      this.ready.length = 0;
      this.readyAt = 0;
    }
    return doc;
  }

  /** Line `index` (0-based, without its line break); `cut`: the line was longer than its reader keeps. */
  push(line: Uint8Array, index: number, cut = false): void {
    this.pushLines(line, index, cut);
  }

  /**
   * Whole lines, `\n`-separated, without the last line's break; the first is line `firstLine`. `cutFirst`:
   * the first line was cut for length. Returns how many lines the block held.
   */
  pushLines(block: Uint8Array, firstLine: number, cutFirst = false): number {
    const n = block.length;
    // The block boundary is a line break: inside a document it is part of the document.
    if (this.startLine >= 0) this.appendNewline();
    let start = 0;
    let index = firstLine;
    for (;;) {
      const newline = block.indexOf(NEWLINE, start);
      const end = newline < 0 ? n : newline;
      this.line(block, start, end, index, cutFirst && index === firstLine);
      if (newline < 0) break;
      start = newline + 1;
      index++;
    }
    if (this.from >= 0) {
      this.copy(block, this.from, n);
      this.from = -1;
    }
    return index - firstLine + 1;
  }

  /** The input ended: an unclosed document is complete as it is (the decoder says what is wrong with it). */
  end(): void {
    if (this.startLine >= 0) this.finish(null, 0);
  }

  /** One line, `block[start..end)`. */
  private line(block: Uint8Array, start: number, end: number, index: number, cut: boolean): void {
    let pos = start;
    if (this.startLine >= 0) {
      if (startsDocument(block, start, end)) {
        // A new document in column 0: the open one is truncated (it ends before this line's break).
        this.finish(block, start - 1);
      } else if (this.lost) {
        if (this.from < 0) this.from = start;
        if (end > start && block[start] === CLOSE_BRACE) this.finish(block, end);
        return;
      } else {
        if (this.from < 0) this.from = start;
        pos = this.scan(block, start, end);
        if (pos < 0) {
          if (cut) this.lost = true;
          return;
        }
      }
    }
    // Where a `Record <id>` line would begin: the line's start, after a byte order mark there.
    let lineBegin = start;
    while (pos < end) {
      // Between documents: skip blanks, and evtx_dump's `Record <id>` line before each document.
      const c = block[pos] as number;
      if (c === 0xef && isByteOrderMark(block, pos)) {
        if (pos === lineBegin) lineBegin += 3;
        pos += 3;
        continue;
      }
      if (c === SPACE || c === TAB || c === CARRIAGE_RETURN) {
        pos += 1;
        continue;
      }
      if (pos === lineBegin && isRecordLine(block, pos, end)) return;
      this.startLine = index;
      this.stray = c !== OPEN_BRACE && c !== OPEN_BRACKET;
      this.from = pos;
      pos = this.scan(block, pos, end);
      if (pos < 0) {
        if (cut) this.lost = true;
        return;
      }
    }
  }

  /**
   * Scans `block[from..end)` within the current document. Returns where the document ended (it is then
   * finished), or -1 when it goes on past this line.
   */
  private scan(block: Uint8Array, from: number, end: number): number {
    if (this.stray) {
      this.finish(block, end);
      return end;
    }
    let depth = this.depth;
    let inString = false;
    for (let i = from; i < end; i++) {
      const c = block[i] as number;
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth <= 0) {
          this.finish(block, i + 1);
          return i + 1;
        }
      }
    }
    this.depth = depth;
    return -1;
  }

  private appendNewline(): void {
    if (this.length > this.maxBytes) return;
    if (this.length === this.buffer.length) this.grow(1);
    this.buffer[this.length++] = NEWLINE;
  }

  /** Copies `block[from..to)` into the document (up to the cap): one view per document and block. */
  private copy(block: Uint8Array, from: number, to: number): void {
    const take = Math.min(to - from, this.maxBytes + 1 - this.length);
    if (take <= 0) return;
    if (this.length + take > this.buffer.length) this.grow(take);
    this.buffer.set(block.subarray(from, from + take), this.length);
    this.length += take;
  }

  /** Room for `more` bytes (never beyond the cap). */
  private grow(more: number): void {
    const size = Math.min(this.maxBytes + 1, Math.max(this.buffer.length * 2, this.length + more));
    const bigger = Buffer.allocUnsafe(size);
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  /** The document ends at `block[to]` (exclusive): its last bytes are copied, then it is ready. */
  private finish(block: Uint8Array | null, to: number): void {
    if (block !== null && this.from >= 0 && to > this.from) this.copy(block, this.from, to);
    // Without a trailing line break, however the document was cut.
    let length = this.length;
    if (length > 0 && this.buffer[length - 1] === NEWLINE && length <= this.maxBytes) length--;
    // A copy: the buffer is reused for the next document.
    this.ready.push({ bytes: Buffer.from(this.buffer.subarray(0, length)), line: this.startLine });
    this.length = 0;
    this.from = -1;
    this.startLine = -1;
    this.depth = 0;
    this.lost = false;
    this.stray = false;
  }
}

/** A line that can only begin a document: `{` or `[` in column 0, or evtx_dump's `Record <id>`. */
function startsDocument(block: Uint8Array, start: number, end: number): boolean {
  if (start >= end) return false;
  const c = block[start];
  return c === OPEN_BRACE || c === OPEN_BRACKET || (c === 0x52 /* R */ && isRecordLine(block, start, end));
}

function isByteOrderMark(block: Uint8Array, pos: number): boolean {
  return block[pos + 1] === 0xbb && block[pos + 2] === 0xbf;
}

/** `Record <digits>`, what `evtx_dump -o json` writes before each document. */
function isRecordLine(block: Uint8Array, start: number, end: number): boolean {
  const prefix = RECORD_PREFIX.length;
  if (end - start <= prefix) return false;
  for (let i = 0; i < prefix; i++) if (block[start + i] !== RECORD_PREFIX[i]) return false;
  let last = end;
  while (last > start + prefix && (block[last - 1] === CARRIAGE_RETURN || block[last - 1] === SPACE)) last--;
  if (last === start + prefix) return false;
  for (let i = start + prefix; i < last; i++) {
    const c = block[i] as number;
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

/**
 * Every document of a text, in order (whole files in tests and tools; the CLI streams blocks of lines
 * through a framer instead). Lines end at `\n`; a `\r` before it is left to JSON, which reads it as blank.
 */
export function frameJsonDocuments(
  text: string | Uint8Array,
  maxBytes = Number.MAX_SAFE_INTEGER - 1,
): FramedDocument[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const framer = new JsonDocumentFramer(maxBytes);
  framer.pushLines(bytes, 0);
  framer.end();
  const out: FramedDocument[] = [];
  for (let d = framer.take(); d !== undefined; d = framer.take()) out.push(d);
  return out;
}
