/**
 * Zeek's ASCII (TSV) log format, read one line at a time. A log starts with directives that every
 * later data line depends on:
 *
 * ```
 * #separator \x09
 * #set_separator	,
 * #empty_field	(empty)
 * #unset_field	-
 * #path	dce_rpc
 * #open	2024-03-01-10-00-00
 * #fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	rtt	named_pipe	endpoint	operation
 * #types	time	string	addr	port	addr	port	interval	string	string	string
 * 1709287200.120000	CjhGID4nQcgTWjvg4c	10.0.0.23	49710	10.0.0.5	445	0.000412	\\PIPE\\winreg	winreg	BaseRegCreateKey
 * #close	2024-03-01-11-00-00
 * ```
 *
 * so a reader is stateful per stream. Zeek escapes, in values, the separator and any unprintable byte
 * as `\xHH` and a backslash as `\\`; a value equal to the unset (`-`) or empty (`(empty)`) marker is
 * written escaped too, so the markers are recognised on the raw text before unescaping.
 */
import { ZeekRecordError } from './errors.js';

/** The directives in force for the data lines that follow them. Immutable: a new directive makes a new header. */
export interface ZeekTsvHeader {
  readonly separator: string;
  readonly setSeparator: string;
  readonly emptyField: string;
  readonly unsetField: string;
  readonly path: string | null;
  /** Column names from `#fields`; empty until that directive is seen. */
  readonly fields: readonly string[];
  /** Column types from `#types`, when present. */
  readonly types: readonly string[] | null;
}

/** One line read: a directive or comment (no data), or a data line split into raw (still escaped) values. */
export type ZeekTsvLine =
  | { readonly kind: 'directive'; readonly name: string }
  | { readonly kind: 'data'; readonly header: ZeekTsvHeader; readonly values: readonly string[] };

const DEFAULT_HEADER: ZeekTsvHeader = {
  separator: '\t',
  setSeparator: ',',
  emptyField: '(empty)',
  unsetField: '-',
  path: null,
  fields: [],
  types: null,
};

const utf8 = new TextDecoder('utf-8');

/**
 * Undoes Zeek's value escaping: `\xHH` is one byte, `\\` one backslash; any other backslash is kept
 * as written (Zeek before 3.0 did not escape backslashes). Escaped bytes are UTF-8 (Zeek escapes each
 * byte of a non-ASCII character), so the result is decoded as UTF-8.
 */
export function unescapeZeek(raw: string): string {
  let at = raw.indexOf('\\');
  if (at < 0) return raw;
  let hasHexEscape = false;
  let out = raw.slice(0, at);
  while (at < raw.length) {
    const c = raw.charCodeAt(at);
    if (c === 0x5c /* \ */) {
      const next = raw.charCodeAt(at + 1);
      if (next === 0x5c) {
        out += '\\';
        at += 2;
        continue;
      }
      if (next === 0x78 /* x */ && isHex(raw.charCodeAt(at + 2)) && isHex(raw.charCodeAt(at + 3))) {
        // Keep escaped bytes as latin-1 code units for now; decoded as UTF-8 below.
        out += String.fromCharCode(parseInt(raw.slice(at + 2, at + 4), 16));
        hasHexEscape = true;
        at += 4;
        continue;
      }
    }
    out += raw[at];
    at += 1;
  }
  return hasHexEscape ? decodeLatin1AsUtf8(out) : out;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** `text` holds escaped bytes as code units < 256 beside literal text; non-ASCII bytes are UTF-8. */
function decodeLatin1AsUtf8(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A literal non-ASCII character (LogAscii::enable_utf_8) cannot be viewed as bytes: keep the text.
    if (c > 0xff) return text;
    if (c > 0x7f) ascii = false;
  }
  if (ascii) return text;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return utf8.decode(bytes);
}

/**
 * Reads one stream's lines. Directives update the header (a `#separator` line starts a new log and
 * resets it; `#close` ends one); data lines are split by the current separator and checked against
 * `#fields`. Throws ZeekRecordError `bad-header` for a data line with no `#fields` in force, and
 * `column-count` for a data line whose value count differs from it.
 */
export class ZeekTsvReader {
  private current: ZeekTsvHeader = DEFAULT_HEADER;
  private closed = false;

  /** The directives in force (for tests and diagnostics). */
  get header(): ZeekTsvHeader {
    return this.current;
  }

  /** The header data lines depend on now: null before `#fields` and after `#close`. */
  get activeHeader(): ZeekTsvHeader | null {
    return this.current.fields.length === 0 ? null : this.current;
  }

  /** Continues a stream whose header was read by another reader (`activeHeader` of it). */
  restore(header: ZeekTsvHeader): void {
    this.current = header;
    this.closed = false;
  }

  read(line: string): ZeekTsvLine {
    if (line.charCodeAt(0) === 0x23 /* # */) return this.directive(line);
    const header = this.current;
    if (header.fields.length === 0) {
      throw new ZeekRecordError(
        'bad-header',
        this.closed
          ? 'data line after #close and before a new #fields header'
          : 'data line before any #fields header',
      );
    }
    const values = line.split(header.separator);
    if (values.length !== header.fields.length) {
      throw new ZeekRecordError(
        'column-count',
        `${values.length} values for ${header.fields.length} #fields columns${header.path === null ? '' : ` (#path ${header.path})`}`,
      );
    }
    return { kind: 'data', header, values };
  }

  private directive(line: string): ZeekTsvLine {
    // `#separator` is written with a space and an escaped value, since the separator is not known yet.
    if (line.startsWith('#separator ')) {
      const separator = unescapeZeek(line.slice('#separator '.length));
      if (separator.length === 0) throw new ZeekRecordError('bad-header', '#separator with an empty value');
      this.current = { ...DEFAULT_HEADER, separator };
      this.closed = false;
      return { kind: 'directive', name: 'separator' };
    }
    const parts = line.split(this.current.separator);
    const name = (parts[0] ?? '').slice(1);
    const first = parts[1];
    switch (name) {
      case 'set_separator':
      case 'empty_field':
      case 'unset_field':
      case 'path': {
        if (first === undefined) throw new ZeekRecordError('bad-header', `#${name} without a value`);
        const value = unescapeZeek(first);
        const key =
          name === 'set_separator'
            ? 'setSeparator'
            : name === 'empty_field'
              ? 'emptyField'
              : name === 'unset_field'
                ? 'unsetField'
                : 'path';
        this.current = { ...this.current, [key]: value };
        break;
      }
      case 'fields': {
        const fields = parts.slice(1);
        if (fields.length === 0 || fields.some((f) => f.length === 0)) {
          throw new ZeekRecordError('bad-header', '#fields without column names');
        }
        if (new Set(fields).size !== fields.length)
          throw new ZeekRecordError('bad-header', '#fields names a column twice');
        this.current = { ...this.current, fields, types: null };
        this.closed = false;
        break;
      }
      case 'types': {
        const types = parts.slice(1);
        if (types.length !== this.current.fields.length) {
          throw new ZeekRecordError(
            'bad-header',
            `#types has ${types.length} entries for ${this.current.fields.length} #fields columns`,
          );
        }
        this.current = { ...this.current, types };
        break;
      }
      case 'close':
        this.current = { ...this.current, fields: [], types: null };
        this.closed = true;
        break;
      default:
        // `#open` and comments carry nothing a data line needs.
        break;
    }
    return { kind: 'directive', name };
  }
}
