/**
 * Where each JSON document ends in text that holds documents one after another: the `evtx` crate's
 * pretty-printed output (`evtx_dump -o json`, a document spans ~50 lines, optionally preceded by a
 * `Record <id>` line) and its one-per-line form (`-o jsonl`). One home for this framing: the CLI reads
 * files through it, `@sequor/sigma` splits regression files with it.
 *
 * Lines go in one at a time (so a file is never held whole), documents come out with the 0-based index
 * of the line they start on. A bad document never takes its neighbours with it:
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
  private readonly ready: FramedDocument[] = [];
  private readyAt = 0;

  constructor(
    /** Documents are kept up to `maxBytes + 1` bytes; the rest is dropped (the decoder refuses them). */
    private readonly maxBytes: number,
  ) {}

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
    const n = line.length;
    let pos = 0;
    if (this.startLine >= 0) {
      // A new document in column 0: the open one is truncated.
      if (startsDocument(line)) this.finish();
      else if (this.lost) {
        this.append(line, 0, n, true);
        if (n > 0 && line[0] === CLOSE_BRACE) this.finish();
        return;
      } else {
        this.appendNewline();
        pos = this.scan(line, 0);
        if (pos < 0) {
          if (cut) this.lost = true;
          return;
        }
      }
    }
    while (pos < n) {
      // Between documents: skip blanks, and evtx_dump's `Record <id>` line before each document.
      const c = line[pos] as number;
      if (c === SPACE || c === TAB || c === CARRIAGE_RETURN || (c === 0xef && isByteOrderMark(line, pos))) {
        pos += c === 0xef ? 3 : 1;
        continue;
      }
      if (pos === 0 && isRecordLine(line)) return;
      this.startLine = index;
      this.stray = c !== OPEN_BRACE && c !== OPEN_BRACKET;
      pos = this.scan(line, pos);
      if (pos < 0) {
        if (cut) this.lost = true;
        return;
      }
    }
  }

  /** The input ended: an unclosed document is complete as it is (the decoder says what is wrong with it). */
  end(): void {
    if (this.startLine >= 0) this.finish();
  }

  /**
   * Scans `line` from `from` within the current document; appends what belongs to it. Returns where the
   * document ended (it is then finished), or -1 when it goes on past this line.
   */
  private scan(line: Uint8Array, from: number): number {
    const n = line.length;
    if (this.stray) {
      this.append(line, from, n, false);
      this.finish();
      return n;
    }
    let depth = this.depth;
    let inString = false;
    for (let i = from; i < n; i++) {
      const c = line[i] as number;
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
          this.append(line, from, i + 1, false);
          this.finish();
          return i + 1;
        }
      }
    }
    this.depth = depth;
    this.append(line, from, n, false);
    return -1;
  }

  private appendNewline(): void {
    this.append(NEWLINE_BYTES, 0, 1, false);
  }

  private append(bytes: Uint8Array, from: number, to: number, newlineFirst: boolean): void {
    const limit = this.maxBytes + 1;
    if (newlineFirst && this.length < limit) this.append(NEWLINE_BYTES, 0, 1, false);
    const take = Math.min(to - from, limit - this.length);
    if (take <= 0) return;
    if (this.length + take > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(
        Math.min(limit, Math.max(this.buffer.length * 2, this.length + take)),
      );
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    this.buffer.set(bytes.subarray(from, from + take), this.length);
    this.length += take;
  }

  private finish(): void {
    // A copy: the document outlives the next lines, which reuse the buffer.
    this.ready.push({ bytes: Buffer.from(this.buffer.subarray(0, this.length)), line: this.startLine });
    this.length = 0;
    this.startLine = -1;
    this.depth = 0;
    this.lost = false;
    this.stray = false;
  }
}

const NEWLINE_BYTES = Uint8Array.of(NEWLINE);

/** A line that can only begin a document: `{` or `[` in column 0, or evtx_dump's `Record <id>`. */
function startsDocument(line: Uint8Array): boolean {
  const c = line[0];
  return c === OPEN_BRACE || c === OPEN_BRACKET || (c === 0x52 /* R */ && isRecordLine(line));
}

function isByteOrderMark(line: Uint8Array, pos: number): boolean {
  return line[pos + 1] === 0xbb && line[pos + 2] === 0xbf;
}

/** `Record <digits>`, what `evtx_dump -o json` writes before each document. */
function isRecordLine(line: Uint8Array): boolean {
  const n = line.length;
  if (n <= RECORD_PREFIX.length) return false;
  for (let i = 0; i < RECORD_PREFIX.length; i++) if (line[i] !== RECORD_PREFIX[i]) return false;
  let end = n;
  while (end > RECORD_PREFIX.length && (line[end - 1] === CARRIAGE_RETURN || line[end - 1] === SPACE)) end--;
  if (end === RECORD_PREFIX.length) return false;
  for (let i = RECORD_PREFIX.length; i < end; i++) {
    const c = line[i] as number;
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

/**
 * Every document of a text, in order (whole files in tests and tools; the CLI streams lines through a
 * framer instead). Lines end at `\n`; a `\r` before it is left to JSON, which reads it as blank.
 */
export function frameJsonDocuments(
  text: string | Uint8Array,
  maxBytes = Number.MAX_SAFE_INTEGER - 1,
): FramedDocument[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const framer = new JsonDocumentFramer(maxBytes);
  const out: FramedDocument[] = [];
  let start = 0;
  let index = 0;
  for (;;) {
    const end = bytes.indexOf(NEWLINE, start);
    framer.push(bytes.subarray(start, end < 0 ? bytes.length : end), index);
    for (let d = framer.take(); d !== undefined; d = framer.take()) out.push(d);
    if (end < 0) break;
    start = end + 1;
    index++;
  }
  framer.end();
  for (let d = framer.take(); d !== undefined; d = framer.take()) out.push(d);
  return out;
}
