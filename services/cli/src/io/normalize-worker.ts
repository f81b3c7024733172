/**
 * A normalize worker thread (`--threads`): lines in, normalized events out as Avro bytes, as the
 * normalizer service writes them to Kafka. One NormalizeProcessor with every input's binding; a file
 * whose format keeps stream state (a Zeek TSV header) sends all its lines here, in order.
 *
 * The thread that merges and detects decodes the bytes (`normalize-workers.ts`): an Avro decode costs
 * about a third of the JSON.parse and mapping it replaces there, and an event object cannot cross a
 * thread any cheaper (a structured clone costs more than the parse).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { formatRegistry } from '@sequor/formats';
import type { NormalizeCounters } from '@sequor/pipeline';
import { createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import type { LineBatch, NormalizedBatch, NormalizeWorkerData, WorkerReply } from './normalize-protocol.js';
import { WORKER_FAULT_VARIABLE } from './normalize-protocol.js';

const data = workerData as NormalizeWorkerData;
const port = parentPort;
if (port === null) throw new Error('normalize-worker runs as a worker thread');

const normalize = createNormalizeProcessor({
  bindings: data.bindings.map((b) => {
    const format = formatRegistry.get(b.format);
    if (format === undefined) throw new Error(`no format ${b.format}`);
    return { topic: b.topic, format };
  }),
  encoder: singleObjectEventEncoder(),
});
// A test hook: a worker that dies or throws, to prove the command then fails at once instead of hanging.
const fault = process.env[WORKER_FAULT_VARIABLE];

function normalizeBatch(batch: LineBatch): NormalizedBatch {
  if (fault === 'exit') process.exit(70);
  if (fault === 'throw') throw new Error('injected normalize worker fault');
  const topic = data.bindings[batch.source]!.topic;
  const lines = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const count = batch.offsets.length;
  const counts = new Int32Array(count);
  const keys: string[] = [];
  const values: Buffer[] = [];
  const deadLetters: NormalizedBatch['deadLetters'][number][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const end = batch.ends[i]!;
    const result = normalize.process({
      topic,
      partition: 0,
      offset: batch.offsets[i]!,
      value: lines.subarray(start, end),
    });
    start = end;
    const verdict = result.deadLetter;
    if (verdict !== undefined) {
      counts[i] = -1;
      deadLetters.push({
        reason: verdict.reason,
        errorType: verdict.errorType,
        message: verdict.message,
        format: verdict.format,
      });
      continue;
    }
    const outputs = result.outputs;
    counts[i] = outputs.length;
    for (let k = 0; k < outputs.length; k++) {
      const out = outputs[k]!;
      keys.push(out.key);
      values.push(out.value);
      bytes += out.value.length;
    }
  }
  // One buffer for every event of the batch, handed over (transferred), not copied.
  const packed = new Uint8Array(bytes);
  const ends = new Int32Array(values.length);
  let at = 0;
  for (let k = 0; k < values.length; k++) {
    packed.set(values[k]!, at);
    at += values[k]!.length;
    ends[k] = at;
  }
  const lineBuffer = batch.bytes.buffer as ArrayBuffer;
  return { id: batch.id, lineBuffer, counts, keys, values: packed, ends, deadLetters };
}

port.on('message', (message: LineBatch | { readonly kind: 'counters' }) => {
  let reply: WorkerReply;
  if ('kind' in message) {
    reply = { kind: 'counters', counters: normalize.counters() as NormalizeCounters };
    port.postMessage(reply);
    return;
  }
  const batch = normalizeBatch(message);
  reply = { kind: 'batch', batch };
  port.postMessage(reply, [
    batch.lineBuffer,
    batch.values.buffer,
    batch.counts.buffer,
    batch.ends.buffer,
  ] as ArrayBuffer[]);
});
