/**
 * The end-of-run summary `sequor detect` prints on stderr: inputs, formats, dead letters with reasons,
 * late events, alerts per rule, wall time and peak memory. Plain aligned text: it goes to a terminal or
 * a CI log; `--summary-json` writes the same numbers for programs.
 */
import type { DetectionSummary } from './embedded.js';
import { formatCount } from './io/progress.js';

/** Left-aligned columns; numbers (cells matching /^[\d,.-]+$/) right-aligned. */
/** Up to this many rules, every rule gets a row in the summary; beyond, only those with something to say. */
const MAX_QUIET_ROWS = 20;

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i > 0 && /^[\d,.-]+$/.test(cell)
            ? cell.padStart(widths[i] as number)
            : cell.padEnd(widths[i] as number),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const n = (x: number): string => x.toLocaleString('en-US');

/** Characters of a rule id shown beside a name two rules share (a Sigma seed and its built-in). */
const SHORT_ID = 8;

/**
 * Each rule's row label: its name, and where another rule has the same name, a short id after it
 * (`Remote Registry [a1b2c3d4]`; the whole id when the short ones collide too).
 */
export function ruleLabels(rules: readonly { readonly id: string; readonly name: string }[]): string[] {
  const count = (key: (r: (typeof rules)[number]) => string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const r of rules) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return m;
  };
  const byName = count((r) => r.name);
  const byShort = count((r) => `${r.name}\u0000${r.id.slice(0, SHORT_ID)}`);
  return rules.map((r) => {
    if (byName.get(r.name) === 1) return r.name;
    const short = byShort.get(`${r.name}\u0000${r.id.slice(0, SHORT_ID)}`) === 1;
    return `${r.name} [${short ? r.id.slice(0, SHORT_ID) : r.id}]`;
  });
}

export function formatDetectionSummary(s: DetectionSummary): string {
  const out: string[] = [];
  const seconds = s.wallMs / 1000;
  out.push(
    `sequor detect: ${n(s.events)} events from ${s.inputs.length} input${s.inputs.length === 1 ? '' : 's'} in ${seconds.toFixed(1)} s ` +
      `(${formatCount(s.eventsPerSecond)} events/s; CPU ${(s.cpuMs / 1000).toFixed(1)} s), peak RSS ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ` +
      `${s.partitions} partition${s.partitions === 1 ? '' : 's'}`,
  );
  out.push('');
  out.push(
    table([
      ['input', 'format', 'lines', 'events', 'dead letters'],
      ...s.inputs.map((i) => [i.name, i.format, n(i.lines), n(i.events), n(i.deadLetters)]),
    ]),
  );
  for (const skip of s.skipped) out.push(`skipped ${skip.name}: ${skip.reason}`);
  const formats = Object.entries(s.byFormat);
  if (formats.length > 1)
    out.push(`by format: ${formats.map(([name, c]) => `${name} ${n(c.events)}`).join(', ')}`);
  out.push('');
  const reasons = Object.entries(s.deadLettersByReason).map(
    ([reason, count]) => `${reason} ${n(count ?? 0)}`,
  );
  out.push(`dead letters: ${n(s.deadLetters)}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`);
  for (const example of s.deadLetterExamples) out.push(`  ${example}`);
  if (s.deadLetters > s.deadLetterExamples.length && s.deadLetterExamples.length > 0) {
    out.push(`  ... and ${n(s.deadLetters - s.deadLetterExamples.length)} more`);
  }
  const lateness =
    s.allowedLatenessMs === null ? 'default lateness' : `lateness ${n(s.allowedLatenessMs)} ms`;
  out.push(
    `late events: ${n(s.late)} (${lateness})${s.invalidTime > 0 ? `; without a valid time: ${n(s.invalidTime)}` : ''}`,
  );
  if (s.forcedReleases > 0) {
    out.push(
      `reorder buffer full: ${n(s.forcedReleases)} events released before their lateness ran out (raise --reorder-max-mib)`,
    );
  }
  if (s.suppressedAlerts > 0) {
    out.push(
      `suppressed: ${n(s.suppressedAlerts)} alerts counted into ${n(s.alertUpdates)} update records (rules with suppress; --updates FILE writes them)`,
    );
  }
  out.push('');
  // With thousands of rules (a Sigma rule set), only the rules that did something get a row.
  const quiet = (r: (typeof s.alertsByRule)[number]): boolean =>
    r.alerts === 0 && r.expired === 0 && r.droppedAtCap === 0 && r.droppedAtBytes === 0;
  const labels = ruleLabels(s.alertsByRule);
  const rows = s.alertsByRule.map((r, i) => ({ ...r, label: labels[i] as string }));
  const shown = rows.length > MAX_QUIET_ROWS ? rows.filter((r) => !quiet(r)) : rows;
  const hidden = rows.length - shown.length;
  out.push(
    table([
      ['rule', 'alerts', 'partials expired', 'dropped at cap', 'dropped at bytes'],
      ...shown.map((r) => [r.label, n(r.alerts), n(r.expired), n(r.droppedAtCap), n(r.droppedAtBytes)]),
      ...(hidden > 0 ? [[`(${n(hidden)} more rules: no alerts, nothing expired or dropped)`]] : []),
      ['total', n(s.alerts)],
    ]),
  );
  return `${out.join('\n')}\n`;
}
