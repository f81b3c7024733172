// `npm run bench -- --quick` against the test broker, so the benchmark never rots: every path module runs
// at small sizes and yields rows with finite figures (and floors where a row has one), the JSON report
// and the SVG chart are written. Performance is not asserted: quick sizes mean nothing, and the machine
// is shared. The full run is `npm run bench` (README, Performance).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { BenchRow } from '../bench/harness.js';
import type { BenchReport } from '../bench/report.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = mkdtempSync(path.join(tmpdir(), 'sequor-bench-quick-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function bench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: inject('kafkaBrokers') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Tags balance and nest (the chart is hand-written, so check what a browser would choke on). */
function wellFormedSvg(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing === '/') continue;
    if (close === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0 && svg.trimStart().startsWith('<svg') && !/&(?!(lt|gt|amp|apos|quot);)/.test(svg);
}

describe('npm run bench -- --quick', () => {
  it('runs every path and writes a table, a JSON report and an SVG chart', { timeout: 600_000 }, async () => {
    const run = await bench(['--quick', `--out=${out}`]);
    expect(run.code, run.stderr.slice(-4_000)).toBe(0);
    expect(run.stdout).toMatch(/figure\s+floor\s+ratio\s+target\s+met/);

    const files = readdirSync(out).sort();
    const json = files.find((f) => /^\d{4}-\d{2}-\d{2}-quick\.json$/.test(f));
    const svgFile = files.find((f) => /^\d{4}-\d{2}-\d{2}-quick\.svg$/.test(f));
    expect(json, files.join(', ')).toBeDefined();
    expect(svgFile, files.join(', ')).toBeDefined();
    expect(files).not.toContain('latest.svg'); // a quick run never replaces the README's chart

    const report = JSON.parse(readFileSync(path.join(out, json!), 'utf8')) as BenchReport;
    expect(report.quick).toBe(true);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    const pathFiles = readdirSync(path.join(repoRoot, 'test/bench/paths')).filter(
      (f) => f.endsWith('.ts') && !f.startsWith('_'),
    );
    expect(report.paths.length).toBe(pathFiles.length);
    for (const p of report.paths) {
      expect(p.error, `path ${p.id}`).toBeUndefined();
      expect(p.skipped, `path ${p.id}`).toBeUndefined();
      expect(p.rows, `path ${p.id}`).toBeGreaterThan(0);
    }
    const ids = report.rows.map((r: BenchRow) => r.id);
    for (const expected of [
      'normalizer.in-process',
      'normalizer.broker',
      'detector.broker',
      'embedded.detect',
      'embedded.query',
      'latency.lateness-0',
      'latency.lateness-default',
    ])
      expect(ids).toContain(expected);
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of report.rows) {
      expect(Number.isFinite(row.figure), `${row.id} figure ${row.figure}`).toBe(true);
      if (row.floorName !== undefined)
        expect(Number.isFinite(row.floor) && row.floor! > 0, `${row.id} floor ${row.floor}`).toBe(true);
      expect(row.target, row.id).not.toBe('');
      expect(row.met, `${row.id}: quick sizes are not judged`).toBeUndefined();
    }

    const svg = readFileSync(path.join(out, svgFile!), 'utf8');
    expect(wellFormedSvg(svg)).toBe(true);
    for (const row of report.rows) expect(svg).toContain(`>${row.id}<`);
  });
});
