/**
 * The keyword scan alone: `SkipScanner.scanFolded` against `LiteralScanner.scanFolded` (its floor: what the
 * rule set runs today) and V8's `/lit1|lit2|…/i` `.test` per value (a reference), over every string value
 * of each event, interleaved rounds, best of the rounds, in events per CPU-second:
 *
 *   npx tsx --conditions=sequor-source shared/sigma/bench/skip-scanner.ts [rounds=7] [events=20000]
 *
 * Events: the `engine` bench path's generated ones (`winlog.event_data` values of those that have it)
 * and SigmaHQ's regression events (every value). Literal sets: `win_alert_mimikatz_keywords`'s 20, and
 * the keyword literals of every SigmaHQ keyword rule at once. Checks that both scanners find the same ids.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { scenarioEvents } from '../../../test/bench/paths/engine.js';
import type { SigmaRule } from '../src/index.js';
import { loadSigmaPath, readEvtxJson } from '../src/index.js';
import { LiteralScanner } from '../src/literals.js';
import { SkipScanner } from '../src/skip-scanner.js';
import { keywordLiterals } from '../test/helpers.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');
const rounds = Number(process.argv[2] ?? 7);
const size = Number(process.argv[3] ?? 20_000);

const text = (v: unknown): string | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : String(v);

const generated: string[][] = [];
for (const e of scenarioEvents(size)) {
  const data = e.winlog?.event_data;
  if (data == null) continue;
  generated.push(
    Object.values(data)
      .map(text)
      .filter((t): t is string => t !== null),
  );
}
const regression: string[][] = readdirSync(path.join(SIGMA, 'regression_data'), {
  recursive: true,
  withFileTypes: true,
})
  .filter((e) => e.isFile() && e.name.endsWith('.json'))
  .map((e) => path.join(e.parentPath, e.name))
  .sort()
  .flatMap((f) => readEvtxJson(readFileSync(f, 'utf8')))
  .map((e) => [...e.values()].map(text).filter((t): t is string => t !== null));

const rules = (await loadSigmaPath(path.join(SIGMA, 'rules'))).rules;
const mimikatz = keywordLiterals(
  rules.find((r) => r.file.endsWith('win_alert_mimikatz_keywords.yml')) as SigmaRule,
);
const allKeywords = [...new Set(rules.flatMap(keywordLiterals))];

let sink = 0;
/** Events per CPU-second of `run` over `events`, best of the rounds, contenders interleaved. */
function race(events: readonly string[][], runs: Record<string, () => number>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const run of Object.values(runs)) sink += run(); // warm-up
  const repeat = Math.max(1, Math.ceil(200_000 / events.length));
  for (let r = 0; r < rounds; r++)
    for (const [name, run] of Object.entries(runs)) {
      const started = process.cpuUsage();
      for (let k = 0; k < repeat; k++) sink += run();
      const used = process.cpuUsage(started);
      const rate = (events.length * repeat) / ((used.user + used.system) / 1e6);
      best[name] = Math.max(best[name] ?? 0, rate);
    }
  return best;
}

/** Reads each value's length and finds nothing: what the loop around any scan costs. */
const none = {
  scanFolded(value: string, seen: Int32Array, stamp: number, out: number[]): void {
    if (value.length < 0) out.push(seen[0] === stamp ? 0 : 1);
  },
};

function row(label: string, literals: readonly string[], events: readonly string[][]): void {
  const dfa = new LiteralScanner();
  const skip = new SkipScanner();
  for (const l of literals) if (dfa.add(l) !== skip.add(l)) throw new Error('ids differ');
  dfa.build();
  skip.build();
  const escaped = literals.map((l) => l.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const regex = new RegExp(escaped.join('|'), 'i');
  // One function literal per scanner kind: each call site stays monomorphic, as in the rule set.
  const seenDfa = new Int32Array(dfa.size);
  const seenSkip = new Int32Array(skip.size);
  const out: number[] = [];
  let stamp = 0;
  const runs = {
    dfa: () => {
      let found = 0;
      for (let e = 0; e < events.length; e++) {
        const values = events[e] as string[];
        out.length = 0;
        stamp++;
        for (let i = 0; i < values.length; i++) dfa.scanFolded(values[i] as string, seenDfa, stamp, out);
        found += out.length;
      }
      return found;
    },
    skip: () => {
      let found = 0;
      for (let e = 0; e < events.length; e++) {
        const values = events[e] as string[];
        out.length = 0;
        stamp++;
        for (let i = 0; i < values.length; i++) skip.scanFolded(values[i] as string, seenSkip, stamp, out);
        found += out.length;
      }
      return found;
    },
    // The ceiling: the same loop with a scan that reads each value's length and nothing more (the
    // calls, the stamps, the values' cache lines every scan pays).
    none: () => {
      let found = 0;
      for (let e = 0; e < events.length; e++) {
        const values = events[e] as string[];
        out.length = 0;
        stamp++;
        for (let i = 0; i < values.length; i++) none.scanFolded(values[i] as string, seenSkip, stamp, out);
        found += out.length;
      }
      return found;
    },
    regex: () => {
      let found = 0;
      for (let e = 0; e < events.length; e++) {
        const values = events[e] as string[];
        for (let i = 0; i < values.length; i++) if (regex.test(values[i] as string)) found++;
      }
      return found;
    },
  };
  // The same ids for every event, in the same order.
  const ids = (scanner: LiteralScanner | SkipScanner, seen: Int32Array): string =>
    events
      .map((values, e) => {
        const found: number[] = [];
        for (const v of values) scanner.scanFolded(v, seen, -1 - e, found);
        return found.join(',');
      })
      .join(';');
  const same = ids(dfa, seenDfa) === ids(skip, seenSkip);
  const m = race(events, runs);
  const units = events.reduce((n, vs) => n + vs.reduce((k, v) => k + v.length, 0), 0) / events.length;
  const f = (x: number): string => x.toFixed(0).padStart(10);
  console.log(
    `${label} (${literals.length} literals, shortest ${Math.min(...literals.map((l) => l.length))}, ${skip.skips ? 'skips' : 'delegates'}; ${events.length} events, ${units.toFixed(0)} code units each)\n` +
      `  LiteralScanner (floor) ${f(m['dfa'] as number)} events/cpu-s\n` +
      `  SkipScanner            ${f(m['skip'] as number)} events/cpu-s   ${((m['skip'] as number) / (m['dfa'] as number)).toFixed(2)}× floor   same ids: ${same}\n` +
      `  /…|…/i .test per value ${f(m['regex'] as number)} events/cpu-s   ${((m['regex'] as number) / (m['dfa'] as number)).toFixed(2)}× floor\n` +
      `  (a scan of nothing)    ${f(m['none'] as number)} events/cpu-s   ${((m['none'] as number) / (m['dfa'] as number)).toFixed(2)}× floor: the ceiling`,
  );
}

console.log(`keyword scan, ${rounds} interleaved rounds, best of each`);
row('mimikatz keywords, generated events', mimikatz, generated);
// The first 256 events again and again: their values stay in L2, as a just-decoded event's do in the detector.
row('mimikatz keywords, 256 generated events (cache-resident)', mimikatz, generated.slice(0, 256));
row('mimikatz keywords, regression events', mimikatz, regression);
row('all keyword rules, generated events', allKeywords, generated);
row('all keyword rules, regression events', allKeywords, regression);
if (sink < 0) console.log(sink);
