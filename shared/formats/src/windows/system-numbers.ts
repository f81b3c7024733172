/**
 * The numbers of a Windows event's System header that Sigma rules compare (`Level: 4`, `Keywords:
 * '0x8010000000000000'`, `Task`, `Opcode`), read exactly or not at all: one home for what each input
 * gives and for the rule that a number the input does not carry is left absent (null), never guessed.
 *
 * | input | Level | Keywords | Task | Opcode |
 * |---|---|---|---|---|
 * | evtx JSON (`Event.System`) | `Level` | `Keywords` (hex text, kept as written) | `Task` | `Opcode` |
 * | flat Windows (Security-Datasets' shapes) | `Level` | `Keywords`: hex text, or NXLog's signed 64-bit decimal | `Task` | NXLog's `OpcodeValue`, else a numeric `Opcode` |
 * | Winlogbeat / Elastic Agent | `winlog.level_raw` | `winlog.keywords_raw`, else Security-Auditing's one audit keyword name | `winlog.task_raw` | `winlog.opcode_raw` |
 *
 * What is left absent, and why:
 * - NXLog's `Severity`/`SeverityValue` are its own scale: Level 0 (LogAlways, every Security audit) and 4
 *   (Information) both become INFO/2, so Level cannot be read back; NXLog's `Opcode` is the opcode's name.
 * - Winlogbeat's `log.level` ("information"), `winlog.task` ("Logon") and `winlog.opcode` ("Info") are
 *   display names: localized, provider-defined (a task name maps to a number per provider manifest) and,
 *   for the level, shared by 0 and 4. The `_raw` numbers (Elastic's names for them, shipped by newer
 *   Elastic inputs) are read when present.
 * - Winlogbeat's `winlog.keywords` names the keyword bits, not the mask: "Audit Success" is
 *   0x8020000000000000 from Microsoft-Windows-Security-Auditing but 0x4020000000000000 from the Eventlog
 *   provider's 1102 in the same Security channel (the Security-Datasets have both). Only the
 *   Security-Auditing provider's list of exactly one audit name is mapped: its manifest defines no other
 *   keyword, and every such event in the datasets carries exactly 0x8020000000000000 or 0x8010000000000000.
 * - A JSON number past 2^53 (NXLog's Keywords: 0x8020000000000000 is -9214364837600034816) was rounded by
 *   the JSON parser; it is taken only when the record's own text has exactly that number's digits.
 * - A value of another form (a word, a fraction, out of range) is absent, not a refused record: the rest
 *   of the event is as good as before these fields were read.
 */

/** The four numbers as the event model keeps them (`winlog.level_raw`, ...): null where absent. */
export interface SystemNumbers {
  readonly level: number | null;
  readonly keywords: string | null;
  readonly task: number | null;
  readonly opcode: number | null;
}

export const NO_SYSTEM_NUMBERS: SystemNumbers = Object.freeze({
  level: null,
  keywords: null,
  task: null,
  opcode: null,
});

/** Level and Opcode are UINT8 in the event header, Task UINT16. */
export const MAX_LEVEL = 255;
export const MAX_OPCODE = 255;
export const MAX_TASK = 65535;

const DECIMAL = /^\d{1,10}$/;
const HEX_MASK = /^0[xX][0-9a-fA-F]{1,16}$/;
const SIGNED_DECIMAL = /^-?\d{1,20}$/;
const TWO_POW_64 = 1n << 64n;
const MIN_INT64 = -(1n << 63n);

/** An integer 0..max given as a JSON number or decimal text; null for anything else. */
export function systemInteger(v: unknown, max: number): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && DECIMAL.test(v)) n = Number(v);
  else return null;
  return Number.isInteger(n) && n >= 0 && n <= max ? n : null;
}

/** A 64-bit mask as hex text (`0x` and lower-case digits, no leading zeros), from its exact integer. */
function hexOf(mask: bigint): string | null {
  if (mask < MIN_INT64 || mask >= TWO_POW_64) return null;
  return `0x${BigInt.asUintN(64, mask).toString(16)}`;
}

/**
 * The Keywords mask as hex text: hex text as it is written (evtx, Windows' rendering), decimal text or
 * a JSON integer (signed, as NXLog writes it, or unsigned) converted. A JSON number beyond 2^53 is
 * taken only if `raw` (the record's bytes) holds `"<key>": <its exact digits>`; null otherwise.
 */
export function keywordsMask(v: unknown, raw?: Uint8Array, key?: string): string | null {
  if (typeof v === 'string') {
    if (HEX_MASK.test(v)) return v;
    return SIGNED_DECIMAL.test(v) ? hexOf(BigInt(v)) : null;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) return null;
  if (Number.isSafeInteger(v)) return hexOf(BigInt(v));
  if (raw === undefined || key === undefined) return null;
  const exact = unsafeMaskOf(v);
  return exact.hex !== null && writtenExactly(raw, key, exact.digits) ? exact.hex : null;
}

/** An integer double past 2^53: its exact decimal digits and its mask (null: outside 64 bits). */
interface UnsafeMask {
  readonly digits: string;
  readonly hex: string | null;
}

/**
 * The few masks a log uses (NXLog's Sysmon and Security records carry a handful), worked out once each:
 * BigInt arithmetic per record cost more than the rest of reading the numbers. Bounded: cleared when full.
 */
const UNSAFE_MASKS = new Map<number, UnsafeMask>();
const UNSAFE_MASKS_MAX = 256;

function unsafeMaskOf(v: number): UnsafeMask {
  let known = UNSAFE_MASKS.get(v);
  if (known === undefined) {
    const exact = BigInt(v);
    known = { digits: exact.toString(), hex: hexOf(exact) };
    if (UNSAFE_MASKS.size >= UNSAFE_MASKS_MAX) UNSAFE_MASKS.clear();
    UNSAFE_MASKS.set(v, known);
  }
  return known;
}

const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isJsonSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Whether `raw` holds the member `"key": digits` with exactly these digits (no more, no fraction or
 * exponent). A key inside a JSON string has its quotes escaped (`\"key\"`), so it is never taken for one.
 */
function writtenExactly(raw: Uint8Array, key: string, digits: string): boolean {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const quoted = quotedKey(key);
  for (let at = bytes.indexOf(quoted); at >= 0; at = bytes.indexOf(quoted, at + 1)) {
    let i = at + quoted.length;
    while (isJsonSpace(bytes[i])) i++;
    if (bytes[i] !== COLON) continue;
    i++;
    while (isJsonSpace(bytes[i])) i++;
    let same = true;
    for (let d = 0; d < digits.length && same; d++) same = bytes[i + d] === digits.charCodeAt(d);
    if (same && endsNumber(bytes[i + digits.length])) return true;
  }
  return false;
}

/** `"key"` as bytes, made once per key (the formats read two: `Keywords`, `keywords_raw`). */
const QUOTED_KEYS = new Map<string, Buffer>();

function quotedKey(key: string): Buffer {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) QUOTED_KEYS.set(key, (quoted = Buffer.from(`"${key}"`, 'latin1')));
  return quoted;
}

/** Whether the byte after a number's digits ends it there (no more digits, no fraction or exponent). */
function endsNumber(next: number | undefined): boolean {
  return (
    next === undefined ||
    !((next >= DIGIT_0 && next <= DIGIT_9) || next === 0x2e || next === 0x65 || next === 0x45)
  );
}

/** The Security log's own audit keyword masks, by Winlogbeat's (English) keyword name. */
const SECURITY_AUDIT_MASKS: ReadonlyMap<string, string> = new Map([
  ['Audit Success', '0x8020000000000000'],
  ['Audit Failure', '0x8010000000000000'],
]);

export const SECURITY_AUDITING_PROVIDER = 'Microsoft-Windows-Security-Auditing';

/**
 * Winlogbeat's `winlog.keywords` (names) as the mask, where the names determine it: an event of the
 * Security-Auditing provider naming exactly one audit keyword. Null for anything else.
 */
export function keywordsFromNames(names: unknown, provider: string | null): string | null {
  if (provider !== SECURITY_AUDITING_PROVIDER || !Array.isArray(names) || names.length !== 1) return null;
  const name: unknown = names[0];
  return typeof name === 'string' ? (SECURITY_AUDIT_MASKS.get(name) ?? null) : null;
}
