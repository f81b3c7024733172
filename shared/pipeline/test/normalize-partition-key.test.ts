import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { ConfigError } from '@sequor/model';
import {
  compilePartitionKeyFields,
  defaultPartitionKeyFields,
  parsePartitionKeyFields,
  partitionKeyOf,
} from '../src/index.js';

function event(
  host: { id?: string | null; name?: string | null } | null,
  user: { id?: string | null } | null,
): SequorEvent {
  return {
    timestamp: 0,
    event: {
      id: 'ev-1',
      kind: null,
      category: null,
      type: null,
      action: null,
      outcome: null,
      code: null,
      provider: null,
      dataset: null,
      ingested: null,
      sequence: null,
      duration: null,
    },
    host: host === null ? null : { id: host.id ?? null, name: host.name ?? null, ip: null },
    user: user === null ? null : { id: user.id ?? null, name: null, domain: null },
    source: null,
    destination: null,
    network: null,
    process: null,
    registry: null,
    file: null,
    winlog: null,
    dce_rpc: null,
    origin: { format: 'test', topic: null, partition: null, offset: null },
    smb: null,
    zeek: null,
  };
}

describe('partitionKeyOf', () => {
  it('keys by host.id first', () => {
    expect(partitionKeyOf(event({ id: 'name:ws5', name: 'WS5' }, { id: 'S-1-5-18' }))).toEqual({
      value: 'name:ws5',
      field: 'host.id',
    });
  });

  it('falls back to host.name when host.id is absent, "-" or blank', () => {
    for (const id of [null, '-', '  ', '']) {
      expect(partitionKeyOf(event({ id, name: 'WS5' }, { id: 'S-1-5-18' }))).toEqual({
        value: 'WS5',
        field: 'host.name',
      });
    }
  });

  it('falls back to user.id for an event with no host', () => {
    expect(partitionKeyOf(event(null, { id: 'S-1-5-21-1-2-3-1104' }))).toEqual({
      value: 'S-1-5-21-1-2-3-1104',
      field: 'user.id',
    });
    expect(partitionKeyOf(event({ id: null, name: '-' }, { id: 'S-1-5-21-1-2-3-1104' }))).toEqual({
      value: 'S-1-5-21-1-2-3-1104',
      field: 'user.id',
    });
  });

  it('uses event.id when no key field is present, so the record still has one deterministic partition', () => {
    expect(partitionKeyOf(event(null, null))).toEqual({ value: 'ev-1', field: 'event.id' });
    expect(partitionKeyOf(event({}, { id: '-' }))).toEqual({ value: 'ev-1', field: 'event.id' });
  });

  it('follows configured key fields in their order', () => {
    const byUser = parsePartitionKeyFields(' user.id , host.id ');
    expect(byUser.names).toEqual(['user.id', 'host.id']);
    expect(byUser.header).toBe('user.id,host.id');
    expect(partitionKeyOf(event({ id: 'name:ws5' }, { id: 'S-1-5-18' }), byUser)).toEqual({
      value: 'S-1-5-18',
      field: 'user.id',
    });
    expect(partitionKeyOf(event({ id: 'name:ws5' }, null), byUser)).toEqual({
      value: 'name:ws5',
      field: 'host.id',
    });
  });
});

describe('partition key fields', () => {
  it('default is host.id,host.name,user.id', () => {
    expect(defaultPartitionKeyFields.header).toBe('host.id,host.name,user.id');
    expect(defaultPartitionKeyFields.paths).toEqual([
      ['host', 'id'],
      ['host', 'name'],
      ['user', 'id'],
    ]);
  });

  it.each([
    ['', /at least one|empty/],
    ['host.id,,user.id', /empty entries/],
    ['host.id,host.id', /host.id is listed twice/],
    ['host.nope', /"host.nope" is not one/],
    ['source.port', /source.port is int/],
    ['host', /"host" is not one/],
  ])('refuses %j with a ConfigError naming the variable', (spec, message) => {
    let error: unknown;
    try {
      parsePartitionKeyFields(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('PARTITION_KEY_FIELDS');
    expect((error as ConfigError).message).toMatch(message);
  });

  it('accepts address fields (a network sensor may key by destination.ip)', () => {
    expect(compilePartitionKeyFields(['destination.ip']).paths).toEqual([['destination', 'ip']]);
  });
});
