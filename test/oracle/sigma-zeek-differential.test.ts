/**
 * SigmaHQ's Zeek rules over Zeek records written from the rules' own values (sigma-rule-events.ts's
 * writer, as the Windows differential test does), in both engines:
 * - pySigma with its SQLite backend (sigma_oracle.py), the detection alone over the record's fields by
 *   Zeek's names, kept where the record's `_path` is the rule's `service` (pySigma has no Zeek pipeline);
 * - Sequor as the detector runs: the record as a Zeek TSV log (header + line) and as a JSON line, each read
 *   by the `zeek` source format, matched through SigmaRuleSet (Zeek pipeline: `_path`) on SequorEventFields.
 * The (rule, record) match sets must be equal, for TSV and for JSON. Records the Zeek format refuses (an
 * `id.orig_h` the writer joined from two networks, "fc00:: 10.0.0.0", is no address) are counted, not
 * compared: Zeek never writes them.
 *
 * It also counts the rules that can match at all (some record matches in both engines), and how many
 * could through the per-log formats alone (dce_rpc, smb_*, conn), which were all there were before `zeek`.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { formatRegistry, getFormat, NormalizeError } from '@sequor/formats';
import {
  defaultPipeline,
  loadSigmaPath,
  SequorEventFields,
  SigmaRuleSet,
  type SigmaRule,
} from '@sequor/sigma';
import { seededRandom, sigmaMaterial, type EvtxDocument, type OracleEvent } from './sigma-events.ts';
import { runSigmaOracle, type OracleResult } from './sigma-oracle.ts';
import { RuleEventWriter, type SearchNode } from './sigma-rule-events.ts';

const zeekRules = path.join(sigmaMaterial, 'rules/network/zeek');
const SEED = 13;
const T = '\t';
const encoder = new TextEncoder();

/** The Zeek type a field is written as in the TSV header (the rest are strings). */
const TYPES: Readonly<Record<string, string>> = {
  ts: 'time',
  'id.orig_h': 'addr',
  'id.resp_h': 'addr',
  'id.orig_p': 'port',
  'id.resp_p': 'port',
};

/** Zeek's escaping of a TSV value: backslash, the separators, control bytes; the markers when literal. */
function tsvValue(text: string): string {
  if (text === '') return '(empty)';
  if (text === '-') return '\\x2d';
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c === '\\') out += '\\\\';
    else if (c === ',' || code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

function tsvLines(fields: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(fields).filter((n) => n !== '_path');
  return [
    '#separator \\x09',
    `#set_separator${T},`,
    `#empty_field${T}(empty)`,
    `#unset_field${T}-`,
    `#path${T}${fields['_path']}`,
    `#fields${T}${names.join(T)}`,
    `#types${T}${names.map((n) => TYPES[n] ?? 'string').join(T)}`,
    names.map((n) => tsvValue(fields[n] as string)).join(T),
  ];
}

function jsonLine(fields: Readonly<Record<string, string>>): string {
  const record: Record<string, string | number> = {};
  for (const [name, text] of Object.entries(fields))
    record[name] = TYPES[name] === 'time' || TYPES[name] === 'port' ? Number(text) : text;
  return JSON.stringify(record);
}

/** The event `format` reads from the lines, or the reason it refuses them. */
function decode(format: string, lines: readonly string[]): SequorEvent | string {
  const decoder = getFormat(format).createDecoder();
  try {
    const events = lines.flatMap((line, offset) =>
      decoder.decode(encoder.encode(line), { topic: 'zeek', partition: 0, offset }),
    );
    return events.length === 1 ? (events[0] as SequorEvent) : `${events.length} events`;
  } catch (err) {
    if (err instanceof NormalizeError) return `${err.reason}: ${err.message}`;
    throw err;
  }
}

/** Each character in the other case, where it has one. */
function swapCase(text: string): string {
  let out = '';
  for (const c of text) {
    const lower = c.toLowerCase();
    out += c === lower ? c.toUpperCase() : lower;
  }
  return out;
}

/**
 * Per rule, records of the rule's log: one per search identifier alone (every other one in the other
 * case), one for all of them, one for none (only what every record of the log has).
 */
function zeekRuleRecords(rules: readonly SigmaRule[], seed: number): OracleEvent[] {
  const writer = new RuleEventWriter(seededRandom(seed));
  const random = seededRandom(seed + 1);
  const out: OracleEvent[] = [];
  rules.forEach((rule, r) => {
    const names = [...rule.searches.keys()];
    const kinds: [string, readonly string[]][] = [
      ...names.map((n): [string, string[]] => [n, [n]]),
      ['all', names],
      ['none', []],
    ];
    kinds.forEach(([kind, chosen], k) => {
      const service = rule.logsource.service as string;
      const fields: Record<string, string> = {};
      for (const name of chosen) writer.search(rule.searches.get(name) as SearchNode, fields);
      const swapped = chosen.length === 1 && k % 2 === 1;
      if (swapped) for (const name of Object.keys(fields)) fields[name] = swapCase(fields[name] as string);
      // What every record of the log has, where the rule wrote nothing: time, connection, and (dce_rpc)
      // the interface and operation Zeek always logs. Private and public addresses both: the rdp and
      // webdav rules filter by them; the record for no search has public ones.
      const defaults: Record<string, string> = {
        _path: service,
        ts: '1709287200.5',
        uid: `C${r}x${k}`,
        'id.orig_h': kind === 'none' || random() < 0.5 ? '198.51.100.7' : '10.0.0.23',
        'id.orig_p': '49710',
        'id.resp_h': kind === 'none' || random() < 0.5 ? '203.0.113.9' : '10.0.0.5',
        'id.resp_p': '445',
        ...(service === 'dce_rpc' ? { endpoint: 'svcctl', operation: 'OpenSCManagerW' } : {}),
      };
      for (const [name, text] of Object.entries(defaults)) fields[name] ??= text;
      const origin = `rule-${kind}${swapped ? '-swapped' : ''}:${rule.id ?? rule.file}`;
      out.push({ origin, document: {} as EvtxDocument, fields });
    });
  });
  return out;
}

describe('SigmaHQ Zeek rules: @sequor/sigma over the zeek format against pySigma (SQLite backend)', () => {
  let rules: readonly SigmaRule[];
  let records: OracleEvent[];
  let oracle: OracleResult;

  beforeAll(async () => {
    const load = await loadSigmaPath(zeekRules);
    expect(load.errors).toEqual([]);
    rules = load.rules;
    records = zeekRuleRecords(rules, SEED);
    oracle = runSigmaOracle(records, [zeekRules]);
  }, 300_000);

  it('every rule file is a Zeek rule pySigma converts', () => {
    expect(rules.length).toBe(21);
    expect(oracle.rules.filter((r) => r.status !== 'converted').map((r) => r.file)).toEqual([]);
  });

  it('the same (rule, record) matches through TSV and JSON; the count of rules that can match', () => {
    const ruleSet = new SigmaRuleSet(rules, defaultPipeline);
    expect(ruleSet.refused).toEqual([]);
    const key = (file: string): string => path.relative(zeekRules, file);
    const serviceOf = new Map(rules.map((r) => [key(r.file), r.logsource.service as string]));
    const theirs = new Map<string, number[]>();
    for (const r of oracle.rules) {
      const service = serviceOf.get(key(r.file)) as string;
      theirs.set(
        key(r.file),
        (r.matches ?? []).filter((i) => records[i]?.fields['_path'] === service),
      );
    }
    const fields = new SequorEventFields();
    const refused: string[] = [];
    const refusedRecords = new Set<number>();
    const ours = (format: string, encode: (f: Readonly<Record<string, string>>) => string[]) => {
      const found = new Map<string, number[]>(rules.map((r) => [key(r.file), []]));
      records.forEach((record, i) => {
        const event = decode(format, encode(record.fields));
        if (typeof event === 'string') {
          refused.push(`${record.origin}: ${event}`);
          refusedRecords.add(i);
          return;
        }
        for (const r of ruleSet.match(fields.bind(event))) found.get(key(r.rule.file))?.push(i);
      });
      return found;
    };
    const tsv = ours('zeek', tsvLines);
    const tsvRefused = refused.length;
    const json = ours('zeek', (f) => [jsonLine(f)]);
    expect(refused.slice(tsvRefused).map((r) => r.split(': ')[0])).toEqual(
      refused.slice(0, tsvRefused).map((r) => r.split(': ')[0]),
    );
    // Only records the format refuses may be missing on our side: pySigma reads any text.
    const comparable = (list: readonly number[]): number[] => list.filter((i) => !refusedRecords.has(i));
    const differences: string[] = [];
    let canMatch = 0;
    for (const [rule, theirMatches] of theirs) {
      const expected = comparable(theirMatches);
      for (const [name, side] of [
        ['tsv', tsv],
        ['json', json],
      ] as const) {
        const got = side.get(rule) ?? [];
        if (JSON.stringify(got) !== JSON.stringify(expected))
          differences.push(
            `${rule} ${name}: sequor ${JSON.stringify(got)} pysigma ${JSON.stringify(expected)}`,
          );
      }
      if (expected.length > 0 && (tsv.get(rule) ?? []).length > 0) canMatch++;
    }
    // Before the zeek format: only the per-log formats, so only their logs' records were events at all.
    const perLog = new Set(['dce_rpc', 'smb_mapping', 'smb_files', 'conn']);
    const perLogFormats = [...formatRegistry.keys()].filter((n) => n.startsWith('zeek-'));
    const canMatchBefore = [...theirs].filter(
      ([rule, m]) => perLog.has(serviceOf.get(rule) as string) && comparable(m).length > 0,
    ).length;
    console.log(
      `sigma zeek oracle: ${rules.length} rules over ${records.length} rule-written records ` +
        `(pySigma ${oracle.pysigma}, backend ${oracle.backend}); ${canMatch} rules match some record in both engines ` +
        `(through the per-log formats ${perLogFormats.join(', ')} alone: ${canMatchBefore}); ` +
        `${tsvRefused} records refused by the zeek format: ${refused.join(' | ')}`,
    );
    expect(differences).toEqual([]);
    expect(canMatch).toBe(rules.length);
  }, 300_000);
});
