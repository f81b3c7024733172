import { describe, expect, it } from 'vitest';
import { eventFieldCatalog } from '../src/index.js';

describe('eventFieldCatalog', () => {
  it('maps @timestamp to the stored timestamp', () => {
    expect(eventFieldCatalog.lookup(['@timestamp'])).toEqual({
      name: '@timestamp',
      storagePath: ['timestamp'],
      type: 'timestamp',
    });
    expect(eventFieldCatalog.lookup(['timestamp'])).toBeUndefined();
  });

  it('types fields by role', () => {
    expect(eventFieldCatalog.lookup(['file', 'Ext', 'header_bytes'])).toEqual({
      name: 'file.Ext.header_bytes',
      storagePath: ['file', 'Ext', 'header_bytes'],
      type: 'string',
    });
    expect(eventFieldCatalog.lookup(['event', 'category'])?.type).toBe('string[]');
    expect(eventFieldCatalog.lookup(['event', 'ingested'])?.type).toBe('timestamp');
    expect(eventFieldCatalog.lookup(['source', 'ip'])?.type).toBe('ip');
    expect(eventFieldCatalog.lookup(['host', 'ip'])?.type).toBe('ip[]');
    expect(eventFieldCatalog.lookup(['source', 'port'])?.type).toBe('int');
    expect(eventFieldCatalog.lookup(['file', 'size'])?.type).toBe('long');
    expect(eventFieldCatalog.lookup(['process', 'parent', 'entity_id'])?.storagePath).toEqual([
      'process',
      'parent',
      'entity_id',
    ]);
  });

  it('knows only leaves, case-sensitively', () => {
    expect(eventFieldCatalog.lookup(['host'])).toBeUndefined();
    expect(eventFieldCatalog.lookup(['file', 'ext', 'header_bytes'])).toBeUndefined();
    expect(eventFieldCatalog.lookup(['proto_info', 'pipe'])).toBeUndefined();
  });

  it('lists every leaf once, including the fields the seed analytics use', () => {
    const names = [...eventFieldCatalog.fields()].map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      'host.id',
      'user.id',
      'user.name',
      'user.domain',
      'event.outcome',
      'event.action',
      'winlog.logon.type',
      'source.ip',
      'process.name',
      'file.size',
      'registry.path',
      'registry.value',
      'registry.data.strings',
      'process.entity_id',
      'dce_rpc.named_pipe',
      'dce_rpc.endpoint',
      'dce_rpc.operation',
      'destination.port',
    ]) {
      expect(names).toContain(n);
    }
  });
});
