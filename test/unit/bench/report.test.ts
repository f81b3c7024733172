// The bench report's pure parts: where a row's bar ends and its target mark sits on the chart (read from
// the target text), the ratio and table formatting, and an SVG that escapes what rows say.
import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../../bench/harness.js';
import type { BenchReport } from '../../bench/report.js';
import {
  chartPoint,
  formatRatio,
  formatTable,
  markdownSummary,
  renderSvg,
  rowRatio,
  spliceBetweenMarkers,
} from '../../bench/report.js';

const row = (r: Partial<BenchRow>): BenchRow => ({
  id: 'x.y',
  path: 'a path',
  figure: 100,
  unit: 'events/s',
  target: '>= 50 % of floor',
  ...r,
});

describe('chartPoint', () => {
  it('plots the ratio to the floor and marks a percentage target', () => {
    expect(chartPoint(row({ floor: 400, target: '>= 50 % of floor' }))).toEqual({ value: 0.25, mark: 0.5 });
  });

  it('prefers the ratio a row reports over figure / floor', () => {
    expect(chartPoint(row({ floor: 400, ratio: 2 }))).toEqual({ value: 2, mark: 0.5 });
  });

  it('marks a times target and a faster-than target', () => {
    expect(chartPoint(row({ floor: 1, target: '>= 100x Python eql' })).mark).toBe(100);
    expect(chartPoint(row({ floor: 1, target: 'faster than the floor (> 100 % of floor)' })).mark).toBe(1);
  });

  it('plots absolute targets as headroom, larger is better either way', () => {
    expect(chartPoint(row({ figure: 2_000_000, target: '>= 1,000,000 events/s per core' }))).toEqual({
      value: 2,
      mark: 1,
    });
    expect(chartPoint(row({ figure: 500, unit: 'ms', target: 'p99 < 250 ms' }))).toEqual({
      value: 0.5,
      mark: 1,
    });
    expect(chartPoint(row({ figure: 256, unit: 'B', target: '<= 512 B' }))).toEqual({ value: 2, mark: 1 });
  });

  it('turns a smaller-is-better ratio target over, and prefers an absolute bound to the floor', () => {
    expect(chartPoint(row({ floor: 1, ratio: 2, target: '<= 1.5x floor' }))).toEqual({
      value: 0.5,
      mark: 1 / 1.5,
    });
    expect(chartPoint(row({ figure: 1_024, unit: 'B', floor: 900, target: '<= 512 B' }))).toEqual({
      value: 0.5,
      mark: 1,
    });
    expect(chartPoint(row({ floor: 100, target: 'reported; flat once evicted' }))).toEqual({ value: 1 });
  });

  it('has nothing to plot without a floor or a number in the target', () => {
    expect(chartPoint(row({ target: 'flat once the watermark evicts' }))).toEqual({});
  });
});

describe('formatting', () => {
  it('shows shares under 10x as percentages and larger ones as times', () => {
    expect(formatRatio(0.674)).toBe('67 %');
    expect(formatRatio(123.4)).toBe('123x');
    expect(formatRatio(undefined)).toBe('-');
    expect(rowRatio(row({ floor: 0 }))).toBeUndefined();
  });

  it('prints one line per row and its label, met as yes / NO / -', () => {
    const table = formatTable([
      row({ id: 'a.b', floor: 200, met: true }),
      row({ id: 'c.d', floor: 1_000, met: false }),
      row({ id: 'e.f' }),
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^row\s+figure\s+floor\s+ratio\s+target\s+met$/);
    expect(lines[2]).toMatch(/^a\.b\s+100 events\/s\s+200\s+50 %\s+>= 50 % of floor\s+yes$/);
    expect(lines[4]).toMatch(/\s10 %\s.*NO$/);
    expect(lines[6]).toMatch(/-\s+-\s+>= 50 % of floor\s+-$/);
  });
});

describe('renderSvg', () => {
  it('escapes what rows say and draws a bar and a target mark per plotted row', () => {
    const report: BenchReport = {
      date: '2026-01-02',
      startedAt: '2026-01-02T03:04:05.000Z',
      quick: false,
      machine: {
        cpus: 2,
        model: 'A <fast> CPU',
        node: 'v20.0.0',
        platform: 'linux',
        loadAverageStart: [1, 1, 1],
        loadAverageEnd: [2, 2, 2],
      },
      paths: [],
      rows: [
        row({ id: 'a&b', path: '"quoted" <path>', floor: 200, met: true }),
        row({ id: 'c', target: 'n/a' }),
      ],
    };
    const svg = renderSvg(report);
    expect(svg).toContain('>a&amp;b<');
    expect(svg).toContain('&quot;quoted&quot; &lt;path&gt;');
    expect(svg).toContain('A &lt;fast&gt; CPU');
    expect(svg).not.toMatch(/<path>|<fast>/);
    expect(svg.match(/fill="#2e7d32"/g)).toHaveLength(1);
    expect(svg.match(/stroke-width="2"/g)).toHaveLength(1);
  });
});

describe('the README table', () => {
  const report: BenchReport = {
    date: '2026-01-02',
    startedAt: '2026-01-02T03:04:05.000Z',
    quick: false,
    machine: {
      cpus: 2,
      model: 'CPU',
      node: 'v20.0.0',
      platform: 'linux',
      loadAverageStart: [1, 2, 3],
      loadAverageEnd: [1, 1, 1],
    },
    paths: [{ id: 'gone', rows: 0, wallMs: 1, cpuMs: 1, error: 'boom' }],
    rows: [row({ id: 'a.b', path: 'x | y', floor: 200, floorName: 'the floor', met: false })],
  };

  it('says when and where, one line per row with pipes escaped, and which paths failed', () => {
    const md = markdownSummary(report, 'bench/results/2026-01-02.json');
    expect(md).toContain('Measured 2026-01-02 on 2 × CPU, Node v20.0.0, load average 1.0 2.0 3.0');
    expect(md).toContain(
      '| `a.b` | x \\| y | 100 events/s | 200 (the floor) | 50 % | >= 50 % of floor | NO |',
    );
    expect(md).toContain('Path `gone`: failed.');
  });

  it('replaces only what lies between the markers, and nothing without them', () => {
    const text = 'before\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nafter';
    expect(spliceBetweenMarkers(text, 'new')).toBe(
      'before\n<!-- bench:begin -->\nnew\n<!-- bench:end -->\nafter',
    );
    expect(spliceBetweenMarkers('no markers', 'new')).toBeUndefined();
  });
});
