/**
 * The format registry: every source format by name, auto-detection for files, and the
 * `format:topic,...` bindings the normalizer is configured with.
 */
import { ConfigError, SequorError } from '@sequor/model';
import type { SourceFormat } from './types.js';
import { windowsFormats } from './windows/index.js';
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

/**
 * The format of a file from its first lines, up to and including its first data line. One line is not
 * always enough: every Zeek TSV log starts with `#separator`, which all the Zeek formats accept, and only
 * the `#path` header line further down names the log. So `#path` decides when present (only the Zeek
 * format of that path accepts it), other `#` directives and blank lines are skipped, and otherwise the
 * first data line is sniffed as by `detectFormat`. Undefined when nothing matches (a Zeek log of a path
 * no format reads, a JSON shape nobody knows).
 *
 * ```ts
 * detectFileFormat(['#separator \\x09', '#set_separator\t,', '#path\tsmb_mapping'])?.name; // 'zeek-smb-mapping'
 * ```
 */
export function detectFileFormat(headLines: readonly string[]): SourceFormat | undefined {
  for (const raw of headLines) {
    const line = raw.charCodeAt(0) === BYTE_ORDER_MARK ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    if (line.charCodeAt(0) === HASH) {
      if (zeekPathLine.test(line)) return detectFormat(line);
      continue;
    }
    return detectFormat(line);
  }
  return undefined;
}

/** How many lines `detectFileFormat` needs at most: a Zeek TSV header is 8 lines before its first row. */
export const FORMAT_DETECTION_LINES = 32;

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
  if (entries.length === 1 && entries[0] === '') throw new ConfigError(variable, spec, 'at least one format:topic binding');
  for (const entry of entries) {
    if (entry === '') throw new ConfigError(variable, spec, 'format:topic entries separated by single commas (found an empty entry)');
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) throw new ConfigError(variable, spec, `format:topic, got ${JSON.stringify(entry)}`);
    const name = entry.slice(0, colon).trim();
    const topic = entry.slice(colon + 1).trim();
    const format = formatRegistry.get(name);
    if (format === undefined) throw new ConfigError(variable, spec, `a known format in ${JSON.stringify(entry)} (known: ${formatNames().join(', ')})`);
    if (!kafkaTopic.test(topic)) throw new ConfigError(variable, spec, `a Kafka topic name ([A-Za-z0-9._-], at most 249 characters) in ${JSON.stringify(entry)}`);
    const previous = seen.get(topic);
    if (previous !== undefined) throw new ConfigError(variable, spec, `each topic bound once (${topic} is bound to ${previous} and ${name})`);
    seen.set(topic, name);
    bindings.push({ topic, format });
  }
  return bindings;
}
