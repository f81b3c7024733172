/**
 * Arrival order: `outOfOrder` only permutes lines within a file inside its window, `late` adds events
 * that arrive far behind their host's newer events, and neither changes which events the alerts are.
 */
import { describe, expect, it } from 'vitest';
import type { GeneratedScenario, ScenarioOptions } from '@sequor/scenarios';
import { generateScenario } from '@sequor/scenarios';

const DATA_FILES = [
  'winlogbeat.ndjson',
  'endpoint.ndjson',
  'flat-windows.ndjson',
  'zeek/dce_rpc.log',
] as const;

interface Line {
  readonly text: string;
  readonly ts: number;
  /** The machine (or, for Zeek, the address pair) the line belongs to. */
  readonly source: string;
}

function lines(text: string): string[] {
  const out = text.split('\n');
  out.pop();
  return out;
}

/** Zeek's "seconds.micros" to epoch ms, in integers (no floating-point rounding at ms boundaries). */
function zeekMs(ts: string): number {
  const [sec, frac] = ts.split('.') as [string, string];
  return Number(sec) * 1000 + Math.floor(Number(frac.padEnd(6, '0')) / 1000);
}

function parse(file: string, text: string): Line | null {
  if (file === 'zeek/dce_rpc.log') {
    if (text.startsWith('#')) return null;
    const c = text.split('\t');
    return { text, ts: zeekMs(c[0] as string), source: `${c[2]}>${c[4]}` };
  }
  const o = JSON.parse(text) as { '@timestamp': string; host?: { id: string }; Hostname?: string };
  return { text, ts: Date.parse(o['@timestamp']), source: o.host?.id ?? o.Hostname ?? '?' };
}

function events(gen: GeneratedScenario, file: string): Line[] {
  return lines(gen.files.get(file) ?? '')
    .map((t) => parse(file, t))
    .filter((l): l is Line => l !== null);
}

/** Alerts as the text of their evidence lines: independent of where the lines ended up. */
function alertContents(gen: GeneratedScenario): string[] {
  const byFile = new Map([...gen.files].map(([p, t]) => [p, lines(t)]));
  return gen.groundTruth.alerts
    .map((a) => `${a.rule}|${a.evidence.map((e) => byFile.get(e.file)?.[e.line - 1]).join('|')}`)
    .sort();
}

const BASE: ScenarioOptions = { events: 12_000, seed: 31, hosts: 20, users: 60, scenarios: 2 };

describe('arrival order', { timeout: 120_000 }, () => {
  const ordered = generateScenario(BASE);
  const jittered = generateScenario({ ...BASE, outOfOrder: 5_000 });

  it('writes every file in event-time order by default', () => {
    for (const file of DATA_FILES) {
      const ts = events(ordered, file).map((l) => l.ts);
      expect(ts.length).toBeGreaterThan(0);
      expect(
        ts.findIndex((t, i) => i > 0 && t < (ts[i - 1] as number)),
        file,
      ).toBe(-1);
    }
  });

  it('out-of-order keeps the multiset of lines in every file', () => {
    for (const file of [...DATA_FILES, 'ground-truth.json']) {
      if (file === 'ground-truth.json') continue;
      expect(lines(jittered.files.get(file) ?? '').sort()).toEqual(
        lines(ordered.files.get(file) ?? '').sort(),
      );
    }
  });

  it('out-of-order really reorders, and never by more than the window', () => {
    let inversions = 0;
    for (const file of DATA_FILES) {
      let max = -Infinity;
      let worst = 0;
      for (const l of events(jittered, file)) {
        if (l.ts < max) inversions++;
        worst = Math.max(worst, max - l.ts);
        max = Math.max(max, l.ts);
      }
      expect(worst, file).toBeLessThanOrEqual(5_000);
    }
    expect(inversions).toBeGreaterThan(100);
  });

  it('out-of-order leaves the alerts the same events (only their line numbers move)', () => {
    expect(alertContents(jittered)).toEqual(alertContents(ordered));
    expect(jittered.groundTruth.near_misses.length).toBe(ordered.groundTruth.near_misses.length);
  });

  it('has no late events unless asked', () => {
    expect(ordered.groundTruth.counts.late).toBe(0);
  });

  it('counts exactly the late events: each arrives right after a line of its host that is lateByMs newer', () => {
    const lateBy = 90_000;
    const gen = generateScenario({ ...BASE, late: 0.03, lateByMs: lateBy, outOfOrder: 2_000 });
    let total = 0;
    for (const file of DATA_FILES) {
      const ls = events(gen, file);
      let late = 0;
      const newest = new Map<string, number>();
      ls.forEach((l, i) => {
        const prev = ls[i - 1];
        const behindOwnHost = (newest.get(l.source) ?? -Infinity) - l.ts;
        if (behindOwnHost >= lateBy) {
          late++;
          // The line just before it is its anchor: same machine, at least lateByMs newer.
          expect(prev?.source).toBe(l.source);
          expect((prev?.ts ?? 0) - l.ts).toBeGreaterThanOrEqual(lateBy);
        } else {
          // Every other line is at most the jitter window behind anything of its host.
          expect(behindOwnHost).toBeLessThanOrEqual(2_000);
        }
        newest.set(l.source, Math.max(newest.get(l.source) ?? -Infinity, l.ts));
      });
      expect(gen.groundTruth.files.find((f) => f.path === file)?.late, file).toBe(late);
      total += late;
    }
    expect(total).toBe(gen.groundTruth.counts.late);
    // About 3% of the noise after the first lateByMs (late events need an older time to land on).
    expect(total).toBeGreaterThan(gen.groundTruth.counts.noise_events * 0.01);
    expect(total).toBeLessThan(gen.groundTruth.counts.noise_events * 0.05);
  });
});
