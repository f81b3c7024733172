/**
 * Per-lookup cost of value lists against their size: a keyword list and a CIDR list at 10 entries and at
 * 1,000,000 / 100,000, each beside a floor measured in the same run (a 10-entry `Set.has` on the same
 * probes). The claim is the ratio, not the nanoseconds: cost independent of list size.
 * Run: npx tsx --conditions=sequor-source shared/rules/test/bench/value-lists.ts [lookups]
 */
import { parseValueList } from '../../src/value-lists.js';

const lookups = Number(process.argv[2] ?? 2_000_000);

function nsPerLookup(has: (value: unknown) => boolean, probes: readonly string[]): number {
  let hits = 0;
  // Warm up, then the best of 5 rounds (the machine is shared).
  for (let i = 0; i < lookups / 4; i++) if (has(probes[i % probes.length])) hits++;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lookups; i++) if (has(probes[i % probes.length])) hits++;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / lookups);
  }
  if (hits < 0) console.log(hits);
  return best;
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `svc_account_${i}`);
const probes = Array.from({ length: 4096 }, (_, i) => (i % 2 === 0 ? `svc_account_${i % 10}` : `User_${i}`));
const floorSet = new Set(names(10));
const floor = nsPerLookup((v) => typeof v === 'string' && floorSet.has(v.toLowerCase()), probes);
for (const size of [10, 1_000_000]) {
  const list = parseValueList('accounts', 'keyword', 'bench', names(size).join('\n'));
  const ns = nsPerLookup((v) => list.has(v), probes);
  console.log(
    `keyword list, ${size.toLocaleString('en')} entries: ${ns.toFixed(1)} ns/lookup (floor ${floor.toFixed(1)} ns, ratio ${(ns / floor).toFixed(2)})`,
  );
}

// CIDR: /24s, /16s and single addresses (3 prefix lengths), probes half inside.
const blocks = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => {
    const a = 10 + (i % 3);
    const b = (i >> 8) & 255;
    const c = i & 255;
    return i % 3 === 0
      ? `${a}.${b}.${c}.0/24`
      : i % 3 === 1
        ? `172.${(b % 16) + 16}.0.0/16`
        : `${a}.${b}.${c}.7`;
  });
const ipProbes = Array.from({ length: 4096 }, (_, i) =>
  i % 2 === 0 ? `10.0.${i % 200}.9` : `8.8.${i % 256}.8`,
);
const ipFloor = nsPerLookup((v) => typeof v === 'string' && floorSet.has(v), ipProbes);
for (const size of [10, 100_000]) {
  const list = parseValueList('nets', 'cidr', 'bench', blocks(size).join('\n'));
  const ns = nsPerLookup((v) => list.has(v), ipProbes);
  console.log(
    `cidr list, ${size.toLocaleString('en')} entries (3 prefix lengths): ${ns.toFixed(1)} ns/lookup (floor ${ipFloor.toFixed(1)} ns, ratio ${(ns / ipFloor).toFixed(2)})`,
  );
}
