/**
 * Value lists: named sets of values shared by every rule's `exceptions` (Elastic's value lists). One file
 * per list in a folder (`--lists DIR`, `VALUE_LISTS_DIR`), named `<name>.<type>`: one value per line,
 * blank lines and `#` comments skipped. Types:
 * - `keyword`: exact values, case-insensitive (as EQL's `:`); one hash-set lookup per value.
 * - `ip` / `cidr`: addresses or CIDR blocks (IPv4 and IPv6); a hash set per prefix length, so a lookup
 *   costs one probe per distinct prefix length in the list (at most 129), not per entry.
 * - `wildcard`: `*`/`?` patterns (the engine's matcher, never a RegExp), case-insensitive; literal lines
 *   share one set lookup, each pattern is one more test per value.
 * A list that cannot be used (too big, a bad line) is kept as a refusal, so a rule naming it is refused
 * with the list's reason and the other rules still run.
 */
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { CidrBlock, StringMatcher } from '@sequor/engine';
import { compileWildcardList, newIpWords, parseCidr, parseIpInto } from '@sequor/engine';

export const valueListTypes = ['keyword', 'ip', 'cidr', 'wildcard'] as const;
export type ValueListType = (typeof valueListTypes)[number];

/** Lists past these are refused: per-event cost is bounded, but memory and load time are not. */
export const MAX_VALUE_LIST_ENTRIES = 1_000_000;
export const MAX_VALUE_LIST_BYTES = 64 * 2 ** 20;

/** A loaded list: the test of one field value (a string, number or boolean; the caller walks arrays). */
export interface ValueList {
  readonly name: string;
  readonly type: ValueListType;
  readonly file: string;
  readonly size: number;
  /** True when `value` is in the list (keyword and wildcard: case-insensitive; ip: inside a block). */
  has(value: unknown): boolean;
}

/** A list file that exists but cannot be used, and why (named in the error of each rule using it). */
export interface ValueListRefusal {
  readonly name: string;
  readonly file: string;
  readonly reason: string;
}

export interface ValueListSet {
  readonly dir: string;
  readonly lists: ReadonlyMap<string, ValueList>;
  readonly refused: ReadonlyMap<string, ValueListRefusal>;
}

/** No lists: what a process without `--lists` / `VALUE_LISTS_DIR` resolves names against. */
export const noValueLists: ValueListSet = { dir: '', lists: new Map(), refused: new Map() };

/** Thrown by the parsers with the 1-based line of the bad entry. */
export class ValueListLineError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

/** The entries of a list's text: trimmed lines, without blanks and `#` comments, with their line numbers. */
function entries(text: string): { value: string; line: number }[] {
  const out: { value: string; line: number }[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const value = raw.trim();
    if (value === '' || value.startsWith('#')) continue;
    out.push({ value, line });
    if (out.length > MAX_VALUE_LIST_ENTRIES)
      throw new ValueListLineError(line, `more than ${MAX_VALUE_LIST_ENTRIES.toLocaleString('en')} entries`);
  }
  return out;
}

/** A scalar field value as list text (numbers and booleans as written); null for anything else. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function keywordList(name: string, file: string, values: readonly string[]): ValueList {
  const set = new Set(values.map((v) => v.toLowerCase()));
  return {
    name,
    type: 'keyword',
    file,
    size: set.size,
    has: (value) => {
      const text = scalarText(value);
      return text !== null && set.has(text.toLowerCase());
    },
  };
}

function wildcardList(name: string, file: string, values: readonly string[]): ValueList {
  const match: StringMatcher = compileWildcardList(values, true);
  return {
    name,
    type: 'wildcard',
    file,
    size: values.length,
    has: (value) => {
      const text = scalarText(value);
      return text !== null && match(text.toLowerCase());
    },
  };
}

/** The prefix length of a parsed block (IPv4 blocks count the 96 mapped bits). */
function prefixLength(block: CidrBlock): number {
  // The mask is contiguous: per word, its leading ones.
  let bits = 0;
  for (let w = 0; w < 4; w++) {
    const m = block.mask[w] as number;
    bits += m === 0 ? 0 : Math.clz32(~m >>> 0);
  }
  return bits;
}

function maskedKey(words: Uint32Array, mask: Uint32Array): string {
  return `${((words[0] as number) & (mask[0] as number)) >>> 0}.${((words[1] as number) & (mask[1] as number)) >>> 0}.${((words[2] as number) & (mask[2] as number)) >>> 0}.${((words[3] as number) & (mask[3] as number)) >>> 0}`;
}

interface PrefixGroup {
  readonly mask: Uint32Array;
  /** IPv4 blocks (IPv4-mapped, prefix >= 96): the masked last word, a number key (no string per lookup). */
  readonly v4: Set<number>;
  /** Every other block: the masked words as text. */
  readonly v6: Set<string>;
}

/** `::ffff:a.b.c.d`: the words of an IPv4 address as stored. */
function isMappedV4(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * A CIDR list: per prefix length, the set of its networks. A lookup parses the address once and probes one
 * set per distinct prefix length (at most 129), whatever the number of blocks.
 */
export function cidrSet(blocks: readonly CidrBlock[]): (value: unknown) => boolean {
  const byLength = new Map<number, PrefixGroup>();
  for (const block of blocks) {
    const length = prefixLength(block);
    let group = byLength.get(length);
    if (group === undefined) {
      group = { mask: Uint32Array.from(block.mask), v4: new Set(), v6: new Set() };
      byLength.set(length, group);
    }
    if (length >= 96 && isMappedV4(block.network)) group.v4.add(block.network[3] as number);
    else group.v6.add(maskedKey(block.network, block.mask));
  }
  const v4Groups = [...byLength.values()].filter((g) => g.v4.size > 0);
  const v6Groups = [...byLength.values()].filter((g) => g.v6.size > 0);
  const address = newIpWords();
  return (value) => {
    if (typeof value !== 'string' || !parseIpInto(value, address)) return false;
    if (isMappedV4(address)) {
      const last = address[3] as number;
      for (let i = 0; i < v4Groups.length; i++) {
        const group = v4Groups[i] as PrefixGroup;
        if (group.v4.has((last & (group.mask[3] as number)) >>> 0)) return true;
      }
    }
    for (let i = 0; i < v6Groups.length; i++) {
      const group = v6Groups[i] as PrefixGroup;
      if (group.v6.has(maskedKey(address, group.mask))) return true;
    }
    return false;
  };
}

function ipList(
  name: string,
  type: 'ip' | 'cidr',
  file: string,
  rows: readonly { value: string; line: number }[],
): ValueList {
  const blocks = rows.map(({ value, line }) => {
    const block = parseCidr(value);
    if (block === null)
      throw new ValueListLineError(line, `${JSON.stringify(value)} is not an IP address or CIDR block`);
    return block;
  });
  const has = cidrSet(blocks);
  return { name, type, file, size: blocks.length, has };
}

/** Parses one list's text (pure): throws `ValueListLineError` for a bad or excess entry. */
export function parseValueList(name: string, type: ValueListType, file: string, text: string): ValueList {
  // A list saved as UTF-16 (what many Windows tools export) reads as UTF-8 with a NUL beside every
  // character, and other binary as U+FFFD: refused, since its entries would silently match nothing.
  const nul = text.indexOf('\u0000');
  const undecodable = text.indexOf('\uFFFD');
  const bad = nul < 0 ? undecodable : undecodable < 0 ? nul : Math.min(nul, undecodable);
  if (bad >= 0) {
    const line = text.slice(0, bad).split('\n').length;
    throw new ValueListLineError(
      line,
      'not UTF-8 text (a NUL or an undecodable byte: UTF-16?): save the list as UTF-8',
    );
  }
  const rows = entries(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  switch (type) {
    case 'keyword':
      return keywordList(
        name,
        file,
        rows.map((r) => r.value),
      );
    case 'wildcard':
      return wildcardList(
        name,
        file,
        rows.map((r) => r.value),
      );
    case 'ip':
    case 'cidr':
      return ipList(name, type, file, rows);
  }
}

/** `<name>.<type>` of a list file name, or null for a file that is not a list. */
export function valueListFileName(base: string): { name: string; type: ValueListType } | null {
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  const type = base.slice(dot + 1).toLowerCase();
  if (!(valueListTypes as readonly string[]).includes(type)) return null;
  return { name: base.slice(0, dot), type: type as ValueListType };
}

async function readBounded(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_VALUE_LIST_BYTES)
      throw new Error(
        `${size.toLocaleString('en')} bytes, more than the ${MAX_VALUE_LIST_BYTES / 2 ** 20} MiB a list may have`,
      );
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Every list file directly in `dir` (`<name>.keyword|ip|cidr|wildcard`; other files are ignored). A list
 * that cannot be read or parsed is a refusal with its reason, never an exception: the rules not using it
 * still run. An unreadable `dir` throws (the caller names it as its setting or option).
 */
export async function loadValueLists(dir: string): Promise<ValueListSet> {
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort();
  const lists = new Map<string, ValueList>();
  const refused = new Map<string, ValueListRefusal>();
  for (const base of files) {
    const named = valueListFileName(base);
    if (named === null) continue;
    const file = path.join(dir, base);
    if (lists.has(named.name) || refused.has(named.name)) {
      refused.set(named.name, {
        name: named.name,
        file,
        reason: `two files define the list ${JSON.stringify(named.name)}`,
      });
      lists.delete(named.name);
      continue;
    }
    try {
      lists.set(named.name, parseValueList(named.name, named.type, file, await readBounded(file)));
    } catch (cause) {
      const reason =
        cause instanceof ValueListLineError
          ? `${file}:${cause.line}: ${cause.message.replace(/^line \d+: /, '')}`
          : `${file}: ${cause instanceof Error ? cause.message : String(cause)}`;
      refused.set(named.name, { name: named.name, file, reason });
    }
  }
  return { dir, lists, refused };
}
