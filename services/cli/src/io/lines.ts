/**
 * Reading inputs as lines of bytes: files, gzip files (recognised by their magic bytes, whatever the
 * name) and stdin. Lines come out synchronously from a 1 MiB chunk (`next()`, no promise per line) and
 * only a chunk boundary costs an `await fill()`, so a k-way merge over many files stays cheap. Lines are
 * `Buffer` views into the chunk: the formats decode the bytes themselves.
 */
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const HASH = 0x23;
const EMPTY = Buffer.alloc(0);
const CHUNK_BYTES = 1 << 20;
/** How many bytes of non-blank lines format detection may look ahead. */
const HEAD_BYTES = 4 << 20;

/** Bytes of one input, with a running count of the bytes read from disk (compressed, for gzip). */
export interface ByteStream {
  readonly chunks: AsyncIterator<Buffer>;
  /** Bytes read so far from the underlying file or stdin (before decompression). */
  bytesRead(): number;
  readonly gzip: boolean;
  close(): void;
}

/** Opens `path` (`-` for stdin), decompressing when it starts with the gzip magic bytes. */
export async function openByteStream(path: string): Promise<ByteStream> {
  const raw: Readable = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: CHUNK_BYTES });
  let read = 0;
  const rawChunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The first chunk decides; an error here (ENOENT, EISDIR) surfaces to the caller as the open's error.
  const first = await rawChunks.next();
  if (first.done === true)
    return { chunks: emptyIterator(), bytesRead: () => read, gzip: false, close: () => raw.destroy() };
  const head = toBuffer(first.value);
  read += head.length;
  const counted = (async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await rawChunks.next();
      if (next.done === true) return;
      const chunk = toBuffer(next.value);
      read += chunk.length;
      yield chunk;
    }
  })();
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (!gzip) return { chunks: counted, bytesRead: () => read, gzip, close: () => raw.destroy() };
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  // pipeline forwards a read error or a corrupt stream to the gunzip iterator, which throws it.
  pipeline(Readable.from(counted), gunzip, () => undefined);
  return {
    chunks: gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>,
    bytesRead: () => read,
    gzip,
    close: () => (raw.destroy(), gunzip.destroy()),
  };
}

function toBuffer(chunk: unknown): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
}

function emptyIterator(): AsyncIterator<Buffer> {
  return { next: () => Promise.resolve({ done: true, value: undefined }) };
}

/**
 * Records of one input as the commands read them: lines (`LineReader`), or documents spanning lines
 * (`JsonDocumentReader`, for formats framed as JSON documents). `next()` gives the next record's bytes
 * synchronously or undefined when the buffered bytes are used up (then `await fill()` and ask again,
 * until `done`); `lineIndex` is the 0-based line the record last returned starts on (its offset: file
 * line = offset + 1).
 */
export interface RecordReader {
  next(): Buffer | undefined;
  fill(): Promise<void>;
  readonly done: boolean;
  readonly lineIndex: number;
  /** Lines read so far, blank ones included (for the summary). */
  readonly linesRead: number;
  /** Why reading stopped early; null when it did not. */
  readonly failure: ReadFailure | null;
}

/**
 * Lines of one byte stream. `next()` returns the next line (without `\n` or `\r\n`), or `undefined` when
 * the buffered bytes are used up: then `await fill()` and ask again, until `done`. `lineIndex` is the
 * 0-based index of the line last returned (empty lines count), which is what alerts and dead letters
 * report as the offset: file line = offset + 1.
 */
export class LineReader implements RecordReader {
  private chunk: Buffer = EMPTY;
  private pos = 0;
  /** The start of a line whose end is in a later chunk. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Bytes of the current overlong line dropped beyond `maxLineBytes + 1`. */
  private dropping = false;
  private eof = false;
  /** Lines head() looked at, to be returned again; a number is a run of that many blank lines. */
  private readonly pending: (Buffer | number)[] = [];
  lineIndex = -1;

  constructor(
    private readonly stream: ByteStream,
    /** Longer lines are cut to `maxLineBytes + 1` bytes (which the normalizer refuses as too-large). */
    private readonly maxLineBytes: number,
  ) {}

  /** Why reading stopped early (the stream failed after `afterLine` complete lines); null when it did not. */
  failure: ReadFailure | null = null;

  get linesRead(): number {
    return this.lineIndex + 1;
  }

  /** True once every line has been returned. */
  get done(): boolean {
    return this.eof && this.pending.length === 0 && this.pos >= this.chunk.length && this.carry.length === 0;
  }

  next(): Buffer | undefined {
    const pending = this.pending[0];
    if (pending !== undefined) {
      this.lineIndex++;
      if (typeof pending !== 'number') return this.pending.shift() as Buffer;
      // A run of blank lines held by head(): they come back as empty lines, keeping the numbering.
      if (pending > 1) this.pending[0] = pending - 1;
      else this.pending.shift();
      return EMPTY;
    }
    const line = this.scan();
    if (line !== undefined) this.lineIndex++;
    return line;
  }

  /** Whether the block `nextBlock()` last returned begins with a line cut to `maxLineBytes + 1` bytes. */
  blockCut = false;

  /**
   * The next run of whole lines in the buffered bytes, joined by their line breaks (the last break left
   * out), for readers that scan the bytes themselves (`JsonDocumentReader`): one view per chunk instead
   * of one per line. Lines `head()` holds come back first, one at a time. Undefined when no whole line is
   * buffered: `await fill()` and ask again, until `done`. A `\r` before a break is kept. `lineIndex` is
   * not kept for blocks: their reader counts lines itself.
   */
  nextBlock(): Buffer | undefined {
    if (this.pending.length > 0) {
      const line = this.next() as Buffer;
      this.blockCut = line.length > this.maxLineBytes;
      return line;
    }
    const chunk = this.chunk;
    if (this.pos < chunk.length) {
      const last = chunk.lastIndexOf(NEWLINE);
      if (last >= this.pos) {
        let block = chunk.subarray(this.pos, last);
        this.pos = last + 1;
        this.blockCut = false;
        if (this.carry.length > 0) {
          // The first line began in an earlier chunk: joined (and cut to the limit) as `next()` would.
          const breakAt = block.indexOf(NEWLINE);
          const first = this.takeCarry(breakAt < 0 ? block : block.subarray(0, breakAt));
          this.blockCut = first.length > this.maxLineBytes;
          block = breakAt < 0 ? first : Buffer.concat([first, block.subarray(breakAt)]);
        }
        return block;
      }
      this.keep(chunk.subarray(this.pos));
      this.pos = chunk.length;
    }
    if (this.eof && this.carry.length > 0) {
      const line = this.takeCarry(EMPTY);
      this.blockCut = line.length > this.maxLineBytes;
      return line;
    }
    return undefined;
  }

  /** Reads the next chunk; at the end of the stream the last unterminated line becomes available. */
  async fill(): Promise<void> {
    if (this.eof) return;
    let next: IteratorResult<Buffer>;
    try {
      next = await this.stream.chunks.next();
    } catch (error) {
      // A read error (a truncated or corrupt gzip, EIO) ends this input, not the run: the lines before it
      // stand, the last partial one included (the normalizer judges it), and the caller reports `failure`.
      this.failure = { error, afterLine: this.lineIndex + this.pendingLines() + 1 };
      this.eof = true;
      return;
    }
    if (next.done === true) {
      this.eof = true;
      return;
    }
    this.chunk = next.value;
    this.pos = 0;
  }

  /**
   * The first lines without consuming them, for format detection: up to `maxDataLines` data lines (not
   * blank, not a `#` directive) or `maxBytes` of lines, whichever comes first. Blank lines never count
   * (empty ones are held as a count, so a file that starts with a million of them costs no memory).
   */
  async head(maxDataLines: number, maxBytes = HEAD_BYTES): Promise<string[]> {
    const lines: string[] = [];
    let dataLines = 0;
    let bytes = 0;
    while (dataLines < maxDataLines && bytes < maxBytes) {
      const line = this.scan();
      if (line === undefined) {
        if (this.eof) break;
        await this.fill();
        continue;
      }
      if (line.length === 0) {
        const last = this.pending[this.pending.length - 1];
        if (typeof last === 'number') this.pending[this.pending.length - 1] = last + 1;
        else this.pending.push(1);
        continue;
      }
      this.pending.push(line);
      // A held line costs its bytes and a Buffer view (about 64 bytes): whitespace-only lines count too.
      bytes += line.length + 64;
      lines.push(line.toString('utf8'));
      if (line[0] !== HASH && !isBlank(line)) dataLines++;
    }
    return lines;
  }

  private pendingLines(): number {
    let n = 0;
    for (const p of this.pending) n += typeof p === 'number' ? p : 1;
    return n;
  }

  /** The next complete line in the buffered bytes, without counting it. */
  private scan(): Buffer | undefined {
    const chunk = this.chunk;
    if (this.pos < chunk.length) {
      const end = chunk.indexOf(NEWLINE, this.pos);
      if (end >= 0) {
        let line = chunk.subarray(this.pos, end);
        this.pos = end + 1;
        if (this.carry.length > 0) line = this.takeCarry(line);
        return stripCarriageReturn(line);
      }
      this.keep(chunk.subarray(this.pos));
      this.pos = chunk.length;
    }
    if (this.eof && this.carry.length > 0) return stripCarriageReturn(this.takeCarry(EMPTY));
    return undefined;
  }

  private keep(part: Buffer): void {
    if (this.dropping) return;
    // Copy: the chunk buffer may be reused by the stream after we move on.
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
    if (this.carryBytes > this.maxLineBytes) {
      this.carry = [Buffer.concat(this.carry).subarray(0, this.maxLineBytes + 1)];
      this.carryBytes = this.maxLineBytes + 1;
      this.dropping = true;
    }
  }

  private takeCarry(rest: Buffer): Buffer {
    const parts = this.dropping ? this.carry : [...this.carry, rest];
    const line = Buffer.concat(parts);
    this.carry = [];
    this.carryBytes = 0;
    this.dropping = false;
    return line.length > this.maxLineBytes + 1 ? line.subarray(0, this.maxLineBytes + 1) : line;
  }
}

/** A read error that ended an input early. */
export interface ReadFailure {
  readonly error: unknown;
  /** Lines complete before the failure (the last, partial line not counted). */
  readonly afterLine: number;
}

const SPACE = 0x20;
const TAB = 0x09;

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== SPACE && c !== TAB && c !== CARRIAGE_RETURN) return false;
  }
  return true;
}

function stripCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN
    ? line.subarray(0, line.length - 1)
    : line;
}
