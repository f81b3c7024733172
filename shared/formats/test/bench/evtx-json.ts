/**
 * In-process benchmark of `evtx-json`: SigmaHQ's regression events (Sysmon and Security, which
 * flat-windows also reads) replicated to N events with distinct record ids, decoded as
 * - flat-windows NDJSON of the same events (the floor: the flat Windows format we already had),
 * - evtx-json one per line, and pretty-printed records,
 * - a whole pretty-printed file framed into documents (JsonDocumentFramer) and decoded, beside the same
 *   events one per line split at newlines and decoded (the framing's floor: what a line format costs).
 * Each figure is events per CPU-second, the best of interleaved rounds, printed beside its floor.
 * Run from the repo root: npx tsx --conditions=sequor-source shared/formats/test/bench/evtx-json.ts [N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { frameJsonDocuments, getFormat, JsonDocumentFramer } from '../../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const REGRESSION = path.resolve(repoRoot, '../shared/sigma/regression_data');
const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = 5;
const origin = { topic: 'bench', partition: 0, offset: 0 };

type Doc = { Event: { System: Record<string, unknown>; EventData?: Record<string, unknown> } };
const base: Doc[] = readdirSync(REGRESSION, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile() && e.name.endsWith('.json'))
  .flatMap((e) =>
    frameJsonDocuments(readFileSync(path.join(e.parentPath, e.name))).map(
      (d) => JSON.parse(d.bytes.toString('utf8')) as Doc,
    ),
  )
  .filter((d) =>
    ['Security', 'Microsoft-Windows-Sysmon/Operational'].includes(d.Event.System['Channel'] as string),
  );

const docs: Doc[] = [];
for (let i = 0; i < N; i++) {
  const d = structuredClone(base[i % base.length] as Doc);
  d.Event.System['EventRecordID'] = 1_000_000 + i;
  docs.push(d);
}
const flat = docs.map((d) =>
  Buffer.from(
    JSON.stringify({
      ...d.Event.EventData,
      EventID: d.Event.System['EventID'],
      Channel: d.Event.System['Channel'],
      Hostname: d.Event.System['Computer'],
      EventRecordID: d.Event.System['EventRecordID'],
      '@timestamp': (d.Event.System['TimeCreated'] as { '#attributes': { SystemTime: string } })[
        '#attributes'
      ].SystemTime,
    }),
  ),
);
const compact = docs.map((d) => Buffer.from(JSON.stringify(d)));
const pretty = docs.map((d) => Buffer.from(JSON.stringify(d, null, 2)));
const prettyFile = Buffer.from(pretty.map((b) => b.toString('utf8')).join('\n'));
const linesFile = Buffer.from(compact.map((b) => b.toString('utf8')).join('\n'));

function decodeAll(format: string, records: readonly Uint8Array[]): number {
  const decoder = getFormat(format).createDecoder();
  let events = 0;
  for (const r of records) events += decoder.decode(r, origin).length;
  return events;
}

/** Lines of `file` split at newlines (what LineReader does), each decoded: a line format's cost. */
function splitLinesAndDecode(file: Buffer): number {
  const decoder = getFormat('evtx-json').createDecoder();
  let events = 0;
  let start = 0;
  for (;;) {
    const end = file.indexOf(0x0a, start);
    events += decoder.decode(file.subarray(start, end < 0 ? file.length : end), origin).length;
    if (end < 0) return events;
    start = end + 1;
  }
}

/** `file` framed into documents from 1 MiB chunks cut at their last newline, as `sequor detect` reads it. */
function frameAndDecode(file: Buffer): number {
  const decoder = getFormat('evtx-json').createDecoder();
  const framer = new JsonDocumentFramer(1 << 20);
  let events = 0;
  let start = 0;
  let line = 0;
  const drain = (): void => {
    for (let d = framer.take(); d !== undefined; d = framer.take())
      events += decoder.decode(d.bytes, origin).length;
  };
  while (start < file.length) {
    let end = Math.min(file.length, start + (1 << 20));
    if (end < file.length) end = file.lastIndexOf(0x0a, end - 1);
    line += framer.pushLines(file.subarray(start, end), line);
    drain();
    start = end + 1;
  }
  framer.end();
  drain();
  return events;
}

const cases: [string, () => number][] = [
  ['flat-windows NDJSON records (floor)', () => decodeAll('flat-windows', flat)],
  ['evtx-json records, one line each', () => decodeAll('evtx-json', compact)],
  ['evtx-json records, pretty-printed', () => decodeAll('evtx-json', pretty)],
  ['evtx-json one-per-line file, split at newlines (framing floor)', () => splitLinesAndDecode(linesFile)],
  ['evtx-json pretty file, framed into documents', () => frameAndDecode(prettyFile)],
];

const best = cases.map(() => Infinity);
for (let round = 0; round < ROUNDS; round++) {
  cases.forEach(([name, run], i) => {
    const cpu = process.cpuUsage();
    const events = run();
    const used = process.cpuUsage(cpu);
    if (events !== N) throw new Error(`${name}: ${events} events, expected ${N}`);
    best[i] = Math.min(best[i] as number, (used.user + used.system) / 1e6);
  });
}
const rate = (i: number): number => N / (best[i] as number);
console.log(
  `evtx-json bench: ${N} events (${base.length} SigmaHQ regression events replicated), best of ${ROUNDS} interleaved rounds, CPU time`,
);
console.log(
  `  pretty file ${(prettyFile.length / 1e6).toFixed(1)} MB, one-per-line file ${(linesFile.length / 1e6).toFixed(1)} MB`,
);
cases.forEach(([name], i) => {
  const floor = i >= 4 ? 3 : 0;
  console.log(
    `  ${name.padEnd(64)} ${Math.round(rate(i)).toLocaleString('en').padStart(9)} events/cpu-s` +
      (i === floor
        ? ''
        : `   ${(rate(i) / rate(floor)).toFixed(2)} x floor (${Math.round(rate(floor)).toLocaleString('en')})`),
  );
});
