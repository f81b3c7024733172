import { describe, expect, it } from 'vitest';
import { alertSchemaText, AvroCodec, CodecError, createAlertCodec } from '@sequor/model';
import { InMemorySchemaRegistry, sampleAlert } from '@sequor/model/testing';
import type { SequorEvent } from '@sequor/model';
import type { Alert } from '@sequor/rules';
import type { ConsumedRecord } from '@sequor/kafka';
import {
  ALERT_HEADERS,
  alertKey,
  alertRecord,
  confluentAlertEncoder,
  detectorDeadLetter,
  MAX_RULE_IDS_IN_HEADER,
  RuleEvaluationError,
  singleObjectAlertEncoder,
} from '../src/outputs.js';

const alert: Alert = sampleAlert();

const trigger: ConsumedRecord = {
  key: Buffer.from('name:ws1'),
  value: Buffer.from('x'),
  offset: '77',
  timestamp: '1700000000500',
  headers: {},
};

describe('alert records', () => {
  it('encode as single-object Avro that decodes back to the same alert against schemas/alert.avsc', () => {
    const record = alertRecord('alerts', alert, singleObjectAlertEncoder(), trigger, {
      topic: 'events',
      partition: 3,
    });
    expect(record.value!.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(new AvroCodec<Alert>(alertSchemaText()).decode(record.value!)).toEqual(alert);
    expect(record.headers).toMatchObject({
      [ALERT_HEADERS.alertId]: alert.alert.id,
      [ALERT_HEADERS.ruleId]: 'r-1',
      [ALERT_HEADERS.keyField]: 'host.id',
      [ALERT_HEADERS.triggerTopic]: 'events',
      [ALERT_HEADERS.triggerPartition]: '3',
      [ALERT_HEADERS.triggerOffset]: '77',
      [ALERT_HEADERS.triggerTimestamp]: '1700000000500',
    });
  });

  it('encode in the Confluent wire format with the registered id when a registry is configured', async () => {
    const registry = new InMemorySchemaRegistry();
    const codec = createAlertCodec();
    const id = await codec.register(registry, 'alerts-value');
    const value = confluentAlertEncoder(codec, id).encode(alert);
    expect(value[0]).toBe(0);
    expect(value.readUInt32BE(1)).toBe(id);
    const reader = new AvroCodec<Alert>(alertSchemaText(), { registry });
    expect(await reader.decodeAsync(value)).toEqual(alert);
  });

  it('are keyed by the entity: host id, else host name, else user id, else the alert id', () => {
    const entity = (hostId: string | null, hostName: string | null, userId: string | null): Alert => ({
      ...alert,
      entity: { host: { id: hostId, name: hostName }, user: { id: userId, name: null } },
    });
    expect(alertKey(entity('name:ws1', 'WS1', 'u'))).toEqual({ value: 'name:ws1', field: 'host.id' });
    expect(alertKey(entity(null, 'WS1', 'u'))).toEqual({ value: 'WS1', field: 'host.name' });
    expect(alertKey(entity('', null, 'u'))).toEqual({ value: 'u', field: 'user.id' });
    expect(alertKey(entity(null, null, null))).toEqual({ value: alert.alert.id, field: 'alert.id' });
  });

  it('carry headers from the telemetry hook (trace context) alongside their own', () => {
    const record = alertRecord(
      'alerts',
      alert,
      singleObjectAlertEncoder(),
      trigger,
      { topic: 'events', partition: 0 },
      { traceparent: '00-1-2-01' },
    );
    expect(record.headers?.traceparent).toBe('00-1-2-01');
  });
});

describe('detector dead letters', () => {
  it('keep the record and say why (codec reason) and where it was', () => {
    const record: ConsumedRecord = {
      key: Buffer.from('k'),
      value: Buffer.from([1, 2, 3]),
      offset: '9',
      timestamp: '5',
      headers: { traceparent: Buffer.from('t') },
    };
    const dead = detectorDeadLetter(
      'dead',
      record,
      { topic: 'events', partition: 2 },
      new CodecError('bad-magic', 'first byte'),
    );
    expect(dead).toMatchObject({ topic: 'dead', key: record.key, value: record.value });
    expect(dead.headers).toMatchObject({
      'error.reason': 'bad-magic',
      'error.type': 'CodecError',
      'origin.topic': 'events',
      'origin.partition': '2',
      'origin.offset': '9',
      traceparent: Buffer.from('t'),
    });
  });

  it('name at most 32 rules that threw, then how many more (a dead letter must fit its topic)', () => {
    const record: ConsumedRecord = { key: null, value: Buffer.from([1]), offset: '1', timestamp: '5' };
    const failures = Array.from({ length: 500 }, (_, i) => ({
      ruleId: `0a5f0c2e-6d3b-4a4e-9a7e-${String(i).padStart(12, '0')}`,
      error: new Error('shared matcher bug'),
    }));
    const dead = detectorDeadLetter(
      'dead',
      record,
      { topic: 'events', partition: 0 },
      new RuleEvaluationError(failures),
    );
    const ids = String(dead.headers?.['error.rule-ids']);
    expect(ids.split(',')).toHaveLength(MAX_RULE_IDS_IN_HEADER + 1);
    expect(ids.endsWith(`,+${500 - MAX_RULE_IDS_IN_HEADER} more`)).toBe(true);
    expect(ids.length).toBeLessThan(2_000);
    expect(dead.headers).toMatchObject({ 'error.reason': 'rule-error' });
    // The message too names 32 (it is built per record: not 500 errors joined to be cut).
    const message = new RuleEvaluationError(failures).message;
    expect(message.match(/shared matcher bug/g)).toHaveLength(MAX_RULE_IDS_IN_HEADER);
    expect(message).toContain(`; +${500 - MAX_RULE_IDS_IN_HEADER} more)`);
  });

  it('point at the earlier events rules threw on: distinct, an id percent-encoded without an origin, at most 32', () => {
    const record: ConsumedRecord = { key: null, value: Buffer.from([1]), offset: '1', timestamp: '5' };
    const released = (offset: number | null, id: string) =>
      ({
        timestamp: 0,
        event: { id },
        origin: { format: 'winlogbeat', topic: offset === null ? null : 'raw', partition: 0, offset },
      }) as unknown as SequorEvent;
    const dead = (failures: ConstructorParameters<typeof RuleEvaluationError>[0]) =>
      detectorDeadLetter('dead', record, { topic: 'events', partition: 0 }, new RuleEvaluationError(failures))
        .headers?.['error.released-origins'];
    const error = new Error('bug');
    expect(
      dead([
        { ruleId: 'r1', error, releasedEvent: released(7, 'e7') },
        { ruleId: 'r2', error, releasedEvent: released(7, 'e7') },
        // No origin kept: the id, whose comma must not split the header's entry.
        { ruleId: 'r3', error, releasedEvent: released(null, 'a,b') },
        { ruleId: 'r4', error },
      ]),
    ).toBe('raw[0]@7,id:a%2Cb');
    expect(dead([{ ruleId: 'r1', error }])).toBeUndefined();
    const many = dead(
      Array.from({ length: 40 }, (_, i) => ({ ruleId: `r${i}`, error, releasedEvent: released(i, `e${i}`) })),
    );
    expect(String(many).split(',')).toHaveLength(MAX_RULE_IDS_IN_HEADER + 1);
    expect(String(many).endsWith(',+8 more')).toBe(true);
  });
});
