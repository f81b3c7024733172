/**
 * The bench report, pure: the printed table, the JSON document and the SVG chart (hand-written, one
 * horizontal bar per row on a log scale, the target marked), all from the rows and the machine facts.
 */
import type { BenchRow } from './harness.js';

export interface MachineFacts {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  readonly platform: string;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
}

export interface PathOutcome {
  readonly id: string;
  readonly rows: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Set when the path threw or was skipped; its rows (if any) are still reported. */
  readonly error?: string;
  readonly skipped?: string;
}

export interface BenchReport {
  readonly date: string;
  readonly startedAt: string;
  readonly quick: boolean;
  readonly brokers?: string;
  readonly machine: MachineFacts;
  readonly paths: readonly PathOutcome[];
  readonly rows: readonly BenchRow[];
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const smallFormat = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/** 812,345 for large figures, 0.0123 / 12.3 for small ones. */
export function formatNumber(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return Math.abs(n) >= 100 ? numberFormat.format(n) : smallFormat.format(n);
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '-';
  return ratio >= 10 ? `${smallFormat.format(ratio)}x` : `${(ratio * 100).toFixed(0)} %`;
}

const metLabel = (met: boolean | undefined): string => (met === undefined ? '-' : met ? 'yes' : 'NO');

/** The ratio a row reports, or figure / floor when it gives only those. */
export function rowRatio(row: BenchRow): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  if (row.floor !== undefined && row.floor !== 0) return row.figure / row.floor;
  return undefined;
}

/** One aligned text table: id, figure, floor, ratio, target, met; the path label and floor name below each row. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['row', 'figure', 'floor', 'ratio', 'target', 'met'];
  const cells = rows.map((r) => [
    r.id,
    `${formatNumber(r.figure)} ${r.unit}`,
    r.floor === undefined ? '-' : formatNumber(r.floor),
    formatRatio(rowRatio(r)),
    r.target,
    metLabel(r.met),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => (i === 1 || i === 2 || i === 3 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, i) => {
    out.push(line(cells[i]!));
    out.push(`    ${r.path}${r.floorName === undefined ? '' : `; floor: ${r.floorName}`}`);
  });
  return out.join('\n');
}

/**
 * Where a row's bar ends and where its target mark sits, on one scale where larger is better:
 * rows with a floor plot their ratio to it and mark the target ratio ('>= 50 % of floor' → 0.5,
 * '>= 100x …' → 100, 'faster than …floor' → 1; '<= 1.5x floor' turned over: 1/ratio against 1/1.5);
 * rows with an absolute target ('>= 1,000,000 events/s', '<= 512 B', 'p99 < 250 ms') plot figure / target
 * (target / figure when smaller is better), marked at 1.
 */
export function chartPoint(row: BenchRow): { value?: number; mark?: number } {
  const ratio = rowRatio(row);
  const t = row.target;
  // '<= 1.5x floor', '<= 512 B', 'p99 < 250 ms': smaller is better, so the scale is turned over.
  const smallerIsBetter = /(^|\s)(<=|<|≤)\s*\d/.test(t);
  const oriented = (v: number): number => (smallerIsBetter ? 1 / v : v);
  if (ratio !== undefined && ratio > 0) {
    const percent = /(\d[\d,.]*)\s*%/.exec(t);
    if (percent) return { value: oriented(ratio), mark: oriented(parseNumber(percent[1]!) / 100) };
    const times = /(\d[\d,.]*)\s*[x×]/.exec(t);
    if (times) return { value: oriented(ratio), mark: oriented(parseNumber(times[1]!)) };
    if (/faster|above|beat/i.test(t)) return { value: ratio, mark: 1 };
  }
  const absolute = /(<=|>=|<|>|≤|≥)\s*(\d[\d,.]*)/.exec(t);
  if (absolute && row.figure > 0) {
    const bound = parseNumber(absolute[2]!);
    return { value: smallerIsBetter ? bound / row.figure : row.figure / bound, mark: 1 };
  }
  return ratio === undefined ? {} : { value: ratio };
}

const parseNumber = (s: string): number => Number(s.replace(/,/g, ''));

const escapeXml = (s: string): string =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

/** A horizontal bar per row on a log scale (decades), the target as a dark tick; green met, red missed, grey not judged. */
export function renderSvg(report: BenchReport): string {
  const rows = report.rows;
  const points = rows.map(chartPoint);
  const values = points
    .flatMap((p) => [p.value, p.mark])
    .filter((v): v is number => v !== undefined && v > 0);
  const minDecade = Math.min(-2, Math.floor(Math.log10(Math.min(...values, 1))));
  const maxDecade = Math.max(1, Math.ceil(Math.log10(Math.max(...values, 1))));
  const labelWidth = 420;
  const barWidth = 420;
  const textWidth = 330;
  const rowHeight = 30;
  const top = 64;
  const width = labelWidth + barWidth + textWidth + 20;
  const height = top + rows.length * rowHeight + 40;
  const x = (v: number): number => {
    const clamped = Math.min(Math.max(Math.log10(v), minDecade), maxDecade);
    return labelWidth + ((clamped - minDecade) / (maxDecade - minDecade)) * barWidth;
  };
  const m = report.machine;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(
      `Sequor npm run bench${report.quick ? ' --quick' : ''}, ${report.date}`,
    )}</text>`,
    `<text x="10" y="38" fill="#444">${escapeXml(
      `${m.cpus} × ${m.model}, Node ${m.node}, load ${m.loadAverageStart.map((l) => l.toFixed(1)).join(' ')} → ${m.loadAverageEnd
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    )}</text>`,
    `<text x="${labelWidth}" y="56" fill="#444">${escapeXml('ratio to floor (or to an absolute target), log scale; | = target')}</text>`,
  ];
  for (let d = minDecade; d <= maxDecade; d++) {
    const gx = x(10 ** d);
    out.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`,
      `<text x="${gx}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#666">${escapeXml(
        formatRatio(10 ** d),
      )}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const { value, mark } = points[i]!;
    const colour = row.met === undefined ? '#999' : row.met ? '#2e7d32' : '#c62828';
    out.push(
      `<text x="10" y="${y + 13}" font-weight="bold">${escapeXml(row.id)}</text>`,
      `<text x="10" y="${y + 25}" fill="#555" font-size="10">${escapeXml(truncate(row.path, 78))}</text>`,
    );
    if (value !== undefined && value > 0 && Number.isFinite(value)) {
      out.push(
        `<rect x="${labelWidth}" y="${y + 6}" width="${Math.max(1, x(value) - labelWidth).toFixed(1)}" height="16" fill="${colour}"/>`,
      );
    }
    if (mark !== undefined && mark > 0) {
      const mx = x(mark).toFixed(1);
      out.push(`<line x1="${mx}" y1="${y + 2}" x2="${mx}" y2="${y + 26}" stroke="#000" stroke-width="2"/>`);
    }
    out.push(
      `<text x="${labelWidth + barWidth + 10}" y="${y + 13}">${escapeXml(
        `${formatNumber(row.figure)} ${row.unit}`,
      )}</text>`,
      `<text x="${labelWidth + barWidth + 10}" y="${y + 25}" fill="#555" font-size="10">${escapeXml(
        `${rowRatio(row) === undefined ? '' : `${formatRatio(rowRatio(row))} of floor · `}target ${row.target} · ${
          row.met === undefined ? 'not judged' : row.met ? 'met' : 'missed'
        }`,
      )}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}

const markdownCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * The README's Performance table: when and where it was measured, then one line per row (the path,
 * figure, floor and what it is, ratio, target, met).
 */
export function markdownSummary(report: BenchReport, resultsPath: string): string {
  const m = report.machine;
  const lines = [
    `Measured ${report.date} on ${m.cpus} × ${m.model}, Node ${m.node}, load average ${m.loadAverageStart
      .map((l) => l.toFixed(1))
      .join(' ')} at the start (\`${resultsPath}\`).`,
    '',
    '| row | path | figure | floor | ratio | target | met |',
    '|---|---|--:|---|--:|---|---|',
  ];
  for (const r of report.rows) {
    const floor = r.floor === undefined ? '' : `${formatNumber(r.floor)} (${r.floorName ?? 'floor'})`;
    lines.push(
      `| ${[
        `\`${r.id}\``,
        r.path,
        `${formatNumber(r.figure)} ${r.unit}`,
        floor,
        formatRatio(rowRatio(r)),
        r.target,
        metLabel(r.met),
      ]
        .map(markdownCell)
        .join(' | ')} |`,
    );
  }
  const failed = report.paths.filter((p) => p.error !== undefined || p.skipped !== undefined);
  if (failed.length > 0)
    lines.push(
      '',
      ...failed.map(
        (p) => `Path \`${p.id}\`: ${p.error === undefined ? `skipped (${p.skipped})` : 'failed'}.`,
      ),
    );
  return lines.join('\n');
}

/** `text` with the part between `<!-- bench:begin -->` and `<!-- bench:end -->` replaced; undefined without the markers. */
export function spliceBetweenMarkers(text: string, replacement: string): string | undefined {
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) return undefined;
  return `${text.slice(0, from + begin.length)}\n${replacement}\n${text.slice(to)}`;
}

const truncate = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
