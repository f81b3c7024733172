/**
 * The `zeek` format: any Zeek log by its `#path` / `_path`, with every field in `zeek.fields` and the
 * common ECS fields, the same event from TSV and JSON. Headers follow Zeek's own dns/x509 baselines
 * (zeek/zeek testing/btest/Baseline/scripts.base.protocols.dns, .ssl x509); the values are made up.
 */
import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import type { RecordDecoder } from '../src/index.js';
import { NormalizeError, getFormat } from '../src/index.js';

const T = '\t';
const encoder = new TextEncoder();

function decodeAll(formatName: string, lines: readonly string[], decoder?: RecordDecoder): SequorEvent[] {
  const d = decoder ?? getFormat(formatName).createDecoder();
  return lines.flatMap((line, offset) =>
    d.decode(encoder.encode(line), { topic: 'zeek', partition: 0, offset }),
  );
}

function header(path: string, fields: readonly string[], types: readonly string[]): string[] {
  return [
    '#separator \\x09',
    `#set_separator${T},`,
    `#empty_field${T}(empty)`,
    `#unset_field${T}-`,
    `#path${T}${path}`,
    `#open${T}2024-03-01-10-00-00`,
    `#fields${T}${fields.join(T)}`,
    `#types${T}${types.join(T)}`,
  ];
}

const dnsFields = [
  'ts',
  'uid',
  'id.orig_h',
  'id.orig_p',
  'id.resp_h',
  'id.resp_p',
  'proto',
  'trans_id',
  'rtt',
  'query',
  'qclass',
  'qclass_name',
  'qtype',
  'qtype_name',
  'rcode',
  'rcode_name',
  'AA',
  'TC',
  'RD',
  'RA',
  'Z',
  'answers',
  'TTLs',
  'rejected',
];
const dnsTypes = [
  'time',
  'string',
  'addr',
  'port',
  'addr',
  'port',
  'enum',
  'count',
  'interval',
  'string',
  'count',
  'string',
  'count',
  'string',
  'count',
  'string',
  'bool',
  'bool',
  'bool',
  'bool',
  'count',
  'vector[string]',
  'vector[interval]',
  'bool',
];
const dnsLine = [
  '1709287200.500000',
  'CHhAvVGS1DHFjwGM9',
  '10.0.0.23',
  '53412',
  '10.0.0.2',
  '53',
  'udp',
  '31062',
  '0.000210',
  'seed3.nkn.org',
  '1',
  'C_INTERNET',
  '1',
  'A',
  '0',
  'NOERROR',
  'F',
  'F',
  'T',
  'T',
  '1',
  '104.16.1.1,104.16.2.1',
  '300.000000,300.000000',
  'F',
].join(T);
const dnsJson = JSON.stringify({
  _path: 'dns',
  ts: 1709287200.5,
  uid: 'CHhAvVGS1DHFjwGM9',
  'id.orig_h': '10.0.0.23',
  'id.orig_p': 53412,
  'id.resp_h': '10.0.0.2',
  'id.resp_p': 53,
  proto: 'udp',
  trans_id: 31062,
  rtt: 0.00021,
  query: 'seed3.nkn.org',
  qclass: 1,
  qclass_name: 'C_INTERNET',
  qtype: 1,
  qtype_name: 'A',
  rcode: 0,
  rcode_name: 'NOERROR',
  AA: false,
  TC: false,
  RD: true,
  RA: true,
  Z: 1,
  answers: ['104.16.1.1', '104.16.2.1'],
  TTLs: [300.0, 300.0],
  rejected: false,
});

const x509Fields = [
  'ts',
  'fingerprint',
  'certificate.version',
  'certificate.serial',
  'certificate.subject',
  'certificate.not_valid_before',
  'san.dns',
  'basic_constraints.ca',
];
const x509Types = ['time', 'string', 'count', 'string', 'string', 'time', 'vector[string]', 'bool'];
const x509Line = [
  '1709287201.000000',
  'a1b2c3',
  '3',
  '8BB00EE',
  'CN=Major Cobalt Strike,O=cobaltstrike',
  '1431561600.000000',
  '-',
  'F',
].join(T);

describe('the zeek format (any Zeek log)', () => {
  it('reads a dns.log line: every field by Zeek’s name, the ECS fields, the same event from TSV and JSON', () => {
    const [tsv] = decodeAll('zeek', [...header('dns', dnsFields, dnsTypes), dnsLine]);
    const [json] = decodeAll('zeek', [dnsJson]);
    expect(tsv).toBeDefined();
    const event = tsv as SequorEvent;
    expect(event.timestamp).toBe(1709287200500);
    expect(event.event.dataset).toBe('zeek.dns');
    expect(event.event.provider).toBe('zeek');
    expect(event.source).toEqual({ ip: '10.0.0.23', port: 53412, bytes: null });
    expect(event.destination).toEqual({ ip: '10.0.0.2', port: 53, bytes: null });
    expect(event.network).toEqual({ transport: 'udp', protocol: 'dns', connection_id: 'CHhAvVGS1DHFjwGM9' });
    expect(event.host).toEqual({ id: 'ip:10.0.0.2', name: null, ip: ['10.0.0.2'] });
    expect(event.origin.format).toBe('zeek');
    expect(event.zeek?.fields).toMatchObject({
      query: 'seed3.nkn.org',
      'id.resp_p': '53',
      Z: '1',
      qtype_name: 'A',
      answers: '104.16.1.1,104.16.2.1',
      TTLs: '300,300',
      rtt: '0.00021',
      rejected: 'false',
      RD: 'true',
    });
    const { _path, ...jsonFields } = (json as SequorEvent).zeek?.fields ?? {};
    expect(_path).toBe('dns');
    expect(jsonFields).toEqual(event.zeek?.fields);
    expect({ ...json, zeek: null, origin: null }).toEqual({ ...event, zeek: null, origin: null });
  });

  it('gives two records of one connection two ids, and one record one id from TSV and JSON', () => {
    const other = dnsLine.replace('seed3.nkn.org', 'example.org');
    const events = decodeAll('zeek', [...header('dns', dnsFields, dnsTypes), dnsLine, other]);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(2);
    // JSON keys in another order than Zeek writes them: the same record, the same id.
    const reordered = JSON.stringify(
      Object.fromEntries(Object.entries(JSON.parse(dnsJson) as object).reverse()),
    );
    expect(decodeAll('zeek', [reordered])[0]?.event.id).toBe(events[0]?.event.id);
  });

  it('reads a log without a connection (x509): no addresses, no host, its dotted names kept', () => {
    const [event] = decodeAll('zeek', [...header('x509', x509Fields, x509Types), x509Line]);
    expect(event?.event.dataset).toBe('zeek.x509');
    expect(event?.host).toBeNull();
    expect(event?.source).toBeNull();
    expect(event?.network).toBeNull();
    expect(event?.zeek?.fields).toEqual({
      ts: '1709287201',
      fingerprint: 'a1b2c3',
      'certificate.version': '3',
      'certificate.serial': '8BB00EE',
      'certificate.subject': 'CN=Major Cobalt Strike,O=cobaltstrike',
      'certificate.not_valid_before': '1431561600',
      'basic_constraints.ca': 'false',
    });
  });

  it('reads the logs with a mapping of their own by it: the same event as their own format', () => {
    const conn = [
      ...header(
        'conn',
        [
          'ts',
          'uid',
          'id.orig_h',
          'id.orig_p',
          'id.resp_h',
          'id.resp_p',
          'proto',
          'service',
          'duration',
          'orig_bytes',
          'resp_bytes',
        ],
        ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count'],
      ),
      [
        '1709287200.000000',
        'C1',
        '10.0.0.23',
        '49710',
        '10.0.0.5',
        '445',
        'tcp',
        'smb',
        '1.5',
        '100',
        '200',
      ].join(T),
    ];
    const [any] = decodeAll('zeek', conn);
    const [own] = decodeAll('zeek-conn', conn);
    expect({ ...any, origin: null }).toEqual({ ...own, origin: null });
    expect(any?.event.duration).toBe(1_500_000_000);
    // A JSON record without _path is named by the mapped log's keys.
    const json = JSON.stringify({
      ts: 1709287200,
      uid: 'C1',
      'id.orig_h': '10.0.0.23',
      'id.orig_p': 49710,
      'id.resp_h': '10.0.0.5',
      'id.resp_p': 445,
      proto: 'tcp',
      conn_state: 'SF',
    });
    expect(decodeAll('zeek', [json])[0]?.event.dataset).toBe('zeek.conn');
  });

  it('resumes a stream from its checkpoint: the header, and so the log, carry over', () => {
    const first = getFormat('zeek').createDecoder();
    const [before] = decodeAll('zeek', [...header('dns', dnsFields, dnsTypes), dnsLine], first);
    const checkpoint = first.checkpoint?.();
    expect(checkpoint).toBeDefined();
    const second = getFormat('zeek').createDecoder();
    expect(second.resume?.(checkpoint as string)).toBe(true);
    const [after] = decodeAll('zeek', [dnsLine], second);
    expect(after?.event.dataset).toBe('zeek.dns');
    expect(after?.event.id).toBe(before?.event.id);
  });

  it('refuses a record whose log it cannot name, and a path that is not one', () => {
    const error = (lines: readonly string[]): NormalizeError => {
      try {
        decodeAll('zeek', lines);
      } catch (err) {
        if (err instanceof NormalizeError) return err;
        throw err;
      }
      throw new Error('expected a NormalizeError');
    };
    expect(error(['{"ts":1.5,"uid":"C1","query":"a.example"}']).reason).toBe('missing-field');
    expect(error(['{"_path":"../etc","ts":1.5}']).reason).toBe('wrong-type');
    expect(error(['{"_path":7,"ts":1.5}']).reason).toBe('wrong-type');
    expect(error(['#separator \\x09', `#fields${T}ts${T}query`, `1.5${T}a.example`]).reason).toBe(
      'bad-header',
    );
    expect(error(['{"_path":"dns","uid":"C1"}']).reason).toBe('missing-field');
  });
});
