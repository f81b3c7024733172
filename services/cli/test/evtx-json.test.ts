/**
 * The evtx crate's JSON as an input of `detect` and `query`: pretty-printed documents (SigmaHQ's
 * regression data, read in place) and one per line, sniffed per file; bad documents dead-lettered with
 * the line they start on while the rest of the file is read.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameJsonDocuments } from '@sequor/formats';
import { JsonDocumentReader } from '../src/io/documents.js';
import type { ByteStream } from '../src/io/lines.js';
import { LineReader } from '../src/io/lines.js';
import { assertBuilt, ndjson, repoRoot, sequor } from './support.js';

const REGRESSION = path.resolve(repoRoot, '../shared/sigma/regression_data');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

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

async function readAll(reader: JsonDocumentReader): Promise<[number, string][]> {
  const out: [number, string][] = [];
  while (!reader.done) {
    const doc = reader.next();
    if (doc === undefined) {
      await reader.fill();
      continue;
    }
    out.push([reader.lineIndex, doc.toString()]);
  }
  return out;
}

describe('JsonDocumentReader', () => {
  it('gives each document with the line it starts on, across chunk boundaries; an overlong line costs its document only', async () => {
    const text =
      'Record 1\n{\n  "a": "}{",\n  "b": [1,\n    2]\n}\n\n{"c": 1}\n{\n  "x": "' +
      'y'.repeat(50) +
      '"\n}\n{"d": 2}';
    const chunks = [];
    for (let i = 0; i < text.length; i += 7) chunks.push(text.slice(i, i + 7));
    const docs = await readAll(new JsonDocumentReader(new LineReader(stream(chunks), 40), 40));
    expect(docs.map(([line]) => line)).toEqual([1, 7, 8, 11]);
    expect(JSON.parse(docs[0]?.[1] ?? '')).toEqual({ a: '}{', b: [1, 2] });
    expect(docs[2]?.[1].length).toBe(41);
    expect(docs[3]?.[1]).toBe('{"d": 2}');
  });
});

describe('JsonDocumentReader over real files', () => {
  it('frames every regression file as a whole text does, whatever the chunk size', async () => {
    const text = jsonFiles(REGRESSION)
      .slice(0, 40)
      .map((f) => readFileSync(f, 'utf8'))
      .join('Record 5\r\n');
    const whole = frameJsonDocuments(text).map((d) => [d.line, d.bytes.toString('utf8')]);
    expect(whole.length).toBeGreaterThan(40);
    for (const size of [1, 13, 4096, 1 << 20]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const reader = new JsonDocumentReader(new LineReader(stream(chunks), 1 << 20), 1 << 20);
      expect(await readAll(reader), `chunks of ${size}`).toEqual(whole);
      expect(reader.linesRead).toBe(text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    }
  });
});

describe('sequor detect / query on evtx JSON', () => {
  let tmp: string;
  const files = jsonFiles(REGRESSION);
  const sample = files.find((f) => f.includes('proc_creation_win_sc_stop_service')) as string;

  beforeAll(() => {
    assertBuilt();
    tmp = mkdtempSync(path.join(tmpdir(), 'sequor-cli-evtx-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads every SigmaHQ regression file with the built-in rules: every document an event, no dead letter, same with threads', async () => {
    const documents = files
      .map(
        (f) =>
          readFileSync(f, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('{')).length,
      )
      .reduce((a, b) => a + b, 0);
    expect(files.length).toBe(162);
    const one = await sequor(['detect', ...files]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain(`sequor detect: ${documents} events from ${files.length} inputs`);
    expect(one.stderr).toContain('dead letters: 0');
    const two = await sequor(['detect', '--threads', '2', ...files]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stderr).toContain(`sequor detect: ${documents} events`);
  }, 120_000);

  it('the summary counts a pretty-printed file in lines, whatever the threads', async () => {
    const lines = readFileSync(sample, 'utf8').split('\n').length - 1;
    for (const threads of ['1', '2']) {
      const out = path.join(tmp, `summary-${threads}.json`);
      const r = await sequor(['detect', '--threads', threads, '--summary-json', out, sample]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(out, 'utf8')) as { lines: number; inputs: { lines: number }[] };
      expect(summary.lines).toBe(lines);
      expect(summary.inputs[0]?.lines).toBe(lines);
    }
  }, 60_000);

  it('one document per line (evtx_dump -o jsonl) reads the same', async () => {
    const pretty = readFileSync(sample, 'utf8');
    const docs = pretty.split(/\n(?=\{)/).map((d) => JSON.stringify(JSON.parse(d)));
    const jsonl = path.join(tmp, 'sample.jsonl');
    writeFileSync(jsonl, `${docs.join('\n')}\n`);
    const query = 'process where process.name != null';
    const fromPretty = await sequor(['query', query, sample]);
    const fromLines = await sequor(['query', query, jsonl]);
    expect(fromPretty.code, fromPretty.stderr).toBe(0);
    expect(fromLines.code, fromLines.stderr).toBe(0);
    const events = ndjson<{ event: { id: string }; process: { name: string } }>(fromPretty.stdout);
    expect(events.length).toBe(docs.length);
    expect(ndjson<{ event: { id: string } }>(fromLines.stdout).map((e) => e.event.id)).toEqual(
      events.map((e) => e.event.id),
    );
  }, 60_000);

  it('bad documents (truncated, not an object, a 10 MB string, deeply nested) are dead letters at their line; the rest is read', async () => {
    const doc = JSON.parse(readFileSync(sample, 'utf8').split(/\n(?=\{)/)[0] as string) as {
      Event: { EventData: Record<string, unknown> };
    };
    const pretty = JSON.stringify(doc, null, 2);
    const big = structuredClone(doc);
    big.Event.EventData['CommandLine'] = 'A'.repeat(10 << 20);
    // An event whose data holds a value nested 100,000 deep: an event (nothing reads that value), no crash.
    const nested = pretty.replace(
      '"EventData": {',
      `"EventData": {"Deep": ${'['.repeat(100_000)}${']'.repeat(100_000)},`,
    );
    const parts = [
      pretty.split('\n').slice(0, 20).join('\n'), // truncated
      pretty,
      '[1, 2]',
      JSON.stringify(big, null, 2),
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      nested,
      pretty,
    ];
    const starts: number[] = [];
    let line = 1;
    for (const p of parts) {
      starts.push(line);
      line += p.split('\n').length;
    }
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, `${parts.join('\n')}\n`);
    const r = await sequor(['detect', bad]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('sequor detect: 3 events from 1 input');
    expect(r.stderr).toContain('dead letters: 4 (malformed 3, too-large 1)');
    expect(r.stderr).toContain(`bad.json:${starts[0]}: malformed: not JSON`);
    expect(r.stderr).toContain(`bad.json:${starts[2]}: malformed: a record must be a JSON object`);
    expect(r.stderr).toContain(`bad.json:${starts[3]}: too-large`);
    expect(r.stderr).toContain(`bad.json:${starts[4]}: malformed: a record must be a JSON object`);
  }, 60_000);
});
