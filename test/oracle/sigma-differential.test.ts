/**
 * Differential test of @sequor/sigma against pySigma with its SQLite backend (Zircolite's converter), run
 * by test/oracle/sigma_oracle.py: every SigmaHQ Windows rule over every oracle event (sigma-events.ts:
 * SigmaHQ's regression events, seeded case-swapped and one-character-short variants of them, a seeded
 * scenario's Windows events; sigma-rule-events.ts: per rule, events written from its own values), in both
 * engines. The (rule, event) match sets must be equal apart from the
 * divergences listed below, each with its reason; an unlisted divergence fails, and so does a listed one
 * that no longer occurs (the table stays true).
 *
 * Two comparisons:
 * - detection: the rule's detection alone, on the event's fields by the names the rule writes (pySigma with
 *   no processing pipeline; Sequor with a pipeline that selects every event and renames nothing). This is
 *   the reference for Sigma's matching semantics: modifiers, wildcards, case, conditions, keywords.
 * - logsource: the whole rule. pySigma with its sysmon + windows-logsource pipelines (category -> Sysmon
 *   EventID, service -> Channel), Sequor with its own Windows pipeline (SigmaHQ's mapping, tests/thor.yml)
 *   through SigmaRuleSet, the detector's path (dispatch by Channel/EventID, matchers shared across rules).
 *   Only rules pySigma's pipelines give a Channel to are compared; the two mappings differ by design where
 *   SigmaHQ's maps a category to more than Sysmon (process_creation also from Security 4688), which no
 *   event here exercises. SigmaHQ's regression tests pin Sequor's mapping itself.
 *
 * Both engines read the same evtx documents: pySigma the flattening in sigma-events.ts, Sequor its own
 * evtx adapter (`evtxFieldSource`), so a difference between the two flattenings shows here too.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compileSigmaRule,
  defaultPipeline,
  EventView,
  evtxFieldSource,
  loadSigmaPath,
  MatcherCache,
  SigmaRuleSet,
  type CompiledSigmaRule,
  type ProcessingPipeline,
  type SearchNode,
  type SigmaRule,
} from '@sequor/sigma';
import { oracleEvents, sigmaMaterial, type OracleEvent } from './sigma-events.ts';
import { runSigmaOracle, type OracleResult } from './sigma-oracle.ts';
import { ruleEvents } from './sigma-rule-events.ts';

const windowsRules = path.join(sigmaMaterial, 'rules/windows');
const SEED = 13;

/** The detection alone, as pySigma converts a rule with no processing pipeline. */
const detectionOnly: ProcessingPipeline = {
  name: 'detection only',
  resolve: () => [{ name: 'every event', conditions: {}, fieldMap: {} }],
};

type Side = 'sequor' | 'pysigma';

/** A (rule, event) pair on which the engines differ. */
interface Pair {
  /** The rule file's path under rules/windows/. */
  readonly rule: string;
  readonly event: number;
  readonly matchedBy: Side;
}

/** A kind of divergence the engines are allowed, with the reason, told apart by the rule and the event. */
interface Divergence {
  readonly name: string;
  readonly why: string;
  applies(rule: SigmaRule, event: OracleEvent, matchedBy: Side): boolean;
}

type Item = Extract<SearchNode, { kind: 'map' }>['items'][number];

function itemsOf(rule: SigmaRule): Item[] {
  const items: Item[] = [];
  const visit = (node: SearchNode): void => {
    if (node.kind === 'anyOf') node.maps.forEach(visit);
    else items.push(...node.items);
  };
  rule.searches.forEach(visit);
  return items;
}

/** The fields a rule reads with `|cidr`. */
function cidrFields(rule: SigmaRule): string[] {
  return itemsOf(rule)
    .filter((item) => item.values.some((v) => v.kind === 'cidr'))
    .flatMap((item) => (item.field === null ? [] : [item.field]));
}

/** An IPv6 address not written as its canonical text (lower case, compressed, no dotted IPv4 tail). */
function notCanonicalIpv6(value: string): boolean {
  return isIP(value) === 6 && new URL(`http://[${value}]/`).hostname !== `[${value.toLowerCase()}]`;
}

/** A letter beyond ASCII that has another case (é/É, Cyrillic а/А). */
const nonAsciiCased = (text: string): boolean =>
  [...text].some((c) => c > '\x7f' && c.toLowerCase() !== c.toUpperCase());

function ruleHasNonAsciiCased(rule: SigmaRule): boolean {
  return itemsOf(rule).some((item) =>
    item.values.some(
      (v) =>
        v.kind === 'string' &&
        v.alternatives.some((a) => a.parts.some((p) => typeof p === 'string' && nonAsciiCased(p))),
    ),
  );
}

const DETECTION_DIVERGENCES: readonly Divergence[] = [
  {
    name: 'cidr on text that is not an IP address',
    why:
      'pySigma-backend-sqlite writes `|cidr` as LIKE prefixes of the network’s text (`fc00::/7` is `fc%` or ' +
      '`fd%`; its README: SQLite has no network type), so any text that starts like the network matches. ' +
      'Sequor parses the value as an IP address, as the Sigma specification defines cidr, and text that is ' +
      'not one never matches. The rule-written events join two values of one field ("fc00:: -").',
    applies: (rule, event) =>
      cidrFields(rule).some((f) => event.fields[f] !== undefined && isIP(event.fields[f]) === 0),
  },
  {
    name: 'cidr on an IPv6 address in another spelling',
    why:
      'The same LIKE prefixes see only the spelling pySigma expands a network to (its README says so): an ' +
      'IPv4-mapped address (`::ffff:10.1.2.3`, what Security 4624 logs for IPv4 clients of a dual-stack host) ' +
      'is not in 10.0.0.0/8 for it, and `0:0:0:0:0:0:0:1` is not `::1/128`. Sequor compares addresses as ' +
      'numbers and reads an IPv4-mapped address as its IPv4 address.',
    applies: (rule, event) =>
      cidrFields(rule).some((f) => event.fields[f] !== undefined && notCanonicalIpv6(event.fields[f])),
  },
  {
    name: 'case of letters beyond ASCII',
    why:
      'SQLite’s NOCASE and LIKE fold ASCII letters only (pySigma-backend-sqlite README: case folding is ASCII ' +
      'only); Sigma matches ignore case and Sequor folds every letter (JavaScript toLowerCase), so ' +
      '`MÉDIA PROTÉGÉ` matches the rule text `Média protégé`, and upper-case Cyrillic homoglyphs the lower-case ones.',
    applies: (rule, event) => ruleHasNonAsciiCased(rule) && Object.values(event.fields).some(nonAsciiCased),
  },
];

const LOGSOURCE_DIVERGENCES: readonly Divergence[] = [
  ...DETECTION_DIVERGENCES,
  {
    name: 'registry_add / registry_delete by EventType',
    why:
      'SigmaHQ’s mapping (tests/thor.yml), which Sequor’s Windows pipeline follows, selects registry_add as ' +
      'Sysmon 12 with EventType CreateKey and registry_delete as Sysmon 12 with EventType DeleteKey or ' +
      'DeleteValue; pySigma’s sysmon pipeline maps both categories to EventID 12 alone. Sysmon 12 events of ' +
      'the other EventType (or none: the rule-written events of registry_event rules, a one-character-short ' +
      'variant "Deletealue") are selected by pySigma only.',
    applies: (rule, event, matchedBy) => {
      const category = rule.logsource.category;
      if (matchedBy !== 'pysigma' || event.fields['EventID'] !== '12') return false;
      const type = event.fields['EventType'] ?? '';
      if (category === 'registry_delete') return !/^Delete(Key|Value)$/i.test(type);
      if (category === 'registry_add') return !/^CreateKey$/i.test(type);
      return false;
    },
  },
];

interface Comparison {
  readonly rules: number;
  readonly agreedPairs: number;
  readonly rulesWithMatches: number;
  /** Divergence name -> its pairs. */
  readonly listed: ReadonlyMap<string, number>;
  readonly unlisted: readonly Pair[];
  readonly stale: readonly string[];
}

function compare(
  ours: ReadonlyMap<string, readonly number[]>,
  theirs: ReadonlyMap<string, readonly number[]>,
  rulesByFile: ReadonlyMap<string, SigmaRule>,
  events: readonly OracleEvent[],
  table: readonly Divergence[],
): Comparison {
  let agreedPairs = 0;
  let rulesWithMatches = 0;
  const listed = new Map<string, number>(table.map((d) => [d.name, 0]));
  const unlisted: Pair[] = [];
  for (const [rule, ourMatches] of ours) {
    const theirMatches = theirs.get(rule);
    if (theirMatches === undefined) continue;
    const a = new Set(ourMatches);
    const b = new Set(theirMatches);
    if (a.size > 0 || b.size > 0) rulesWithMatches++;
    const differing: Pair[] = [];
    for (const i of a) if (b.has(i)) agreedPairs++;
    for (const i of a) if (!b.has(i)) differing.push({ rule, event: i, matchedBy: 'sequor' });
    for (const i of b) if (!a.has(i)) differing.push({ rule, event: i, matchedBy: 'pysigma' });
    const sigmaRule = rulesByFile.get(rule) as SigmaRule;
    for (const pair of differing) {
      const entry = table.find((d) =>
        d.applies(sigmaRule, events[pair.event] as OracleEvent, pair.matchedBy),
      );
      if (entry === undefined) unlisted.push(pair);
      else listed.set(entry.name, (listed.get(entry.name) as number) + 1);
    }
  }
  const rules = [...ours.keys()].filter((r) => theirs.has(r)).length;
  const stale = [...listed].filter(([, n]) => n === 0).map(([name]) => name);
  return { rules, agreedPairs, rulesWithMatches, listed, unlisted, stale };
}

const listedText = (listed: ReadonlyMap<string, number>): string =>
  [...listed].map(([name, n]) => `${n} ${name}`).join(', ');

function describePairs(
  pairs: readonly Pair[],
  events: readonly OracleEvent[],
  ids: ReadonlyMap<string, string>,
): string {
  const shown = pairs.slice(0, 25).map((p) => {
    const e = events[p.event] as OracleEvent;
    const fields = JSON.stringify(e.fields);
    return `${p.rule} (${ids.get(p.rule) ?? '?'}): only ${p.matchedBy} matches event ${p.event} ${e.origin}\n    ${fields.length > 700 ? `${fields.slice(0, 700)}…` : fields}`;
  });
  return (
    shown.join('\n') + (pairs.length > shown.length ? `\n… and ${pairs.length - shown.length} more` : '')
  );
}

function matchesOf(compiled: CompiledSigmaRule, views: readonly EventView[]): number[] {
  const found: number[] = [];
  views.forEach((view, i) => {
    if (compiled.matches(view)) found.push(i);
  });
  return found;
}

describe('Sigma differential oracle: @sequor/sigma against pySigma (SQLite backend)', () => {
  let events: OracleEvent[];
  let oracle: OracleResult;
  let rules: readonly SigmaRule[];
  /** Rule file (relative to rules/windows) -> its id, for messages. */
  const ids = new Map<string, string>();
  const sequorRefused = new Map<string, string>();
  const rulesByFile = new Map<string, SigmaRule>();
  let views: EventView[];

  beforeAll(async () => {
    const load = await loadSigmaPath(windowsRules);
    rules = load.rules;
    for (const rule of rules) rulesByFile.set(path.relative(windowsRules, rule.file), rule);
    events = [...oracleEvents({ seed: SEED }), ...ruleEvents(rules, SEED)];
    oracle = runSigmaOracle(events, [windowsRules]);
    for (const error of load.errors) sequorRefused.set(path.relative(windowsRules, error.file), error.code);
    // One view per event for all rules: it caches each field's lower-cased text, as the rule set does.
    views = events.map((e) => new EventView(evtxFieldSource(e.document)));
    for (const r of oracle.rules) if (r.id !== null) ids.set(path.relative(windowsRules, r.file), r.id);
  }, 600_000);

  it('pySigma converts and runs every SigmaHQ Windows rule over every event', () => {
    const notConverted = oracle.rules.filter((r) => r.status !== 'converted');
    expect(notConverted.map((r) => `${r.file}: ${r.status} ${r.error ?? ''}`)).toEqual([]);
    expect(oracle.rules.length).toBe(2407);
    expect(oracle.events).toBe(events.length);
  });

  it('detection: the same (rule, event) matches, apart from the listed divergences', () => {
    const cache = new MatcherCache();
    const ours = new Map<string, number[]>();
    for (const rule of rules) {
      const key = path.relative(windowsRules, rule.file);
      try {
        ours.set(key, matchesOf(compileSigmaRule(rule, detectionOnly, cache), views));
      } catch (error) {
        sequorRefused.set(key, (error as { code?: string }).code ?? String(error));
      }
    }
    const theirs = new Map(
      oracle.rules.map((r) => [path.relative(windowsRules, r.file), r.matches ?? []] as const),
    );
    const result = compare(ours, theirs, rulesByFile, events, DETECTION_DIVERGENCES);
    const refusedWithOracleMatches = [...sequorRefused.keys()].filter(
      (k) => (theirs.get(k) ?? []).length > 0,
    );
    console.log(
      `sigma oracle (detection): ${result.rules} rules in both engines over ${events.length} events ` +
        `(pySigma ${oracle.pysigma}, backend ${oracle.backend}, ${JSON.stringify(oracle.seconds)} s); ` +
        `${result.rulesWithMatches} rules match something; ${result.agreedPairs} (rule, event) matches agree, ` +
        `divergences listed: ${listedText(result.listed)}, ${result.unlisted.length} unlisted; ` +
        `Sequor refuses ${sequorRefused.size} rules (${refusedWithOracleMatches.length} of them match in pySigma: ${refusedWithOracleMatches.join(', ')})`,
    );
    expect(
      result.unlisted.length,
      `unlisted divergences:\n${describePairs(result.unlisted, events, ids)}`,
    ).toBe(0);
    expect(result.stale, 'listed divergences that occur nowhere').toEqual([]);
    expect(result.rules).toBeGreaterThan(2300);
  }, 300_000);

  it('logsource: the whole rule with each engine’s Windows pipeline, where pySigma maps a Channel', () => {
    // Through SigmaRuleSet, as the detector runs them: dispatch by Channel/EventID, shared matchers.
    const ruleSet = new SigmaRuleSet(rules, defaultPipeline);
    const ours = new Map<string, number[]>(
      ruleSet.rules.map((r) => [path.relative(windowsRules, r.rule.file), []]),
    );
    events.forEach((event, i) => {
      for (const r of ruleSet.match(evtxFieldSource(event.document)))
        (ours.get(path.relative(windowsRules, r.rule.file)) as number[]).push(i);
    });
    const unknownLogsource = ruleSet.refused.length;
    const theirs = new Map<string, readonly number[]>();
    let unmapped = 0;
    for (const r of oracle.rules) {
      if (r.logsourceMatches === null || r.logsourceMatches === undefined) unmapped++;
      else theirs.set(path.relative(windowsRules, r.file), r.logsourceMatches);
    }
    const result = compare(ours, theirs, rulesByFile, events, LOGSOURCE_DIVERGENCES);
    console.log(
      `sigma oracle (logsource): ${result.rules} rules compared (pySigma's pipelines map no Channel for ${unmapped}, ` +
        `Sequor's pipeline refuses ${unknownLogsource}); ${result.rulesWithMatches} rules match something; ` +
        `${result.agreedPairs} (rule, event) matches agree, divergences listed: ${listedText(result.listed)}, ${result.unlisted.length} unlisted`,
    );
    expect(
      result.unlisted.length,
      `unlisted divergences:\n${describePairs(result.unlisted, events, ids)}`,
    ).toBe(0);
    expect(result.stale, 'listed divergences that occur nowhere').toEqual([]);
  }, 300_000);
});
