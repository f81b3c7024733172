import { describe, expect, it } from 'vitest';
import { eventIdFromContent } from '@sequor/model';
import { decodeError, decodeOne } from './helpers.js';

/** An Elastic Endpoint file event, the shape the Elastic remote-credential rule reads. */
const endpointFile = {
  '@timestamp': '2023-03-01T10:00:05.123Z',
  agent: { type: 'endpoint', id: 'c0ffee00-0000-4000-8000-000000000001' },
  event: {
    id: 'MmJk0123abcd',
    kind: 'event',
    category: ['file'],
    type: ['creation'],
    action: 'creation',
    dataset: 'endpoint.events.file',
    sequence: 74123,
  },
  host: { id: 'c0ffee00-0000-4000-8000-000000000001', name: 'DC01', ip: ['10.0.0.5', 'fe80::5'] },
  user: { id: 'S-1-5-21-1-2-3-500', name: 'Administrator', domain: 'CONTOSO' },
  process: {
    name: 'svchost.exe',
    pid: 1020,
    entity_id: 'NzE2LTEzMjQ',
    executable: 'C:\\Windows\\System32\\svchost.exe',
  },
  file: {
    path: 'C:\\Windows\\System32\\sam.tmp',
    name: 'sam.tmp',
    extension: 'tmp',
    size: 65536,
    Ext: { header_bytes: '72656766e0000000e0000000' },
  },
};

describe('ecs', () => {
  it('passes the model fields through with their types, keeping header bytes and size', () => {
    const ev = decodeOne('ecs', JSON.stringify(endpointFile));
    expect(ev.timestamp).toBe(Date.parse('2023-03-01T10:00:05.123Z'));
    expect(ev.event).toMatchObject({
      id: 'MmJk0123abcd',
      category: ['file'],
      type: ['creation'],
      action: 'creation',
      dataset: 'endpoint.events.file',
      sequence: 74123,
    });
    expect(ev.file).toEqual({
      path: 'C:\\Windows\\System32\\sam.tmp',
      name: 'sam.tmp',
      extension: 'tmp',
      size: 65536,
      Ext: { header_bytes: '72656766e0000000e0000000' },
    });
    expect(ev.host).toEqual({
      id: 'c0ffee00-0000-4000-8000-000000000001',
      name: 'DC01',
      ip: ['10.0.0.5', 'fe80::5'],
    });
    expect(ev.user).toEqual({ id: 'S-1-5-21-1-2-3-500', name: 'Administrator', domain: 'CONTOSO' });
    expect(ev.process).toMatchObject({ name: 'svchost.exe', pid: 1020, parent: null });
    expect(ev.winlog).toBeNull();
    expect(ev.origin.format).toBe('ecs');
  });

  it('reads dotted keys, epoch-ms timestamps and single keyword values', () => {
    const ev = decodeOne(
      'ecs',
      JSON.stringify({
        '@timestamp': 1677664805123,
        'event.category': 'authentication',
        'host.name': 'WS1.corp.local',
        'user.name': 'bob',
        'user.domain': 'CORP',
        event: { outcome: 'success' },
      }),
    );
    expect(ev.timestamp).toBe(1677664805123);
    expect(ev.event.category).toEqual(['authentication']);
    expect(ev.host).toEqual({ id: 'name:ws1', name: 'WS1.corp.local', ip: null });
    expect(ev.user?.id).toBe('name:corp\\bob');
  });

  it('hashes the record when it carries no event.id', () => {
    const line = JSON.stringify({ ...endpointFile, event: { kind: 'event', category: ['file'] } });
    expect(decodeOne('ecs', line).event.id).toBe(eventIdFromContent(new TextEncoder().encode(line)));
  });

  it.each([
    ['file.size as text', { ...endpointFile, file: { size: 'big' } }, 'wrong-type'],
    ['event.category as an object', { ...endpointFile, event: { category: { a: 1 } } }, 'wrong-type'],
    ['header bytes as a boolean', { ...endpointFile, file: { Ext: { header_bytes: true } } }, 'wrong-type'],
    ['no @timestamp', { event: { kind: 'event' }, host: { name: 'x' } }, 'missing-field'],
    [
      'nothing of the model',
      { '@timestamp': '2023-03-01T10:00:05Z', event: {}, foo: 1 },
      'unsupported-event',
    ],
  ])('refuses %s', (_name, doc, reason) => {
    expect(decodeError('ecs', JSON.stringify(doc)).reason).toBe(reason);
  });
});

describe('ecs integer ranges', () => {
  it('refuses an int field beyond 32 bits and accepts a long one', () => {
    expect(decodeError('ecs', JSON.stringify({ ...endpointFile, source: { port: 2 ** 33 } })).reason).toBe(
      'wrong-type',
    );
    expect(decodeOne('ecs', JSON.stringify({ ...endpointFile, file: { size: 2 ** 40 } })).file?.size).toBe(
      2 ** 40,
    );
  });
});
