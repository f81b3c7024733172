import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decideFileFormat, detectFileFormat, detectFormat, FORMAT_DETECTION_LINES } from '../src/index.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/zeek');
const head = (file: string): string[] =>
  readFileSync(path.join(fixtures, file), 'utf8').split('\n').slice(0, FORMAT_DETECTION_LINES);

describe('detectFileFormat', () => {
  it('names each Zeek TSV log by its #path line, where the first line alone cannot', () => {
    // Every Zeek TSV log starts with the same #separator line: the first Zeek format claims them all.
    expect(detectFormat(head('smb_mapping.log')[0] as string)?.name).toBe('zeek-dce-rpc');
    expect(detectFileFormat(head('dce_rpc.log'))?.name).toBe('zeek-dce-rpc');
    expect(detectFileFormat(head('smb_mapping.log'))?.name).toBe('zeek-smb-mapping');
    expect(detectFileFormat(head('smb_files.log'))?.name).toBe('zeek-smb-files');
    expect(detectFileFormat(head('conn.log'))?.name).toBe('zeek-conn');
  });

  it('reads Zeek JSON logs and Windows JSON from their first data line', () => {
    expect(detectFileFormat(head('smb_files.json'))?.name).toBe('zeek-smb-files');
    expect(detectFileFormat(head('conn.json'))?.name).toBe('zeek-conn');
    expect(
      detectFileFormat(['', '{"EventID":4624,"Channel":"Security","@timestamp":"2020-01-01T00:00:00Z"}'])
        ?.name,
    ).toBe('flat-windows');
    expect(
      detectFileFormat([
        '\ufeff{"@timestamp":"2020-01-01T00:00:00Z","winlog":{"channel":"Security","event_id":4624}}',
      ])?.name,
    ).toBe('winlogbeat');
  });

  it('reads a Zeek log of a path no per-log format reads with the zeek (any log) format', () => {
    expect(
      detectFileFormat(['#separator \\x09', '#set_separator\t,', '#path\thttp', '#fields\tts\tuid'])?.name,
    ).toBe('zeek');
    expect(detectFileFormat(['{"_path":"dns","ts":1.5,"uid":"C1","query":"a.example"}'])?.name).toBe('zeek');
    // JSON records that name their log may mix logs: all of them vote for zeek, conn's too.
    const conn = '{"_path":"conn","ts":1.5,"uid":"C1","proto":"tcp","conn_state":"SF"}';
    expect(
      detectFileFormat([conn, conn, '{"_path":"dns","ts":1.6,"uid":"C2","query":"a.example"}'])?.name,
    ).toBe('zeek');
    expect(detectFileFormat([conn.replace('"_path":"conn",', '')])?.name).toBe('zeek-conn');
  });

  it('gives undefined for a Zeek log with an empty #path, unknown JSON, or no data line', () => {
    expect(
      detectFileFormat(['#separator \\x09', '#set_separator\t,', '#path\t', '#fields\tts\tuid']),
    ).toBeUndefined();
    expect(detectFileFormat(['{"hello":"world"}'])).toBeUndefined();
    expect(detectFileFormat(['#separator \\x09', '#open\t2024-01-01-00-00-00'])).toBeUndefined();
    expect(detectFileFormat([])).toBeUndefined();
  });
});

describe('decideFileFormat on hostile heads', () => {
  const flat = '{"EventID":4624,"Channel":"Security","@timestamp":"2020-01-01T00:00:00Z"}';

  it('skips any number of blank lines before the data', () => {
    expect(detectFileFormat([...Array<string>(100).fill(''), '  ', '\r', flat])?.name).toBe('flat-windows');
  });

  it('is not decided by one bad first line: the data lines vote, the bad line is left to be dead-lettered', () => {
    const decision = decideFileFormat(['not json at all', flat, flat, '{"broken":']);
    expect(decision.format?.name).toBe('flat-windows');
    expect(decision).toMatchObject({ dataLines: 4, votes: 2 });
  });

  it('goes with the majority, ties to the first seen', () => {
    const ecs = '{"@timestamp":"2020-01-01T00:00:00Z","event":{"kind":"event"},"file":{"path":"x"}}';
    expect(detectFileFormat([ecs, flat, flat])?.name).toBe('flat-windows');
    expect(detectFileFormat([ecs, flat])?.name).toBe('ecs');
  });

  it('says why when nothing reads the file', () => {
    expect(decideFileFormat(['dear diary', 'day two']).reason).toBe(
      'no format reads any of its first 2 data lines (first: "dear diary")',
    );
    expect(decideFileFormat(['', '# just a comment']).reason).toBe(
      'no data line (only blank lines or # comments)',
    );
    expect(decideFileFormat(['#separator \\x09', '#path\t ']).reason).toBe(
      'a Zeek log of "", which no format reads',
    );
  });

  it('reads an ECS document with a winlog object but no winlog.channel as ECS, not Winlogbeat', () => {
    const ecs =
      '{"@timestamp":"2020-01-01T00:00:00Z","event":{"category":["process"]},"process":{"name":"a.exe"},"winlog":{"event_id":"1"}}';
    expect(detectFormat(ecs)?.name).toBe('ecs');
    const winlogbeat =
      '{"@timestamp":"2020-01-01T00:00:00Z","event":{"code":"4624"},"winlog":{"channel":"Security","event_id":4624}}';
    expect(detectFormat(winlogbeat)?.name).toBe('winlogbeat');
  });
});
