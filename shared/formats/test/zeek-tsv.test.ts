import { describe, expect, it } from 'vitest';
import { column } from '../src/zeek/columns.js';
import { ZeekRecordError } from '../src/zeek/errors.js';
import { compileTsvPlan, parseZeekJson, rowFromJson, rowFromTsv } from '../src/zeek/rows.js';
import type { ZeekTsvLine } from '../src/zeek/tsv.js';
import { ZeekTsvReader, unescapeZeek } from '../src/zeek/tsv.js';
import { parseTimeNumber, parseTimeText } from '../src/zeek/values.js';

const T = '\t';
const standardHeader = [
  '#separator \\x09',
  `#set_separator${T},`,
  `#empty_field${T}(empty)`,
  `#unset_field${T}-`,
  `#path${T}test`,
  `#open${T}2024-03-01-10-00-00`,
];

function readAll(reader: ZeekTsvReader, lines: readonly string[]): ZeekTsvLine[] {
  return lines.map((l) => reader.read(l));
}

function thrown(fn: () => unknown): ZeekRecordError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ZeekRecordError) return err;
    throw err;
  }
  throw new Error('expected a ZeekRecordError');
}

describe('unescapeZeek', () => {
  it('returns text without backslashes unchanged', () => {
    expect(unescapeZeek('winreg')).toBe('winreg');
  });

  it('turns \\\\ into one backslash (Zeek escapes backslashes since 3.0)', () => {
    expect(unescapeZeek('\\\\PIPE\\\\winreg')).toBe('\\PIPE\\winreg');
    expect(unescapeZeek('\\\\\\\\10.0.0.5\\\\IPC$')).toBe('\\\\10.0.0.5\\IPC$');
  });

  it('turns \\xHH into its byte, the separator included', () => {
    expect(unescapeZeek('a\\x09b')).toBe('a\tb');
    expect(unescapeZeek('\\x2d')).toBe('-');
    expect(unescapeZeek('\\x28empty)')).toBe('(empty)');
  });

  it('decodes escaped bytes of a non-ASCII character as UTF-8', () => {
    expect(unescapeZeek('caf\\xc3\\xa9')).toBe('café');
    expect(unescapeZeek('\\xe2\\x82\\xac5')).toBe('€5');
  });

  it('keeps a backslash that starts no escape (older Zeek wrote them raw)', () => {
    expect(unescapeZeek('\\PIPE\\winreg')).toBe('\\PIPE\\winreg');
    expect(unescapeZeek('bad\\xZZ')).toBe('bad\\xZZ');
    expect(unescapeZeek('end\\')).toBe('end\\');
  });
});

describe('ZeekTsvReader', () => {
  it('reads the standard directives into the header and returns them as directives', () => {
    const reader = new ZeekTsvReader();
    const lines = readAll(reader, [...standardHeader, `#fields${T}ts${T}uid`, `#types${T}time${T}string`]);
    expect(lines.every((l) => l.kind === 'directive')).toBe(true);
    expect(lines.map((l) => (l.kind === 'directive' ? l.name : ''))).toEqual([
      'separator',
      'set_separator',
      'empty_field',
      'unset_field',
      'path',
      'open',
      'fields',
      'types',
    ]);
    expect(reader.header).toEqual({
      separator: '\t',
      setSeparator: ',',
      emptyField: '(empty)',
      unsetField: '-',
      path: 'test',
      fields: ['ts', 'uid'],
      types: ['time', 'string'],
    });
  });

  it('splits a data line by the separator and keeps values escaped', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, [...standardHeader, `#fields${T}ts${T}name`]);
    const line = reader.read(`1.5${T}a\\x09b`);
    expect(line.kind).toBe('data');
    expect(line.kind === 'data' && line.values).toEqual(['1.5', 'a\\x09b']);
  });

  it('follows a non-tab separator and custom markers', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, [
      '#separator \\x7c',
      '#set_separator|;',
      '#empty_field|EMPTY',
      '#unset_field|NONE',
      '#fields|ts|tags',
    ]);
    expect(reader.header.separator).toBe('|');
    expect(reader.header.setSeparator).toBe(';');
    expect(reader.header.emptyField).toBe('EMPTY');
    expect(reader.header.unsetField).toBe('NONE');
    const line = reader.read('1.0|a;b');
    expect(line.kind === 'data' && line.values).toEqual(['1.0', 'a;b']);
  });

  it('rejects a data line before any #fields as bad-header', () => {
    const reader = new ZeekTsvReader();
    expect(thrown(() => reader.read(`1.0${T}x`)).reason).toBe('bad-header');
    readAll(reader, standardHeader);
    expect(thrown(() => reader.read(`1.0${T}x`)).reason).toBe('bad-header');
  });

  it('rejects a data line with the wrong number of values as column-count', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, [...standardHeader, `#fields${T}ts${T}uid${T}x`]);
    const err = thrown(() => reader.read(`1.0${T}C1`));
    expect(err.reason).toBe('column-count');
    expect(err.message).toContain('2 values for 3 #fields columns');
    expect(thrown(() => reader.read(`1.0${T}C1${T}a${T}b`)).reason).toBe('column-count');
  });

  it('forgets #fields at #close and takes a new header after it', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, [
      ...standardHeader,
      `#fields${T}ts${T}uid`,
      `1.0${T}C1`,
      `#close${T}2024-03-01-11-00-00`,
    ]);
    const err = thrown(() => reader.read(`2.0${T}C2`));
    expect(err.reason).toBe('bad-header');
    expect(err.message).toContain('#close');
    readAll(reader, [...standardHeader, `#fields${T}ts${T}uid${T}extra`]);
    expect(reader.read(`3.0${T}C3${T}x`).kind).toBe('data');
  });

  it('starts a new log at #separator: earlier directives no longer apply', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, ['#separator \\x7c', '#unset_field|NONE', '#fields|ts|uid']);
    reader.read('#separator \\x09');
    expect(reader.header.unsetField).toBe('-');
    expect(reader.header.fields).toEqual([]);
    expect(thrown(() => reader.read(`1.0${T}C1`)).reason).toBe('bad-header');
  });

  it('rejects #types that do not match #fields, and duplicate column names', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, [...standardHeader, `#fields${T}ts${T}uid`]);
    expect(thrown(() => reader.read(`#types${T}time`)).reason).toBe('bad-header');
    expect(thrown(() => reader.read(`#fields${T}ts${T}ts`)).reason).toBe('bad-header');
  });

  it('returns other comment lines as directives', () => {
    const reader = new ZeekTsvReader();
    expect(reader.read('# written by hand')).toEqual({ kind: 'directive', name: ' written by hand' });
  });
});

describe('typed rows', () => {
  const columns = [
    column('ts', 'time', { required: true }),
    column('port', 'port', { names: ['id.resp_p'] }),
    column('name', 'string', { names: ['name', 'alias'] }),
    column('size', 'count'),
    column('rtt', 'interval'),
    column('ok', 'bool'),
    column('tags', 'set[string]'),
  ] as const;

  function plannedReader(
    fields: string,
    types?: string,
  ): { reader: ZeekTsvReader; read: (line: string) => unknown } {
    const reader = new ZeekTsvReader();
    readAll(reader, [
      ...standardHeader,
      `#fields${T}${fields}`,
      ...(types === undefined ? [] : [`#types${T}${types}`]),
    ]);
    const plan = compileTsvPlan(reader.header, columns);
    return {
      reader,
      read: (line) => {
        const l = reader.read(line);
        if (l.kind !== 'data') throw new Error('not data');
        return rowFromTsv(columns, plan, l.values);
      },
    };
  }

  it('converts each column by its type; - is unset, (empty) an empty string or set', () => {
    const { read } = plannedReader(['ts', 'id.resp_p', 'name', 'size', 'rtt', 'ok', 'tags'].join(T));
    expect(read(['1709287200.120000', '445', 'a\\\\b', '16', '0.000412', 'T', 'x,y\\x2cz'].join(T))).toEqual({
      ts: 1709287200120000,
      port: 445,
      name: 'a\\b',
      size: 16,
      rtt: 0.000412,
      ok: true,
      tags: ['x', 'y,z'],
    });
    expect(read(['1.0', '-', '(empty)', '-', '-', 'F', '(empty)'].join(T))).toEqual({
      ts: 1000000,
      port: null,
      name: '',
      size: null,
      rtt: null,
      ok: false,
      tags: [],
    });
  });

  it('reads an escaped marker as the literal text, not as unset', () => {
    const { read } = plannedReader(`ts${T}name`);
    expect(read(`1.0${T}\\x2d`)).toMatchObject({ name: '-' });
    expect(read(`1.0${T}\\x28empty)`)).toMatchObject({ name: '(empty)' });
  });

  it('leaves a column the header lacks unset, and finds a column under its alternative name', () => {
    const { read } = plannedReader(`ts${T}alias`);
    expect(read(`1.0${T}pipe`)).toEqual({
      ts: 1000000,
      port: null,
      name: 'pipe',
      size: null,
      rtt: null,
      ok: null,
      tags: null,
    });
  });

  it('rejects a header without a required column, or with an incompatible #types entry', () => {
    const reader = new ZeekTsvReader();
    readAll(reader, [...standardHeader, `#fields${T}uid`]);
    const missing = thrown(() => compileTsvPlan(reader.header, columns));
    expect(missing.reason).toBe('bad-header');
    expect(missing.message).toContain('#fields lacks ts');
    readAll(reader, [`#fields${T}ts${T}id.resp_p`, `#types${T}time${T}count`]);
    const typed = thrown(() => compileTsvPlan(reader.header, columns));
    expect(typed.reason).toBe('bad-header');
    expect(typed.message).toBe('#types gives id.resp_p type count, expected port');
  });

  it('rejects values that are not of their type as wrong-type, a required unset value as missing-field', () => {
    const { read } = plannedReader(`ts${T}id.resp_p${T}size${T}ok`);
    expect(thrown(() => read(`yesterday${T}445${T}1${T}T`)).reason).toBe('wrong-type');
    const port = thrown(() => read(`1.0${T}http${T}1${T}T`));
    expect(port.reason).toBe('wrong-type');
    expect(port.message).toContain('id.resp_p');
    expect(thrown(() => read(`1.0${T}70000${T}1${T}T`)).reason).toBe('wrong-type');
    expect(thrown(() => read(`1.0${T}445${T}-1${T}T`)).reason).toBe('wrong-type');
    expect(thrown(() => read(`1.0${T}445${T}1${T}yes`)).reason).toBe('wrong-type');
    expect(thrown(() => read(`1.0${T}(empty)${T}1${T}T`)).reason).toBe('wrong-type');
    expect(thrown(() => read(`-${T}445${T}1${T}T`)).reason).toBe('missing-field');
  });

  it('reads JSON values by Zeek field name, with the same types', () => {
    const row = rowFromJson(
      columns,
      parseZeekJson(
        '{"ts":1709287200.12,"id.resp_p":445,"alias":"p","size":16,"rtt":0.000412,"ok":true,"tags":["x","y,z"]}',
      ),
    );
    expect(row).toEqual({
      ts: 1709287200120000,
      port: 445,
      name: 'p',
      size: 16,
      rtt: 0.000412,
      ok: true,
      tags: ['x', 'y,z'],
    });
    expect(rowFromJson(columns, parseZeekJson('{"ts":1.0,"name":null}'))).toMatchObject({
      name: null,
      port: null,
    });
  });

  it('rejects JSON values of the wrong JSON type, a missing required key, and non-objects', () => {
    expect(thrown(() => rowFromJson(columns, parseZeekJson('{"ts":1.0,"id.resp_p":"445"}'))).reason).toBe(
      'wrong-type',
    );
    expect(thrown(() => rowFromJson(columns, parseZeekJson('{"ts":1.0,"tags":[1]}'))).reason).toBe(
      'wrong-type',
    );
    const missing = thrown(() => rowFromJson(columns, parseZeekJson('{"uid":"C1"}')));
    expect(missing.reason).toBe('missing-field');
    expect(missing.message).toBe('ts is missing');
    expect(thrown(() => parseZeekJson('{"ts":')).reason).toBe('malformed');
    expect(thrown(() => parseZeekJson('[1,2]')).reason).toBe('malformed');
  });
});

describe('Zeek times', () => {
  it('reads epoch seconds exactly, to the microsecond', () => {
    expect(parseTimeText('ts', '1709287200.331000')).toBe(1709287200331000);
    expect(parseTimeText('ts', '1347446180.330312')).toBe(1347446180330312);
    expect(parseTimeText('ts', '1709287200')).toBe(1709287200000000);
    expect(parseTimeText('ts', '1709287200.1234567')).toBe(1709287200123456);
  });

  it('gives a JSON number the same micros as its TSV text', () => {
    for (const text of ['1709287200.331000', '1347446180.330312', '1709287200.000001', '1709287290.330000']) {
      expect(parseTimeNumber('ts', Number(text))).toBe(parseTimeText('ts', text));
    }
  });

  it('reads ISO-8601 (LogAscii::json_timestamps=JSON::TS_ISO8601), Z or offset', () => {
    expect(parseTimeText('ts', '2024-03-01T10:00:00.120000Z')).toBe(1709287200120000);
    expect(parseTimeText('ts', '2024-03-01T11:00:00.120000+01:00')).toBe(1709287200120000);
    expect(parseTimeText('ts', '2024-03-01T10:00:00Z')).toBe(1709287200000000);
  });

  it('rejects anything else', () => {
    for (const bad of ['', 'now', '2024-03-01 10:00:00', '2024-13-01T10:00:00Z', '1709287200.', '0x10']) {
      expect(thrown(() => parseTimeText('ts', bad)).reason).toBe('wrong-type');
    }
    expect(thrown(() => parseTimeNumber('ts', Number.NaN)).reason).toBe('wrong-type');
  });
});
