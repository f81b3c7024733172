/**
 * Records of a file framed as JSON documents (`SourceFormat.framing === 'json-documents'`: the evtx
 * crate's pretty-printed output): the reader's chunks, as blocks of whole lines, go through the formats'
 * `JsonDocumentFramer`, which says where each document ends and on which line it starts. Only such files
 * pay for the framing: line formats read `LineReader`'s lines directly.
 */
import { JsonDocumentFramer } from '@sequor/formats';
import type { LineReader, ReadFailure, RecordReader } from './lines.js';

export class JsonDocumentReader implements RecordReader {
  private readonly framer: JsonDocumentFramer;
  private ended = false;
  /** Lines pushed to the framer so far: the index of the next block's first line. */
  private lines = 0;
  lineIndex = -1;

  constructor(
    private readonly reader: LineReader,
    /** A document is kept to this many bytes + 1 (refused by the normalizer as too large), as a line is. */
    maxBytes: number,
  ) {
    this.framer = new JsonDocumentFramer(maxBytes);
  }

  get done(): boolean {
    return this.ended && !this.framer.holdsDocuments;
  }

  get linesRead(): number {
    return this.lines;
  }

  /** The reader's failure, counted in this reader's lines (LineReader does not count blocks' lines). */
  get failure(): ReadFailure | null {
    const failure = this.reader.failure;
    return failure === null ? null : { error: failure.error, afterLine: this.lines };
  }

  next(): Buffer | undefined {
    const framer = this.framer;
    for (;;) {
      const doc = framer.take();
      if (doc !== undefined) {
        this.lineIndex = doc.line;
        return doc.bytes;
      }
      if (this.ended) return undefined;
      const block = this.reader.nextBlock();
      if (block === undefined) {
        if (!this.reader.done) return undefined;
        framer.end();
        this.ended = true;
        continue;
      }
      this.lines += framer.pushLines(block, this.lines, this.reader.blockCut);
    }
  }

  fill(): Promise<void> {
    return this.reader.fill();
  }
}
