/**
 * The format registry: every source format by name, auto-detection for files, and the
 * `format:topic,...` bindings the normalizer is configured with.
 */
import { ConfigError, SequorError } from '@sequor/model';
import type { SourceFormat } from './types.js';
import { BINARY_EVTX_REASON, isBinaryEvtx, windowsFormats } from './windows/index.js';
import { zeekFormats } from './zeek/index.js';

/** All formats, in auto-detection order: Windows shapes first (JSON objects with Windows keys), then Zeek. */
export const allFormats: readonly SourceFormat[] = Object.freeze([...windowsFormats, ...zeekFormats]);

export const formatRegistry: ReadonlyMap<string, SourceFormat> = (() => {
  const m = new Map<string, SourceFormat>();
  for (const f of allFormats) {
    if (m.has(f.name)) throw new Error(`two source formats are named ${f.name}`);
    m.set(f.name, f);
  }
  return m;
})();

/** A format name nobody registered; lists the names that exist. */
export class UnknownFormatError extends SequorError {
  constructor(
    readonly formatName: string,
    readonly known: readonly string[],
  ) {
    super(`unknown source format ${JSON.stringify(formatName)}; known formats: ${known.join(', ')}`);
  }
}

export function formatNames(): string[] {
  return [...formatRegistry.keys()];
}

export function getFormat(name: string): SourceFormat {
  const f = formatRegistry.get(name);
  if (f === undefined) throw new UnknownFormatError(name, formatNames());
  return f;
}

/** The first format whose sniff accepts the line (order of `allFormats`); undefined when none does. */
export function detectFormat(firstLine: string): SourceFormat | undefined {
  for (const f of allFormats) if (f.sniff(firstLine)) return f;
  return undefined;
}

/** What `decideFileFormat` concluded from a file's first lines. */
export interface FileFormatDecision {
  /** Undefined when no format reads the file. */
  readonly format: SourceFormat | undefined;
  /** Data lines looked at (not blank, not a `#` directive). */
  readonly dataLines: number;
  /** Of those, how many the chosen format accepts (the rest will be dead-lettered like any bad line). */
  readonly votes: number;
  /** Why there is no format, for a one-line error (undefined when there is one). */
  readonly reason: string | undefined;
}

/**
 * The format of a file from its first lines. Blank lines never count. A Zeek TSV log's `#path` header
 * decides outright: every Zeek TSV log starts with `#separator`, which all the Zeek formats accept, and
 * only `#path` names the log. Otherwise every data line (up to `FORMAT_DETECTION_LINES` of them) is
 * sniffed as by `detectFormat` and the format accepting the most wins, ties to the one seen first: one
 * bad or odd first line does not decide for the whole file, it is dead-lettered like any other.
 *
 * ```ts
 * decideFileFormat(['#separator \\x09', '#set_separator\t,', '#path\tsmb_mapping']).format?.name; // 'zeek-smb-mapping'
 * decideFileFormat(['not json', '{"EventID":4624,"Channel":"Security"}']).format?.name; // 'flat-windows'
 * ```
 */
export function decideFileFormat(headLines: readonly string[]): FileFormatDecision {
  // Records that span lines (pretty-printed evtx JSON) are told by their first lines together.
  const multiLine = allFormats.find((f) => f.sniffHead?.(headLines) === true);
  if (multiLine !== undefined) return { format: multiLine, dataLines: 1, votes: 1, reason: undefined };
  const votes = new Map<SourceFormat, number>();
  let dataLines = 0;
  let firstData: string | undefined;
  for (const raw of headLines) {
    const line = raw.charCodeAt(0) === BYTE_ORDER_MARK ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    if (line.charCodeAt(0) === HASH) {
      if (!zeekPathLine.test(line)) continue;
      const zeek = detectFormat(line);
      const reason =
        zeek === undefined
          ? `a Zeek log of ${JSON.stringify(line.slice(6).trim().slice(0, 40))}, which no format reads`
          : undefined;
      return { format: zeek, dataLines, votes: 0, reason };
    }
    if (dataLines === FORMAT_DETECTION_LINES) break;
    dataLines++;
    firstData ??= line;
    const format = detectFormat(line);
    if (format !== undefined) votes.set(format, (votes.get(format) ?? 0) + 1);
  }
  let best: SourceFormat | undefined;
  let bestVotes = 0;
  // Map order is first-seen order, so a strict > keeps the earlier format on a tie.
  for (const [format, count] of votes) {
    if (count > bestVotes) [best, bestVotes] = [format, count];
  }
  if (best !== undefined) return { format: best, dataLines, votes: bestVotes, reason: undefined };
  const reason =
    firstData === undefined
      ? 'no data line (only blank lines or # comments)'
      : isBinaryEvtx(firstData)
        ? BINARY_EVTX_REASON
        : `no format reads any of its first ${dataLines} data line${dataLines === 1 ? '' : 's'} (first: ${JSON.stringify(firstData.slice(0, 60))})`;
  return { format: undefined, dataLines, votes: 0, reason };
}

/** `decideFileFormat(headLines).format`: the file's format, or undefined when nothing reads it. */
export function detectFileFormat(headLines: readonly string[]): SourceFormat | undefined {
  return decideFileFormat(headLines).format;
}

/**
 * How many data lines `decideFileFormat` votes on; blank lines and `#` directives (a Zeek TSV header is
 * 8 lines before its first row) come on top.
 */
export const FORMAT_DETECTION_LINES = 16;

const BYTE_ORDER_MARK = 0xfeff;
const HASH = 0x23;
const zeekPathLine = /^#path\s/;

export interface SourceBinding {
  readonly topic: string;
  readonly format: SourceFormat;
}

// Kafka's legal topic names: [a-zA-Z0-9._-], at most 249 characters.
const kafkaTopic = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Parses `format:topic[,format:topic...]`, e.g. `zeek-dce-rpc:zeek.dce_rpc,winlogbeat:winlogbeat`,
 * into one binding per topic. Errors are ConfigErrors naming `variable` and saying what is wrong:
 * an empty entry, a missing colon, an unknown format (with the known names), an illegal topic name,
 * or a topic bound twice.
 */
export function parseSourceBindings(spec: string, variable = 'SEQUOR_SOURCES'): SourceBinding[] {
  const bindings: SourceBinding[] = [];
  const seen = new Map<string, string>();
  const entries = spec.split(',').map((e) => e.trim());
  if (entries.length === 1 && entries[0] === '')
    throw new ConfigError(variable, spec, 'at least one format:topic binding');
  for (const entry of entries) {
    if (entry === '')
      throw new ConfigError(
        variable,
        spec,
        'format:topic entries separated by single commas (found an empty entry)',
      );
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1)
      throw new ConfigError(variable, spec, `format:topic, got ${JSON.stringify(entry)}`);
    const name = entry.slice(0, colon).trim();
    const topic = entry.slice(colon + 1).trim();
    const format = formatRegistry.get(name);
    if (format === undefined)
      throw new ConfigError(
        variable,
        spec,
        `a known format in ${JSON.stringify(entry)} (known: ${formatNames().join(', ')})`,
      );
    if (!kafkaTopic.test(topic))
      throw new ConfigError(
        variable,
        spec,
        `a Kafka topic name ([A-Za-z0-9._-], at most 249 characters) in ${JSON.stringify(entry)}`,
      );
    const previous = seen.get(topic);
    if (previous !== undefined)
      throw new ConfigError(
        variable,
        spec,
        `each topic bound once (${topic} is bound to ${previous} and ${name})`,
      );
    seen.set(topic, name);
    bindings.push({ topic, format });
  }
  return bindings;
}
