/**
 * Value modifiers (Sigma specification 2.x, appendix "Modifiers"), applied left to right to each value of
 * a detection item, as pySigma does. A modifier that does not apply to the value it is given is an error of
 * the rule; a valid modifier this package cannot run is refused with the reason (`unsupported`).
 */
import { parseCidr } from '@sequor/engine';
import type { SigmaString, SigmaValue, StringPart } from './values.js';
import { ANY_RUN, hasWildcards, parseSigmaString, plainText } from './values.js';

/** A problem with one value's modifiers. `unsupported` marks valid Sigma we refuse. */
export class ModifierError extends Error {
  constructor(
    message: string,
    readonly unsupported: boolean,
  ) {
    super(message);
    this.name = 'ModifierError';
  }
}

export const SUPPORTED_MODIFIERS = [
  'contains',
  'startswith',
  'endswith',
  'all',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
  'windash',
  're',
  'i',
  'm',
  's',
  'cidr',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'fieldref',
  'cased',
] as const;

/** Valid Sigma modifiers this package refuses, with the reason. */
const REFUSED_MODIFIERS: Readonly<Record<string, string>> = {
  expand: 'placeholders (`expand`) need a processing pipeline with their values, and this pipeline has none',
  neq: 'the `neq` modifier is not supported yet',
  minute: 'timestamp-part modifiers (`minute`, `hour`, `day`, …) are not supported',
  hour: 'timestamp-part modifiers (`minute`, `hour`, `day`, …) are not supported',
  day: 'timestamp-part modifiers (`minute`, `hour`, `day`, …) are not supported',
  week: 'timestamp-part modifiers (`minute`, `hour`, `day`, …) are not supported',
  month: 'timestamp-part modifiers (`minute`, `hour`, `day`, …) are not supported',
  year: 'timestamp-part modifiers (`minute`, `hour`, `day`, …) are not supported',
};

const KNOWN = new Set<string>(SUPPORTED_MODIFIERS);

/** Checks a modifier list; throws `ModifierError` for an unknown or refused one. Returns whether `all` is set. */
export function checkModifiers(modifiers: readonly string[]): { readonly all: boolean } {
  for (const m of modifiers) {
    const refused = REFUSED_MODIFIERS[m];
    if (refused !== undefined) throw new ModifierError(refused, true);
    if (!KNOWN.has(m)) {
      throw new ModifierError(`unknown modifier \`${m}\` (known: ${SUPPORTED_MODIFIERS.join(', ')})`, false);
    }
  }
  return { all: modifiers.includes('all') };
}

type Raw = string | number | boolean | null;

/** State while modifiers apply: the value so far, and whether it is still the value as written. */
interface Working {
  value: SigmaValue;
  applied: string[];
}

function invalid(message: string): never {
  throw new ModifierError(message, false);
}

function asStrings(value: SigmaValue, modifier: string): { alternatives: SigmaString[]; cased: boolean } {
  if (value.kind === 'string') return { alternatives: [...value.alternatives], cased: value.cased };
  if (value.kind === 'number') return { alternatives: [parseSigmaString(String(value.value))], cased: false };
  return invalid(`\`${modifier}\` applies to strings, not to a ${value.kind} value`);
}

function wrap(s: SigmaString, before: boolean, after: boolean): SigmaString {
  const parts: StringPart[] = [...s.parts];
  if (before && parts[0] !== ANY_RUN) parts.unshift(ANY_RUN);
  if (after && parts[parts.length - 1] !== ANY_RUN) parts.push(ANY_RUN);
  return { parts, bytes: s.bytes };
}

/** UTF-8 bytes of a text string, or the bytes of a byte string, as a Buffer. */
function bytesOf(s: SigmaString): Buffer {
  const text = plainText(s);
  return s.bytes ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8');
}

/** `utf16le` / `utf16be` / `utf16` (with a BOM) / `wide`: each literal run encoded, wildcards kept. */
function encodeUtf16(s: SigmaString, encoding: 'le' | 'be', bom: boolean): SigmaString {
  if (s.bytes) invalid('a UTF-16 modifier after another encoding modifier');
  const parts: StringPart[] = [];
  if (bom) parts.push('\xff\xfe');
  for (const p of s.parts) {
    if (typeof p !== 'string') parts.push(p);
    else {
      const le = Buffer.from(p, 'utf16le');
      if (encoding === 'be') le.swap16();
      parts.push(le.toString('latin1'));
    }
  }
  return { parts, bytes: true };
}

const BASE64_START = [0, 2, 3] as const;
const BASE64_END = [undefined, -3, -2] as const;

/** `base64offset`: the three encodings of the value at byte offsets 0, 1, 2, cut to the stable middle. */
function base64Offsets(s: SigmaString): SigmaString[] {
  const data = bytesOf(s);
  const out: SigmaString[] = [];
  for (let i = 0; i < 3; i++) {
    const encoded = Buffer.concat([Buffer.alloc(i, 0x20), data]).toString('base64');
    const end = BASE64_END[(data.length + i) % 3];
    out.push({ parts: [encoded.slice(BASE64_START[i], end)], bytes: false });
  }
  return out;
}

const WINDASH = ['-', '/', '\u2013', '\u2014', '\u2015'];
/** More dashes than this in one value would expand past 5^4 = 625 strings: refused. */
const MAX_WINDASH_POSITIONS = 4;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * `windash`: every `-` or `/` that starts a word after a non-word character (pySigma's `\B[-/]\b`) becomes
 * each of `-`, `/`, en dash, em dash and horizontal bar, in every combination.
 */
function windash(s: SigmaString): SigmaString[] {
  let results: StringPart[][] = [[]];
  let positions = 0;
  for (let k = 0; k < s.parts.length; k++) {
    const part = s.parts[k] as StringPart;
    if (typeof part !== 'string') {
      for (const r of results) r.push(part);
      continue;
    }
    let run = '';
    for (let i = 0; i < part.length; i++) {
      const c = part[i] as string;
      const prev = i > 0 ? part[i - 1] : undefined;
      const next = part[i + 1];
      const atWordStart =
        (c === '-' || c === '/') &&
        (prev === undefined || !WORD_CHAR.test(prev)) &&
        next !== undefined &&
        WORD_CHAR.test(next);
      if (!atWordStart) {
        run += c;
        continue;
      }
      if (++positions > MAX_WINDASH_POSITIONS) {
        throw new ModifierError(
          `\`windash\` on a value with more than ${MAX_WINDASH_POSITIONS} dashes expands to too many strings`,
          true,
        );
      }
      const grown: StringPart[][] = [];
      for (const r of results) for (const d of WINDASH) grown.push([...r, run + d]);
      results = grown;
      run = '';
    }
    if (run.length > 0) for (const r of results) r.push(run);
  }
  return results.map((parts) => ({ parts: mergeRuns(parts), bytes: s.bytes }));
}

function mergeRuns(parts: readonly StringPart[]): StringPart[] {
  const out: StringPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

function initial(raw: Raw): SigmaValue {
  if (raw === null) return { kind: 'null' };
  if (typeof raw === 'boolean') return { kind: 'boolean', value: raw };
  if (typeof raw === 'number') return { kind: 'number', value: raw };
  return { kind: 'string', alternatives: [parseSigmaString(raw)], cased: false };
}

/**
 * Applies `modifiers` (already checked with `checkModifiers`) to one raw YAML value. `field` is null for
 * keywords. `rawText` is the value as written (a `re` pattern keeps its backslashes).
 */
export function applyModifiers(
  raw: Raw,
  modifiers: readonly string[],
  field: string | null,
  offset: number,
): SigmaValue {
  const w: Working = { value: initial(raw), applied: [] };
  for (const m of modifiers) {
    w.value = applyOne(w, m, raw, field, offset);
    if (m !== 'all') w.applied.push(m);
  }
  return w.value;
}

function applyOne(w: Working, m: string, raw: Raw, field: string | null, offset: number): SigmaValue {
  const v = w.value;
  switch (m) {
    case 'all':
      return v;
    case 'contains':
    case 'startswith':
    case 'endswith': {
      if (v.kind === 'fieldref') {
        if (v.position !== 'equals') invalid(`\`${m}\` after another position modifier on a field reference`);
        return { ...v, position: m };
      }
      if (v.kind === 're') {
        throw new ModifierError(
          `\`${m}\` after \`re\` is not supported: write the pattern unanchored instead`,
          true,
        );
      }
      const s = asStrings(v, m);
      return {
        kind: 'string',
        cased: s.cased,
        alternatives: s.alternatives.map((a) => wrap(a, m !== 'startswith', m !== 'endswith')),
      };
    }
    case 'cased': {
      if (v.kind === 'fieldref') return { ...v, cased: true };
      const s = asStrings(v, m);
      return { kind: 'string', alternatives: s.alternatives, cased: true };
    }
    case 'base64':
    case 'base64offset': {
      const s = asStrings(v, m);
      if (s.alternatives.some(hasWildcards)) {
        invalid(`\`${m}\` cannot encode wildcards: put \`contains\`/\`startswith\`/\`endswith\` after it`);
      }
      const alternatives =
        m === 'base64'
          ? s.alternatives.map((a): SigmaString => ({ parts: [bytesOf(a).toString('base64')], bytes: false }))
          : s.alternatives.flatMap(base64Offsets);
      return { kind: 'string', alternatives, cased: s.cased };
    }
    case 'utf16le':
    case 'wide':
    case 'utf16be':
    case 'utf16': {
      const s = asStrings(v, m);
      const alternatives = s.alternatives.map((a) =>
        encodeUtf16(a, m === 'utf16be' ? 'be' : 'le', m === 'utf16'),
      );
      return { kind: 'string', alternatives, cased: s.cased };
    }
    case 'windash': {
      const s = asStrings(v, m);
      return { kind: 'string', alternatives: s.alternatives.flatMap(windash), cased: s.cased };
    }
    case 're': {
      if (w.applied.length > 0) invalid('`re` applies only to an unmodified value (put it first)');
      if (typeof raw !== 'string') invalid('`re` needs a string pattern');
      return {
        kind: 're',
        pattern: raw,
        flags: { ignoreCase: false, multiline: false, dotAll: false },
        offset,
      };
    }
    case 'i':
    case 'm':
    case 's': {
      if (v.kind !== 're') invalid(`\`${m}\` is a flag of \`re\` and must follow it`);
      const flag = m === 'i' ? 'ignoreCase' : m === 'm' ? 'multiline' : 'dotAll';
      return { ...v, flags: { ...v.flags, [flag]: true } };
    }
    case 'cidr': {
      if (w.applied.length > 0) invalid('`cidr` applies only to an unmodified value');
      if (typeof raw !== 'string') invalid('`cidr` needs a network such as 10.0.0.0/8');
      const block = parseCidr(raw);
      if (block === null) invalid(`not a CIDR network: "${raw}"`);
      return { kind: 'cidr', text: raw, block };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (w.applied.length > 0 || !Number.isFinite(n))
        invalid(`\`${m}\` compares with a number, not ${JSON.stringify(raw)}`);
      return { kind: 'compare', op: m, value: n };
    }
    case 'exists': {
      if (field === null) invalid('`exists` needs a field');
      if (w.applied.length > 0 || typeof raw !== 'boolean') invalid('`exists` takes true or false');
      return { kind: 'exists', value: raw };
    }
    case 'fieldref': {
      if (w.applied.length > 0 || typeof raw !== 'string') invalid('`fieldref` takes a field name');
      if (hasWildcards(parseSigmaString(raw))) invalid('a field reference cannot contain wildcards');
      return { kind: 'fieldref', field: raw, position: 'equals', cased: false };
    }
    default:
      return invalid(`unknown modifier \`${m}\``);
  }
}
