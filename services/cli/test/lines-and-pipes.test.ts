/**
 * In-process pieces of the CLI: the line reader (chunk boundaries, CRLF, overlong lines, a last line
 * without newline, format detection's look-ahead) and `| head` / `| tail` chains.
 */
import { describe, expect, it } from 'vitest';
import type { Pipe } from '@sequor/eql';
import { Subject } from 'rxjs';
import { queryPipes } from '../src/commands/query.js';
import type { ByteStream } from '../src/io/lines.js';
import { LineReader } from '../src/io/lines.js';

function stream(chunks: readonly string[]): ByteStream {
  const buffers = chunks.map((c) => Buffer.from(c));
  let i = 0;
  return {
    chunks: {
      next: () =>
        Promise.resolve(
          i < buffers.length
            ? { done: false, value: buffers[i++] as Buffer }
            : { done: true, value: undefined },
        ),
    },
    bytesRead: () => 0,
    gzip: false,
    close: () => undefined,
  };
}

async function readAll(reader: LineReader): Promise<[number, string][]> {
  const out: [number, string][] = [];
  while (!reader.done) {
    const line = reader.next();
    if (line === undefined) {
      await reader.fill();
      continue;
    }
    out.push([reader.lineIndex, line.toString()]);
  }
  return out;
}

describe('LineReader', () => {
  it('splits across chunk boundaries, strips CRLF, keeps empty lines in the numbering, returns a last line without newline', async () => {
    const reader = new LineReader(stream(['ab', 'c\r\nde', 'f\n\n', 'g\r\n', 'last']), 100);
    expect(await readAll(reader)).toEqual([
      [0, 'abc'],
      [1, 'def'],
      [2, ''],
      [3, 'g'],
      [4, 'last'],
    ]);
  });

  it('cuts an overlong line to limit + 1 bytes (so the normalizer refuses it as too large) and goes on', async () => {
    const reader = new LineReader(stream(['x'.repeat(7), 'y'.repeat(7), 'z\nok\n']), 10);
    const lines = await readAll(reader);
    expect(lines.map(([i, l]) => [i, l.length])).toEqual([
      [0, 11],
      [1, 2],
    ]);
    expect(lines[1]?.[1]).toBe('ok');
  });

  it('looks ahead up to N data lines for format detection without consuming anything', async () => {
    const reader = new LineReader(
      stream(['#separator \\x09\n#path\tconn\n', '#fields\tts\n1.0\tx\n2.0\ty\n3.0\tz\n']),
      100,
    );
    expect(await reader.head(2)).toEqual([
      '#separator \\x09',
      '#path\tconn',
      '#fields\tts',
      '1.0\tx',
      '2.0\ty',
    ]);
    expect((await readAll(reader)).map(([, l]) => l)).toEqual([
      '#separator \\x09',
      '#path\tconn',
      '#fields\tts',
      '1.0\tx',
      '2.0\ty',
      '3.0\tz',
    ]);
  });

  it('looks past any number of blank lines, and gives them back in the numbering', async () => {
    const reader = new LineReader(stream(['\n'.repeat(100_000), '\r\n  \n{"a":1}\n']), 100);
    expect(await reader.head(16)).toEqual(['  ', '{"a":1}']);
    const lines = await readAll(reader);
    expect(lines).toHaveLength(100_003);
    expect(lines.at(-1)).toEqual([100_002, '{"a":1}']);
  });

  it('ends an input at a read error and keeps the lines before it, the failure saying after which line', async () => {
    const chunks = [Buffer.from('one\ntwo\nthr')];
    let i = 0;
    const failing: ByteStream = {
      chunks: {
        next: () =>
          i < chunks.length
            ? Promise.resolve({ done: false, value: chunks[i++] as Buffer })
            : Promise.reject(new Error('unexpected end of file')),
      },
      bytesRead: () => 0,
      gzip: true,
      close: () => undefined,
    };
    const reader = new LineReader(failing, 100);
    expect((await readAll(reader)).map(([, l]) => l)).toEqual(['one', 'two', 'thr']);
    expect(reader.failure?.afterLine).toBe(2);
  });
});

const span = { start: 0, end: 0, line: 1, column: 1 };
const head = (count: number): Pipe => ({ kind: 'head', count, span });
const tail = (count: number): Pipe => ({ kind: 'tail', count, span });

function through(
  pipes: readonly Pipe[],
  values: readonly number[],
): { out: number[]; stoppedAfter: number | null } {
  const out: number[] = [];
  const input = new Subject<number>();
  input.pipe(queryPipes<number>(pipes)).subscribe((v) => out.push(v));
  let stoppedAfter: number | null = null;
  for (const v of values) {
    input.next(v);
    if (!input.observed) {
      stoppedAfter = v;
      break;
    }
  }
  input.complete();
  return { out, stoppedAfter };
}

describe('queryPipes (| head, | tail as take, takeLast)', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('head N passes the first N and stops the input right after the Nth', () => {
    expect(through([head(3)], ten)).toEqual({ out: [1, 2, 3], stoppedAfter: 3 });
  });

  it('tail N releases the last N at the end, and never stops the input', () => {
    expect(through([tail(2)], ten)).toEqual({ out: [9, 10], stoppedAfter: null });
  });

  it('applies pipes in order: head then tail, tail then head', () => {
    expect(through([head(5), tail(2)], ten)).toEqual({ out: [4, 5], stoppedAfter: 5 });
    expect(through([tail(5), head(2)], ten)).toEqual({ out: [6, 7], stoppedAfter: null });
    expect(through([], [1, 2])).toEqual({ out: [1, 2], stoppedAfter: null });
  });
});
