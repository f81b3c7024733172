/**
 * Parse/print/check throughput over the seed queries and generated ASTs. Parsing happens once per rule load,
 * so this guards against pathological slowness (a rule set of thousands loads in milliseconds), not per-event cost.
 * Run: npx tsx --conditions=sequor-source shared/eql/test/bench/parse.ts
 */
import type { FieldCatalog, FieldInfo } from '@sequor/model';
import { checkQuery, parse, print } from '@sequor/eql';
import { Arbitrary, prng } from '../arbitrary.js';
import { SEED_QUERIES } from '../seeds.js';

const generated = Array.from({ length: 200 }, (_, i) => print(new Arbitrary(prng(i + 1)).query()));
const catalog: FieldCatalog = (() => {
  const infos: FieldInfo[] = ['host.id', 'user.id', 'process.name', 'registry.path', 'file.size'].map(
    (name) => ({ name, storagePath: name.split('.'), type: 'string' }),
  );
  return { lookup: (p) => infos.find((f) => f.name === p.join('.')), fields: () => infos };
})();

function measure(label: string, inputs: readonly string[], run: (s: string) => unknown, minMs = 1000): void {
  for (const s of inputs) run(s); // warm-up
  const chars = inputs.reduce((n, s) => n + s.length, 0);
  const perCall: number[] = [];
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    for (const s of inputs) {
      const t0 = performance.now();
      run(s);
      perCall.push(performance.now() - t0);
      calls++;
    }
  }
  const elapsed = performance.now() - start;
  perCall.sort((a, b) => a - b);
  const pct = (q: number) =>
    (perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))]! * 1000).toFixed(1);
  const mbps = ((chars * (calls / inputs.length)) / 1e6 / (elapsed / 1000)).toFixed(1);
  console.log(
    `${label.padEnd(28)} ${Math.round(calls / (elapsed / 1000)).toLocaleString('en')} queries/s  ${mbps} MB/s  p50 ${pct(0.5)} µs  p99 ${pct(0.99)} µs`,
  );
}

measure('parse (4 seed queries)', SEED_QUERIES, parse);
measure('parse (200 generated)', generated, parse);
measure('parse+print (generated)', generated, (s) => print(parse(s)));
const parsedSeeds = SEED_QUERIES.map(parse);
measure('checkQuery (seeds)', SEED_QUERIES, (s) =>
  checkQuery(parsedSeeds[SEED_QUERIES.indexOf(s)]!, catalog),
);
const mem = process.memoryUsage();
console.log(`heapUsed ${(mem.heapUsed / 1e6).toFixed(1)} MB, rss ${(mem.rss / 1e6).toFixed(1)} MB`);
