import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScenarioOptions } from '@sequor/scenarios';
import { generateScenario, ScenarioStream, ScenarioStreamError, writeScenario } from '@sequor/scenarios';

const OPTIONS: ScenarioOptions = {
  events: 6_000,
  seed: 2024,
  outOfOrder: 3_000,
  late: 0.01,
  lateByMs: 60_000,
  zeekJson: true,
  hosts: 12,
  users: 30,
};

function digest(files: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of files) out[path] = createHash('sha256').update(text).digest('hex');
  return out;
}

describe('determinism', { timeout: 120_000 }, () => {
  it('gives byte-identical files and ground truth for the same options', () => {
    const a = generateScenario(OPTIONS);
    const b = generateScenario({ ...OPTIONS });
    expect([...a.files.keys()]).toEqual([
      'winlogbeat.ndjson',
      'endpoint.ndjson',
      'flat-windows.ndjson',
      'zeek/dce_rpc.log',
      'zeek/dce_rpc.json',
      'ground-truth.json',
    ]);
    expect(digest(a.files)).toEqual(digest(b.files));
  });

  it('gives different data for a different seed, and a string seed works like any other', () => {
    const a = digest(generateScenario(OPTIONS).files);
    const b = digest(generateScenario({ ...OPTIONS, seed: 2025 }).files);
    const c = digest(generateScenario({ ...OPTIONS, seed: 'demo' }).files);
    for (const path of ['winlogbeat.ndjson', 'endpoint.ndjson', 'flat-windows.ndjson', 'zeek/dce_rpc.log']) {
      expect(b[path]).not.toBe(a[path]);
      expect(c[path]).not.toBe(a[path]);
    }
    expect(digest(generateScenario({ ...OPTIONS, seed: 'demo' }).files)).toEqual(c);
  });

  it('writes to disk exactly what it generates in memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sequor-scenarios-'));
    try {
      const result = await writeScenario(dir, OPTIONS);
      const memory = generateScenario(OPTIONS);
      expect(result.files).toEqual([...memory.files.keys()]);
      const onDisk = new Map<string, string>();
      for (const path of result.files) onDisk.set(path, await readFile(join(dir, path), 'utf8'));
      expect(digest(onDisk)).toEqual(digest(memory.files));
      expect(result.groundTruth).toEqual(memory.groundTruth);
      expect((await readdir(dir)).sort()).toEqual([
        'endpoint.ndjson',
        'flat-windows.ndjson',
        'ground-truth.json',
        'winlogbeat.ndjson',
        'zeek',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('numbers each record by its line in its file, as ground truth does', () => {
    const run = new ScenarioStream({ events: 2_000, seed: 4, hosts: 6, users: 8, zeekJson: true });
    const seen = new Map<string, number>();
    const byRef = new Map<string, string>();
    for (const r of run.records()) {
      expect(r.lineNumber).toBe((seen.get(r.file) ?? 0) + 1);
      seen.set(r.file, r.lineNumber);
      byRef.set(`${r.file}:${r.lineNumber}`, r.line);
    }
    const gt = run.groundTruth();
    for (const f of gt.files) expect(seen.get(f.path)).toBe(f.lines);
    for (const a of gt.alerts)
      for (const e of a.evidence) expect(byRef.has(`${e.file}:${e.line}`)).toBe(true);
  });

  it('refuses ground truth before the lines are read, and a second read of the lines', () => {
    const run = new ScenarioStream({ events: 500, hosts: 4, users: 4 });
    expect(() => run.groundTruth()).toThrow(ScenarioStreamError);
    const it1 = run.records();
    it1.next();
    expect(() => run.groundTruth()).toThrow(ScenarioStreamError);
    for (const _ of it1);
    expect(run.groundTruth().counts.events).toBeGreaterThanOrEqual(500);
    expect(() => run.records().next()).toThrow(ScenarioStreamError);
  });
});
