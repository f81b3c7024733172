/**
 * Records of a file framed as JSON documents (`SourceFormat.framing === 'json-documents'`: the evtx
 * crate's pretty-printed output), read from its lines through the formats' `JsonDocumentFramer`, which
 * says where each document ends. Only such files pay for the framing: line formats read `LineReader`'s
 * lines directly.
 */
import { JsonDocumentFramer } from '@sequor/formats';
import type { LineReader, ReadFailure, RecordReader } from './lines.js';

export class JsonDocumentReader implements RecordReader {
  private readonly framer: JsonDocumentFramer;
  private ended = false;
  lineIndex = -1;

  constructor(
    private readonly lines: LineReader,
    /** The reader cuts lines longer than this; a document is kept to this many bytes + 1, as a line is. */
    private readonly maxBytes: number,
  ) {
    this.framer = new JsonDocumentFramer(maxBytes);
  }

  get done(): boolean {
    return this.ended && this.lines.done;
  }

  get linesRead(): number {
    return this.lines.linesRead;
  }

  get failure(): ReadFailure | null {
    return this.lines.failure;
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
      const line = this.lines.next();
      if (line === undefined) {
        if (!this.lines.done) return undefined;
        framer.end();
        this.ended = true;
        continue;
      }
      framer.push(line, this.lines.lineIndex, line.length > this.maxBytes);
    }
  }

  fill(): Promise<void> {
    return this.lines.fill();
  }
}
