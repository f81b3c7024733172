/**
 * Memory path (issue 12, target 6): one detector instance's per-partition processor (the four built-in
 * rules, compiled from their rule files) holding 10 k, 100 k and 1 M open two-step sequences (the
 * remote-SAM rule's first step, one per host and user), each holding its event as the detector decodes
 * it (the Avro reader schema projected on the fields the rules read, `eventFieldsRead`).
 *
 * Each size runs in a child process of its own, so its RSS is its own: heap per open partial with the
 * event it holds (figure) against the same events held in a plain array (floor: what the events alone
 * take), the process's RSS, and the heap once the watermark has passed every partial's maxspan (flat:
 * back to where it was before the partials).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventFieldsRead } from '@sequor/detector';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec, createProjectedEventCodec } from '@sequor/model';
import { createDetectionProcessor } from '@sequor/pipeline';
import { applyV8Flags } from '@sequor/service';
import type { BenchContext, BenchRow } from '../harness.js';
import { builtinRules, logonEvent, quietEvent } from './engine.js';

export const id = 'memory';

const CHILD_FLAG = '--sequor-memory-child';
const MAX_BYTES_PER_SEQUENCE = 512;
const MINUTE = 60_000;
const LATENESS_MS = 5_000;
const T0 = Date.UTC(2024, 2, 4, 8, 0, 0);

interface ChildResult {
  readonly open: number;
  readonly heapBefore: number;
  readonly heapOpen: number;
  readonly heapEvicted: number;
  readonly rssBefore: number;
  readonly rssOpen: number;
  readonly rssEvicted: number;
  readonly eventBytes: number;
  readonly encodedBytes: number;
  readonly evictedByWindow: number;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** One size, in this (child) process: prints a ChildResult as JSON on stdout. */
async function measure(size: number): Promise<ChildResult> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const rules = await builtinRules();
  const fullCodec = createEventCodec();
  const projected = createProjectedEventCodec(eventFieldsRead(rules));
  // As the detector receives it: encoded with the full schema, decoded into the projection.
  let encodedBytes = 0;
  const asDecoded = (event: SequorEvent): SequorEvent => {
    const bytes = fullCodec.encodeSingleObject(event);
    encodedBytes = bytes.length;
    return projected.decode(bytes);
  };
  const processor = createDetectionProcessor({
    rules,
    allowedLatenessMs: LATENESS_MS,
    // Bounds lifted: this measures what state costs, not where the bounds cut it.
    maxOpenPartials: 2 * size + 1_000,
    maxStateBytes: Number.POSITIVE_INFINITY,
    maxBufferedBytes: Number.POSITIVE_INFINITY,
    clock: () => 0,
    onAlert: () => undefined,
  });
  const heapBefore = heapAfterGc(gc);
  const rssBefore = process.memoryUsage().rss;
  for (let key = 0; key < size; key++) {
    const event = asDecoded(logonEvent(key, T0 + Math.floor((key * 10_000) / size), key));
    processor.push(event, Number.NaN, encodedBytes);
  }
  // Past the grace: the reorder stage releases every logon to the rules (they open their sequences).
  processor.push(asDecoded(quietEvent(size, T0 + 10_000 + LATENESS_MS + 1)), Number.NaN, encodedBytes);
  const open = processor.stats().openPartials;
  const heapOpen = heapAfterGc(gc);
  const rssOpen = process.memoryUsage().rss;
  // Past maxspan + grace: the watermark evicts every sequence.
  processor.push(asDecoded(quietEvent(size + 1, T0 + 10_000 + MINUTE + 2 * LATENESS_MS + 2)));
  const evictedByWindow = processor.stats().evictions;
  const heapEvicted = heapAfterGc(gc);
  const rssEvicted = process.memoryUsage().rss;
  processor.close();

  // The floor: the same decoded events, held in an array.
  const before = heapAfterGc(gc);
  const held: SequorEvent[] = new Array<SequorEvent>(size);
  for (let key = 0; key < size; key++)
    held[key] = asDecoded(logonEvent(key, T0 + Math.floor((key * 10_000) / size), key));
  const eventBytes = (heapAfterGc(gc) - before) / size;
  if (held.length !== size) throw new Error('unreachable'); // keeps `held` alive until measured

  return {
    open,
    heapBefore,
    heapOpen,
    heapEvicted,
    rssBefore,
    rssOpen,
    rssEvicted,
    eventBytes,
    encodedBytes,
    evictedByWindow,
  };
}

function runChild(size: number): Promise<ChildResult> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, file, CHILD_FLAG, String(size)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`memory child for ${size} open keys exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

export async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const sizes = ctx.quick ? [10_000] : [10_000, 100_000, 1_000_000];
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    ctx.log(`${size.toLocaleString('en-US')} open sequences, in a child process`);
    const result = await runChild(size);
    const perPartial = (result.heapOpen - result.heapBefore) / result.open;
    const label = size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`;
    // Flat: once the watermark has evicted them, the heap is back where it was, within 1 % of what the
    // partials took or 2 MiB (fixed costs: compiled code, the codec's caches, the maps' smallest tables).
    const leftover = (result.heapEvicted - result.heapBefore) / result.open;
    const flat =
      result.heapEvicted - result.heapBefore <=
      Math.max(2 * 2 ** 20, 0.01 * (result.heapOpen - result.heapBefore));
    rows.push({
      id: `memory.partial-${label}`,
      path: `detector processor, bytes per open 2-step sequence with the event it holds, ${label} open`,
      figure: Math.round(perPartial),
      unit: 'B',
      floorName: 'the same decoded (projected) event held in an array',
      floor: Math.round(result.eventBytes),
      ratio: perPartial / result.eventBytes,
      target: `<= ${MAX_BYTES_PER_SEQUENCE} B`,
      met: ctx.quick ? undefined : perPartial <= MAX_BYTES_PER_SEQUENCE,
      detail: {
        openPartials: result.open,
        stateBytesPerPartial: Math.round(perPartial - result.eventBytes),
        encodedEventBytes: result.encodedBytes,
        heapLeftAfterEvictionPerPartial: Math.round(leftover),
        evicted: result.evictedByWindow,
      },
    });
    rows.push({
      id: `memory.rss-${label}`,
      path: `one detector instance (4 built-in rules), RSS with ${label} open sequences`,
      figure: mib(result.rssOpen),
      unit: 'MiB',
      floorName: 'the same process before the partials',
      floor: mib(result.rssBefore),
      ratio: result.rssOpen / result.rssBefore,
      target: 'reported; heap flat once the watermark evicts',
      met: ctx.quick ? undefined : flat,
      detail: {
        rssAfterEvictionMiB: mib(result.rssEvicted),
        heapBeforeMiB: mib(result.heapBefore),
        heapOpenMiB: mib(result.heapOpen),
        heapAfterEvictionMiB: mib(result.heapEvicted),
      },
    });
  }
  return rows;
}

if (process.argv[2] === CHILD_FLAG) {
  // A process of its own: it runs with the services' V8 settings like the harness that started it.
  applyV8Flags();
  const result = await measure(Number(process.argv[3]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
