import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import type { RecordDecoder, SourceFormat } from '../src/index.js';
import { NormalizeError, zeekFormats } from '../src/index.js';

// Hand-written fixtures in Zeek's own layout (header directives from Zeek's test baselines); see
// test/fixtures/zeek/README.md. Each JSON fixture holds the same records as the TSV fixture of its log.
const fixtureDir = fileURLToPath(new URL('./fixtures/zeek/', import.meta.url));
const encoder = new TextEncoder();

function format(name: string): SourceFormat {
  const f = zeekFormats.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no format ${name}`);
  return f;
}

function fixtureLines(file: string): string[] {
  const text = readFileSync(fixtureDir + file, 'utf8');
  return text.split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
}

/** Decodes a fixture as one stream (topic = file name, offset = line index), as `sequor detect` does. */
function decodeFixture(
  formatName: string,
  file: string,
  decoder: RecordDecoder = format(formatName).createDecoder(),
): SequorEvent[] {
  return fixtureLines(file).flatMap((line, offset) =>
    decoder.decode(encoder.encode(line), { topic: file, partition: 0, offset }),
  );
}

function decodeError(decoder: RecordDecoder, line: string | Uint8Array, offset = 7): NormalizeError {
  try {
    decoder.decode(typeof line === 'string' ? encoder.encode(line) : line, {
      topic: 'zeek-raw',
      partition: 3,
      offset,
    });
  } catch (err) {
    if (err instanceof NormalizeError) return err;
    throw err;
  }
  throw new Error('expected a NormalizeError');
}

function byOperation(events: readonly SequorEvent[], operation: string): SequorEvent {
  const found = events.filter((e) => e.dce_rpc?.operation === operation);
  expect(found).toHaveLength(1);
  return found[0] as SequorEvent;
}

function withoutOrigin(events: readonly SequorEvent[]): unknown[] {
  return events.map((e) => ({ ...e, origin: null }));
}

const T = '\t';
const dceRpcHeader = [
  '#separator \\x09',
  `#set_separator${T},`,
  `#empty_field${T}(empty)`,
  `#unset_field${T}-`,
  `#path${T}dce_rpc`,
  `#open${T}2024-03-01-10-00-00`,
  `#fields${T}ts${T}uid${T}id.orig_h${T}id.orig_p${T}id.resp_h${T}id.resp_p${T}rtt${T}named_pipe${T}endpoint${T}operation`,
  `#types${T}time${T}string${T}addr${T}port${T}addr${T}port${T}interval${T}string${T}string${T}string`,
];
const createKeyLine = [
  '1709287200.120000',
  'CjhGID4nQcgTWjvg4c',
  '10.0.0.23',
  '49710',
  '10.0.0.5',
  '445',
  '0.000412',
  '\\\\PIPE\\\\winreg',
  'winreg',
  'BaseRegCreateKey',
].join(T);

describe('zeekFormats', () => {
  it('registers the four Zeek logs by name, then any Zeek log (zeek)', () => {
    expect(zeekFormats.map((f) => f.name)).toEqual([
      'zeek-dce-rpc',
      'zeek-smb-mapping',
      'zeek-smb-files',
      'zeek-conn',
      'zeek',
    ]);
    for (const f of zeekFormats.slice(0, 4)) expect(f.description).toMatch(/^Zeek \w+\.log/);
  });
});

describe('zeek-dce-rpc', () => {
  const events = decodeFixture('zeek-dce-rpc', 'dce_rpc.log');

  it('gives one event per data line and none for the header and #close', () => {
    expect(events).toHaveLength(8);
    expect(events.map((e) => e.origin.offset)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('maps a winreg BaseRegCreateKey row field by field', () => {
    const e = byOperation(events, 'BaseRegCreateKey');
    expect(e).toEqual({
      timestamp: 1709287200120,
      event: {
        id: e.event.id,
        kind: 'event',
        category: ['network'],
        type: ['protocol'],
        action: 'BaseRegCreateKey',
        outcome: null,
        code: null,
        provider: 'zeek',
        dataset: 'zeek.dce_rpc',
        ingested: null,
        sequence: null,
        duration: null,
      },
      host: { id: 'ip:10.0.0.5', name: null, ip: ['10.0.0.5'] },
      user: null,
      source: { ip: '10.0.0.23', port: 49710, bytes: null },
      destination: { ip: '10.0.0.5', port: 445, bytes: null },
      network: { transport: 'tcp', protocol: 'dce_rpc', connection_id: 'CjhGID4nQcgTWjvg4c' },
      process: null,
      registry: null,
      file: null,
      winlog: null,
      dce_rpc: { named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation: 'BaseRegCreateKey' },
      origin: { format: 'zeek-dce-rpc', topic: 'dce_rpc.log', partition: 0, offset: 10 },
      smb: null,
      zeek: { fields: e.zeek?.fields },
    });
    expect(e.event.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the MS-RRP operation names of the read-only calls, which the analytic must not match', () => {
    for (const op of ['OpenLocalMachine', 'BaseRegOpenKey', 'BaseRegQueryValue']) {
      const e = byOperation(events, op);
      expect(e.event.action).toBe(op);
      expect(e.dce_rpc).toEqual({ named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation: op });
    }
    expect(byOperation(events, 'BaseRegQueryValue').timestamp).toBe(1709287200122);
  });

  it('reads a DCE-RPC-over-TCP row whose named_pipe is a port number', () => {
    const e = byOperation(events, 'CreateServiceW');
    expect(e.dce_rpc).toEqual({ named_pipe: '49677', endpoint: 'svcctl', operation: 'CreateServiceW' });
    expect(e.destination).toEqual({ ip: '10.0.0.7', port: 49677, bytes: null });
    expect(e.host).toEqual({ id: 'ip:10.0.0.7', name: null, ip: ['10.0.0.7'] });
  });

  it('unescapes \\x09 and escaped UTF-8 bytes in values', () => {
    const e = events[7] as SequorEvent;
    expect(e.dce_rpc?.named_pipe).toBe('\\pipe\\evil\tpipe\u00e9');
    expect(e.dce_rpc?.operation).toBe('BaseRegSetValue');
    expect(e.timestamp).toBe(1709287400000);
  });

  it('reads a row with an unset rtt and a lower-case pipe', () => {
    const e = byOperation(events, 'SamrConnect5');
    expect(e.dce_rpc).toEqual({ named_pipe: '\\pipe\\lsass', endpoint: 'samr', operation: 'SamrConnect5' });
    expect(e.timestamp).toBe(1709287300500);
  });

  it('reads named_pipe from a sec_addr column (newer Zeek)', () => {
    const sec = decodeFixture('zeek-dce-rpc', 'dce_rpc-sec_addr.log');
    expect(sec.map((e) => e.dce_rpc)).toEqual([
      { named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation: 'BaseRegCreateKey' },
      { named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation: 'BaseRegSetValue' },
    ]);
    expect(sec.map((e) => e.timestamp)).toEqual([1709290800250, 1709290801003]);
  });

  it('gives the same events for the JSON log as for the TSV log, except origin', () => {
    const json = decodeFixture('zeek-dce-rpc', 'dce_rpc.json');
    expect(withoutOrigin(json)).toEqual(withoutOrigin(events));
    expect(json.map((e) => e.event.id)).toEqual(events.map((e) => e.event.id));
    expect(json[0]?.origin).toEqual({
      format: 'zeek-dce-rpc',
      topic: 'dce_rpc.json',
      partition: 0,
      offset: 0,
    });
  });

  it('reads ISO-8601 JSON timestamps to the same events', () => {
    const iso = decodeFixture('zeek-dce-rpc', 'dce_rpc-iso8601.json');
    expect(withoutOrigin(iso)).toEqual(
      withoutOrigin([byOperation(events, 'BaseRegCreateKey'), events[3] as SequorEvent]),
    );
  });

  it('supports the CAR-2014-11-005 selection: winreg create/set to port 445 only', () => {
    const winregWrites = events.filter(
      (e) =>
        e.destination?.port === 445 &&
        (e.dce_rpc?.endpoint === 'winreg' ||
          (e.dce_rpc?.named_pipe ?? '').toLowerCase().endsWith('winreg')) &&
        /^BaseReg(CreateKey|SetValue)/.test(e.dce_rpc?.operation ?? ''),
    );
    expect(winregWrites.map((e) => [e.host?.id, e.dce_rpc?.operation])).toEqual([
      ['ip:10.0.0.5', 'BaseRegCreateKey'],
      ['ip:10.0.0.5', 'BaseRegSetValue'],
      ['ip:10.0.0.9', 'BaseRegSetValue'],
    ]);
  });
});

describe('zeek-smb-mapping', () => {
  const events = decodeFixture('zeek-smb-mapping', 'smb_mapping.log');

  it('maps tree connects with the share taken from the tree path', () => {
    expect(events).toHaveLength(4);
    const admin = events[1] as SequorEvent;
    expect(admin.smb).toEqual({
      path: '\\\\10.0.0.5\\ADMIN$',
      share: 'ADMIN$',
      service: null,
      native_file_system: null,
      share_type: 'DISK',
      action: null,
    });
    expect(admin.event.dataset).toBe('zeek.smb_mapping');
    expect(admin.event.action).toBeNull();
    expect(admin.network).toEqual({ transport: 'tcp', protocol: 'smb', connection_id: 'CHhAvVGS1DHFjwGM9a' });
    expect(admin.host?.id).toBe('ip:10.0.0.5');
    expect(admin.timestamp).toBe(1709287230004);
    expect(events[0]?.smb?.share).toBe('IPC$');
    expect(events[0]?.smb?.share_type).toBe('PIPE');
  });

  it('keeps SMB1 service and file system, (empty) as an empty string and <unknown> without a share', () => {
    expect(events[2]?.smb).toMatchObject({
      path: '\\\\FILESRV\\C$',
      share: 'C$',
      service: 'A:',
      native_file_system: 'NTFS',
    });
    expect(events[2]?.destination?.port).toBe(139);
    expect(events[3]?.smb).toMatchObject({
      path: '<unknown>',
      share: null,
      service: null,
      native_file_system: '',
    });
  });

  it('gives the same events for the JSON log, except origin', () => {
    expect(withoutOrigin(decodeFixture('zeek-smb-mapping', 'smb_mapping.json'))).toEqual(
      withoutOrigin(events),
    );
  });
});

describe('zeek-smb-files', () => {
  const events = decodeFixture('zeek-smb-files', 'smb_files.log');

  it('maps a file open to a full UNC file.path, file.name and extension, and the SMB action', () => {
    expect(events).toHaveLength(5);
    const open = events[0] as SequorEvent;
    expect(open.file).toEqual({
      path: '\\\\10.0.0.5\\ADMIN$\\Temp\\svc-update.exe',
      name: 'svc-update.exe',
      extension: 'exe',
      size: 73802,
      Ext: null,
    });
    expect(open.smb).toEqual({
      path: '\\\\10.0.0.5\\ADMIN$',
      share: 'ADMIN$',
      service: null,
      native_file_system: null,
      share_type: null,
      action: 'SMB::FILE_OPEN',
    });
    expect(open.event).toMatchObject({
      action: 'SMB::FILE_OPEN',
      dataset: 'zeek.smb_files',
      category: ['network'],
      type: ['access'],
    });
    expect(open.network?.protocol).toBe('smb');
  });

  it('maps rename, delete (size 0, no times) and the share root', () => {
    expect(events[2]?.file?.name).toBe('svc.exe');
    expect(events[2]?.smb?.action).toBe('SMB::FILE_RENAME');
    expect(events[3]?.file).toEqual({
      path: '\\\\10.0.0.5\\ADMIN$\\Temp\\svc.exe',
      name: 'svc.exe',
      extension: 'exe',
      size: 0,
      Ext: null,
    });
    expect(events[3]?.event.action).toBe('SMB::FILE_DELETE');
    expect(events[3]?.timestamp).toBe(1709287290330);
    expect(events[4]?.file).toMatchObject({
      path: '\\\\FILESRV\\C$\\<share_root>',
      name: '<share_root>',
      extension: null,
      size: 0,
    });
  });

  it('gives two opens of one file (with and without fuid) different event ids', () => {
    expect(events[0]?.file).toEqual(events[1]?.file);
    expect(events[0]?.event.id).not.toBe(events[1]?.event.id);
  });

  it('gives the same events for the JSON log, except origin', () => {
    expect(withoutOrigin(decodeFixture('zeek-smb-files', 'smb_files.json'))).toEqual(withoutOrigin(events));
  });
});

describe('zeek-conn', () => {
  const events = decodeFixture('zeek-conn', 'conn.log');

  it('maps transport, service, duration (ns) and bytes each way', () => {
    expect(events).toHaveLength(4);
    const smb = events[0] as SequorEvent;
    expect(smb.network).toEqual({
      transport: 'tcp',
      protocol: 'smb,dce_rpc,ntlm',
      connection_id: 'CjhGID4nQcgTWjvg4c',
    });
    expect(smb.event).toMatchObject({
      duration: 1_204_511_000,
      type: ['connection'],
      dataset: 'zeek.conn',
      action: null,
    });
    expect(smb.source).toEqual({ ip: '10.0.0.23', port: 49710, bytes: 4862 });
    expect(smb.destination).toEqual({ ip: '10.0.0.5', port: 445, bytes: 3718 });
    expect(events[1]?.network).toMatchObject({ transport: 'udp', protocol: 'dns' });
  });

  it('leaves unset service, duration and bytes null (a connection attempt, S0)', () => {
    const s0 = events[2] as SequorEvent;
    expect(s0.network).toEqual({ transport: 'tcp', protocol: null, connection_id: 'C9y8MRb2r7v1yQnBk2' });
    expect(s0.event.duration).toBeNull();
    expect(s0.source?.bytes).toBeNull();
    expect(s0.destination?.bytes).toBeNull();
  });

  it('names unknown_transport by its ip_proto (GRE)', () => {
    expect(events[3]?.network?.transport).toBe('gre');
    expect(events[3]?.event.duration).toBe(10_000);
  });

  it('gives the same events for the JSON log, except origin', () => {
    expect(withoutOrigin(decodeFixture('zeek-conn', 'conn.json'))).toEqual(withoutOrigin(events));
  });
});

describe('event ids', () => {
  it('are distinct per record and independent of where the record was read', () => {
    const all = [
      ...decodeFixture('zeek-dce-rpc', 'dce_rpc.log'),
      ...decodeFixture('zeek-smb-mapping', 'smb_mapping.log'),
      ...decodeFixture('zeek-smb-files', 'smb_files.log'),
      ...decodeFixture('zeek-conn', 'conn.log'),
    ];
    expect(new Set(all.map((e) => e.event.id)).size).toBe(all.length);

    const decoder = format('zeek-dce-rpc').createDecoder();
    for (const line of dceRpcHeader)
      decoder.decode(encoder.encode(line), { topic: 'zeek.dce_rpc', partition: 5, offset: 1000 });
    const fromKafka = decoder.decode(encoder.encode(createKeyLine), {
      topic: 'zeek.dce_rpc',
      partition: 5,
      offset: 123456,
    });
    const fromFile = decodeFixture('zeek-dce-rpc', 'dce_rpc.log');
    expect(fromKafka[0]?.event.id).toBe(byOperation(fromFile, 'BaseRegCreateKey').event.id);
  });

  it('are pinned: alert ids hash evidence event ids, so a change here must be deliberate', () => {
    expect(byOperation(decodeFixture('zeek-dce-rpc', 'dce_rpc.log'), 'BaseRegCreateKey').event.id).toBe(
      'f92c3e34f6f0fc0a8268b4679cbd1369',
    );
  });

  it('ignore a trailing CR/LF, as a line read from a file with or without its line ending', () => {
    const decoder = format('zeek-dce-rpc').createDecoder();
    for (const line of dceRpcHeader)
      decoder.decode(encoder.encode(`${line}\r\n`), { topic: 'f', partition: 0, offset: 0 });
    const a = decoder.decode(encoder.encode(`${createKeyLine}\r\n`), { topic: 'f', partition: 0, offset: 1 });
    const b = decoder.decode(encoder.encode(createKeyLine), { topic: 'f', partition: 0, offset: 2 });
    expect(a[0]?.dce_rpc?.operation).toBe('BaseRegCreateKey');
    expect(a[0]?.event.id).toBe(b[0]?.event.id);
    expect(decoder.decode(new Uint8Array(0), { topic: 'f', partition: 0, offset: 3 })).toEqual([]);
  });
});

describe('decoder state', () => {
  it("keeps its stream's header; a new decoder for another stream does not see it", () => {
    const dce = format('zeek-dce-rpc');
    const first = dce.createDecoder();
    for (const line of dceRpcHeader)
      expect(first.decode(encoder.encode(line), { topic: 'a', partition: 0, offset: 0 })).toEqual([]);
    const second = dce.createDecoder();
    const err = decodeError(second, createKeyLine);
    expect(err.reason).toBe('bad-header');
    expect(first.decode(encoder.encode(createKeyLine), { topic: 'a', partition: 0, offset: 9 })).toHaveLength(
      1,
    );
  });

  it('keeps interleaved streams with different headers apart', () => {
    const dce = format('zeek-dce-rpc');
    const a = dce.createDecoder();
    const b = dce.createDecoder();
    const linesA = fixtureLines('dce_rpc.log');
    const linesB = fixtureLines('dce_rpc-sec_addr.log');
    const out: SequorEvent[] = [];
    for (let i = 0; i < Math.max(linesA.length, linesB.length); i++) {
      if (i < linesA.length)
        out.push(...a.decode(encoder.encode(linesA[i] as string), { topic: 'a', partition: 0, offset: i }));
      if (i < linesB.length)
        out.push(...b.decode(encoder.encode(linesB[i] as string), { topic: 'b', partition: 0, offset: i }));
    }
    expect(out.filter((e) => e.origin.topic === 'a')).toHaveLength(8);
    expect(out.filter((e) => e.origin.topic === 'b').map((e) => e.dce_rpc?.named_pipe)).toEqual([
      '\\PIPE\\winreg',
      '\\PIPE\\winreg',
    ]);
  });

  it('reads a stream where several logs follow one another (rotation): each header replaces the last', () => {
    const decoder = format('zeek-dce-rpc').createDecoder();
    const lines = [...fixtureLines('dce_rpc.log'), ...fixtureLines('dce_rpc-sec_addr.log')];
    const events = lines.flatMap((l, offset) =>
      decoder.decode(encoder.encode(l), { topic: 't', partition: 0, offset }),
    );
    expect(events).toHaveLength(10);
  });
});

describe('errors', () => {
  function withHeader(): RecordDecoder {
    const decoder = format('zeek-dce-rpc').createDecoder();
    for (const line of dceRpcHeader)
      decoder.decode(encoder.encode(line), { topic: 'zeek-raw', partition: 3, offset: 0 });
    return decoder;
  }

  it('carry reason, format and origin', () => {
    const err = decodeError(withHeader(), `1709287200.120000${T}CjhGID4nQcgTWjvg4c${T}10.0.0.23`, 42);
    expect(err).toBeInstanceOf(NormalizeError);
    expect(err.reason).toBe('column-count');
    expect(err.format).toBe('zeek-dce-rpc');
    expect(err.origin).toEqual({ topic: 'zeek-raw', partition: 3, offset: 42 });
    expect(err.retriable).toBe(false);
    expect(err.message).toBe(
      'zeek-dce-rpc zeek-raw[3]@42: column-count: 3 values for 10 #fields columns (#path dce_rpc)',
    );
  });

  it('reject a data line before any #fields header', () => {
    expect(decodeError(format('zeek-dce-rpc').createDecoder(), createKeyLine).reason).toBe('bad-header');
  });

  it('reject an unparseable ts and a port that is not a number', () => {
    const badTs = decodeError(withHeader(), createKeyLine.replace('1709287200.120000', '2024/03/01'));
    expect(badTs.reason).toBe('wrong-type');
    expect(badTs.message).toContain('ts: not a time');
    const badPort = decodeError(withHeader(), createKeyLine.replace(`${T}445${T}`, `${T}microsoft-ds${T}`));
    expect(badPort.reason).toBe('wrong-type');
    expect(badPort.message).toContain('id.resp_p: not a port number');
    expect(decodeError(withHeader(), createKeyLine.replace(`${T}445${T}`, `${T}-${T}`)).reason).toBe(
      'missing-field',
    );
  });

  it('reject invalid JSON, a JSON record without ts, and invalid UTF-8', () => {
    const decoder = format('zeek-dce-rpc').createDecoder();
    expect(decodeError(decoder, '{"ts":1709287200.12,"uid":').reason).toBe('malformed');
    const noTs = decodeError(
      decoder,
      '{"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":445,"endpoint":"winreg","operation":"BaseRegSetValue"}',
    );
    expect(noTs.reason).toBe('missing-field');
    expect(noTs.message).toContain('ts is missing');
    expect(decodeError(decoder, new Uint8Array([0x7b, 0xff, 0x7d])).reason).toBe('malformed');
  });

  it("read a log of another kind by its own #path (concatenated logs), not with this log's columns", () => {
    const decoder = format('zeek-dce-rpc').createDecoder();
    const conn = fixtureLines('conn.log');
    const events = conn.flatMap((l, i) =>
      decoder.decode(encoder.encode(l), { topic: 'c', partition: 0, offset: i }),
    );
    expect(events.length).toBeGreaterThan(0);
    for (const e of events)
      expect(e).toMatchObject({ event: { dataset: 'zeek.conn' }, origin: { format: 'zeek' } });
    // The same rows as the conn format reads them, apart from the format's name.
    const own = format('zeek-conn').createDecoder();
    const direct = conn.flatMap((l, i) =>
      own.decode(encoder.encode(l), { topic: 'c', partition: 0, offset: i }),
    );
    expect(events.map((e) => ({ ...e, origin: { ...e.origin!, format: 'zeek-conn' } }))).toEqual(direct);
    // A JSON record naming another log by `_path` is that log's too.
    const dns = format('zeek-conn')
      .createDecoder()
      .decode(
        encoder.encode(
          JSON.stringify({
            _path: 'dns',
            ts: 1709287200.12,
            uid: 'C1',
            'id.orig_h': '10.0.0.1',
            'id.orig_p': 5353,
            'id.resp_h': '10.0.0.2',
            'id.resp_p': 53,
            proto: 'udp',
            query: 'example.org',
          }),
        ),
        { topic: 'c', partition: 0, offset: 0 },
      );
    expect(dns).toMatchObject([{ event: { dataset: 'zeek.dns' }, origin: { format: 'zeek' } }]);
    // A #path with columns its log lacks is still refused at its #fields line.
    const fieldsAt = conn.findIndex((l) => l.startsWith('#fields'));
    const bad = format('zeek-dce-rpc').createDecoder();
    conn
      .slice(0, fieldsAt)
      .map((l) => (l.startsWith('#path') ? `#path${T}dce_rpc` : l))
      .forEach((l, i) => bad.decode(encoder.encode(l), { topic: 'c', partition: 0, offset: i }));
    expect(decodeError(bad, conn[fieldsAt] as string).message).toContain('#fields lacks endpoint');
  });

  it('return no events for header and comment lines', () => {
    const decoder = format('zeek-conn').createDecoder();
    expect(
      decoder.decode(encoder.encode('#separator \\x09'), { topic: 't', partition: 0, offset: 0 }),
    ).toEqual([]);
    expect(
      decoder.decode(encoder.encode(`#close${T}2024-03-01-11-00-00`), {
        topic: 't',
        partition: 0,
        offset: 1,
      }),
    ).toEqual([]);
  });
});

describe('sniff', () => {
  const jsonFixtures: Record<string, string> = {
    'zeek-dce-rpc': 'dce_rpc.json',
    'zeek-smb-mapping': 'smb_mapping.json',
    'zeek-smb-files': 'smb_files.json',
    'zeek-conn': 'conn.json',
  };

  it('recognises the first line of any Zeek TSV log, and its own #path', () => {
    for (const f of zeekFormats) expect(f.sniff('#separator \\x09')).toBe(true);
    expect(format('zeek-dce-rpc').sniff(`#path${T}dce_rpc`)).toBe(true);
    expect(format('zeek-conn').sniff(`#path${T}dce_rpc`)).toBe(false);
    expect(format('zeek-smb-files').sniff(`#path${T}smb_files`)).toBe(true);
  });

  it('recognises a JSON record of its own log only', () => {
    for (const f of zeekFormats) {
      for (const [owner, file] of Object.entries(jsonFixtures)) {
        expect([f.name, owner, f.sniff(fixtureLines(file)[0] as string)]).toEqual([
          f.name,
          owner,
          f.name === owner,
        ]);
      }
    }
  });

  it('rejects other input', () => {
    for (const f of zeekFormats) {
      expect(f.sniff('{"@timestamp":"2024-03-01T10:00:00Z","winlog":{"event_id":"13"}}')).toBe(false);
      expect(f.sniff('{not json')).toBe(false);
      expect(f.sniff('1709287200.120000\tC1')).toBe(false);
      expect(f.sniff('')).toBe(false);
    }
  });
});

describe('Zeek TSV checkpoint: resuming a stream mid-log (after a restart or a rebalance)', () => {
  const dceRpc = () => format('zeek-dce-rpc').createDecoder();
  const lines = fixtureLines('dce_rpc.log');
  const firstData = lines.findIndex((l) => !l.startsWith('#'));

  it('a decoder resumed from the checkpoint reads the rest of the log as the first decoder does', () => {
    const first = dceRpc();
    const cut = firstData + 1;
    lines
      .slice(0, cut)
      .forEach((line, offset) => first.decode(encoder.encode(line), { topic: 'z', partition: 0, offset }));
    const checkpoint = first.checkpoint!();
    expect(checkpoint).toMatch(/^zeek-tsv-header:1:\{/);
    const rest = (d: RecordDecoder) =>
      lines
        .slice(cut)
        .flatMap((line, i) => d.decode(encoder.encode(line), { topic: 'z', partition: 0, offset: cut + i }));
    const resumed = dceRpc();
    expect(resumed.resume!(checkpoint!)).toBe(true);
    const expected = rest(first);
    expect(expected.length).toBeGreaterThan(0);
    expect(rest(resumed)).toEqual(expected);
  });

  it('without it, the same rows are refused for want of a header', () => {
    const fresh = dceRpc();
    expect(decodeError(fresh, lines[firstData + 1]!).reason).toBe('bad-header');
  });

  it('has no checkpoint before #fields or after #close, and the same text while the header holds', () => {
    const d = dceRpc();
    expect(d.checkpoint!()).toBeUndefined();
    d.decode(encoder.encode(lines[0]!), { topic: 'z', partition: 0, offset: 0 });
    expect(d.checkpoint!()).toBeUndefined();
    lines
      .slice(1, firstData + 2)
      .forEach((line, i) => d.decode(encoder.encode(line), { topic: 'z', partition: 0, offset: i + 1 }));
    expect(d.checkpoint!()).toBe(d.checkpoint!());
    d.decode(encoder.encode(`#close${T}2024-03-01-11-00-00`), { topic: 'z', partition: 0, offset: 99 });
    expect(d.checkpoint!()).toBeUndefined();
  });

  it('refuses text it did not write, and stays without a header', () => {
    const d = dceRpc();
    for (const bad of [
      '',
      'zeek-tsv-header:1:{',
      'zeek-tsv-header:1:{"separator":"\\t","fields":[]}',
      'other:1:{}',
      'zeek-tsv-header:1:[]',
    ]) {
      expect(d.resume!(bad), bad).toBe(false);
    }
    expect(decodeError(d, createKeyLine).reason).toBe('bad-header');
  });
});
