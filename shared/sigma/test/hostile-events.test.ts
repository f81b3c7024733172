/**
 * Events an attacker partly writes (a command line, a script block) against SigmaHQ's own rules: each
 * crafted value is as long as a record allows (the normalizer's 1 MiB record bound) and built to meet the
 * costliest path it can, and each test checks the right answer and counts the work (reads of the long
 * value through the string methods a per-pattern test uses), never time.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FieldValue, SigmaRule } from '../src/index.js';
import {
  defaultPipeline,
  loadSigmaFile,
  loadSigmaText,
  objectFieldSource,
  SigmaRuleSet,
} from '../src/index.js';
import { anyEvent, ruleText } from './helpers.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');
const PROCESS_CREATION = path.join(SIGMA, 'rules/windows/process_creation');
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
/** A command line as long as the normalizer's record bound lets one be. */
const MEGABYTE = 1 << 20;

async function sigmaHq(...files: string[]): Promise<SigmaRuleSet> {
  const rules: SigmaRule[] = [];
  for (const file of files) {
    const { rule, errors } = await loadSigmaFile(path.join(PROCESS_CREATION, file));
    if (rule === null) throw new Error(errors.map((e) => e.format()).join('\n'));
    rules.push(rule);
  }
  return new SigmaRuleSet(rules, defaultPipeline);
}

/** `unit` repeated to `length` code units, then `tail`. */
function filled(unit: string, length: number, tail = ''): string {
  return unit.repeat(Math.ceil((length - tail.length) / unit.length)).slice(0, length - tail.length) + tail;
}

function processCreation(commandLine: string, image = 'C:\\Windows\\System32\\cmd.exe') {
  return objectFieldSource({ Channel: SYSMON, EventID: 1, Image: image, CommandLine: commandLine });
}

const titles = (set: SigmaRuleSet, event: ReturnType<typeof objectFieldSource>): string[] =>
  set.match(event).map((r) => r.rule.title);

/**
 * Counts the calls of a `String.prototype` method on strings of at least `MEGABYTE / 2` code units while
 * `run` runs: the reads of the crafted value by per-pattern tests.
 */
const restore: (() => void)[] = [];
afterEach(() => restore.splice(0).forEach((r) => r()));
function longReads(method: 'includes' | 'codePointAt'): { readonly count: number } {
  const proto = String.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = proto[method] as (...args: unknown[]) => unknown;
  const counter = { count: 0 };
  proto[method] = function (this: string, ...args: unknown[]) {
    if (this.length >= MEGABYTE / 2) counter.count += 1;
    return original.apply(this, args);
  };
  restore.push(() => (proto[method] = original));
  return counter;
}

describe('hostile events against SigmaHQ rules', () => {
  it('a megabyte command line is searched once for a list of contains values, not once per value', async () => {
    // Hundreds of emoji, and windash's 5-25 spellings of each PsExec flag set: one `includes` each was
    // 60-80 ms per rule on a megabyte (near misses of every value, so that no search stops early).
    const set = await sigmaHq(
      'proc_creation_win_susp_emoji_usage_in_cli_1.yml',
      'proc_creation_win_susp_emoji_usage_in_cli_4.yml',
      'proc_creation_win_sysinternals_susp_psexec_paexec_flags.yml',
    );
    const nearMiss = ' -s -i pws -s cm -i -s powershel \u2013s cm /s -i pws ';
    const reads = longReads('includes');
    expect(titles(set, processCreation(filled(nearMiss, MEGABYTE)))).toEqual([]);
    expect(titles(set, processCreation(filled(nearMiss, MEGABYTE, ' \u2014i \u2015s powershell')))).toEqual([
      'Potential Privilege Escalation To LOCAL SYSTEM',
    ]);
    expect(titles(set, processCreation(filled(nearMiss, MEGABYTE, 'echo 🔹')))).toHaveLength(1);
    // A filter's contains value as far from the start as it can be still excludes the event.
    expect(titles(set, processCreation(filled(nearMiss, MEGABYTE, ' -s cmd PAEXEC')))).toEqual([]);
    // One `includes` per value: 122 searches of the megabyte over these four events.
    expect(reads.count).toBeLessThan(20);
  });

  it('a megabyte command line meets a `?` pattern on its automaton, not at every position in script', async () => {
    // `>?%TEMP%\` and seven more: the engine's segment matcher compared every position of the value,
    // code point by code point (`codePointAt`), for each pattern.
    const set = await sigmaHq('proc_creation_win_cmd_redirection_susp_folder.yml');
    const reads = longReads('codePointAt');
    const nearMiss = '> %TEMP% >C:\\Temp >"C:\\Users\\Public ';
    expect(titles(set, processCreation(filled(nearMiss, MEGABYTE)))).toEqual([]);
    expect(titles(set, processCreation(filled(nearMiss, MEGABYTE, ' >"%TEMP%\\out.txt')))).toHaveLength(1);
    // At every position: 13 million code points read over these two events.
    expect(reads.count).toBeLessThan(100);
  });
});

describe('long values answer as short ones', () => {
  const rule = (detection: string): SigmaRule => {
    const { rule, errors } = loadSigmaText(ruleText(detection), 'long.yml');
    if (rule === null) throw new Error(errors.map((e) => e.format()).join('\n'));
    return rule;
  };
  // More contains values than a detection inlines (its shared list: one scan on a long value),
  // non-ASCII and astral ones among them, the same values cased (never case-folded by a scan), and `?`
  // patterns.
  const values = ['alpha', 'beta', 'gamma', 'Straße', 'ǅx', '🔹', 'k\u212Aelvin', 'delta'];
  for (let i = 0; i < 10; i++) values.push(`zz${i}`);
  const list = values.map((v) => `      - '${v}'`).join('\n');
  const set = new SigmaRuleSet(
    [
      rule(`  sel:\n    CommandLine|contains:\n${list}\n  condition: sel`),
      rule(`  sel:\n    CommandLine|contains|cased:\n${list}\n  condition: sel`),
      rule(`  sel:\n    CommandLine|contains: 'a?b-c'\n  condition: sel`),
      rule(`  sel:\n    CommandLine|contains: 'x?y*z'\n  condition: sel`),
    ].map((r, i) => ({ ...r, title: `r${i}` })),
    anyEvent,
  );
  const answer = (commandLine: string): string[] =>
    set
      .match(objectFieldSource({ CommandLine: commandLine } as Record<string, FieldValue>))
      .map((r) => r.rule.title);

  it.each([
    ['ALPHA', ['r0']],
    ['alpha', ['r0', 'r1']],
    ['STRASSE', []],
    ['STRAßE', ['r0']],
    ['ǅX', ['r0']],
    ['ǆx', ['r0']],
    ['🔹', ['r0', 'r1']],
    ['\uD83D', []],
    ['K\u212AELVIN', ['r0']],
    ['kkelvin', ['r0']],
    ['delt', []],
    ['A\u00E9B-C', ['r2']],
    ['a💡b-c', ['r2']],
    ['ab-c', []],
    ['x\ny z', ['r3']],
    ['x🔹yzz', ['r0', 'r1', 'r3']],
    ['xyz', []],
  ])('%j', (needle, expected) => {
    const pad = 'q'.repeat(700);
    expect(answer(`${pad}${needle}${pad}`)).toEqual(expected);
    expect(answer(`.${needle}.`)).toEqual(expected);
    expect(answer(`${pad}${needle}`)).toEqual(expected);
  });

  it('a `?` pattern past the automaton bound still answers a long value (the automaton is built during a match)', () => {
    const long = 'b'.repeat(12_000);
    const big = new SigmaRuleSet(
      [rule(`  sel:\n    CommandLine|contains: 'a?${long}'\n  condition: sel`)],
      anyEvent,
    );
    const matches = (commandLine: string): number =>
      big.match(objectFieldSource({ CommandLine: commandLine })).length;
    expect(matches(`${'x'.repeat(2_000)}aZ${long}`)).toBe(1);
    expect(matches(`${'x'.repeat(2_000)}a${long}`)).toBe(0);
  });
});
