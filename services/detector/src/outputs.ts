/**
 * The records the detector produces, built from what it consumed. Pure (encoding aside, no I/O):
 * - alerts: Avro `sequor.Alert` (`schemas/alert.avsc`), single-object framed or Confluent framed when a
 *   schema registry id is known, keyed by the entity (host) the alert is about;
 * - alert updates: Avro `sequor.AlertUpdate` (`schemas/alert-update.avsc`), a suppression window's count,
 *   keyed like the alert it updates (so with the same partition count they land beside it);
 * - late events: the normalized record as read, with why and when it was late;
 * - dead letters: an input record that does not decode, whose event is dated too far ahead of the
 *   record's own timestamp (`future-timestamp`), or on whose event a rule threw (`rule-error`), with the
 *   reason and where it was.
 */
import type { ConsumedRecord, ProducerRecord } from '@sequor/kafka';
import { deadLetterRecord } from '@sequor/kafka';
import type {
  Alert,
  AlertUpdate,
  AvroCodec,
  RecordHeaders,
  SequorEvent,
  TopicPartition,
} from '@sequor/model';
import { CodecError, createAlertCodec, createAlertUpdateCodec, SequorError } from '@sequor/model';

/** Headers on alert records: enough to route and trace without decoding the value. */
export const ALERT_HEADERS = {
  alertId: 'sequor.alert-id',
  ruleId: 'sequor.rule-id',
  /** The field that supplied the record key (`host.id`, ..., `alert.id`). */
  keyField: 'sequor.alert-key-field',
  /** The input record whose processing raised the alert (it released the evidence or completed it). */
  triggerTopic: 'sequor.trigger.topic',
  triggerPartition: 'sequor.trigger.partition',
  triggerOffset: 'sequor.trigger.offset',
  /** That record's Kafka timestamp: produce-to-alert latency without a lookup. */
  triggerTimestamp: 'sequor.trigger.timestamp',
  /** Set on an alert raised by an idle-partition advance: the stream time advanced to (epoch ms); the trigger is then the last record before it. */
  idleStreamTime: 'sequor.trigger.idle-stream-time',
} as const;

/** Headers added to a late event (besides the record's own and `origin.*`). */
export const LATE_HEADERS = {
  /** `late` (older than the watermark on arrival) or `invalid-time` (no usable @timestamp). */
  reason: 'sequor.late.reason',
  /** The event's time and the partition's watermark when it arrived, epoch ms. */
  eventTime: 'sequor.late.event-time',
  watermark: 'sequor.late.watermark',
  originTopic: 'origin.topic',
  originPartition: 'origin.partition',
  originOffset: 'origin.offset',
} as const;

/** Headers a detector dead letter carries besides `@sequor/kafka`'s (`error.type`, `error.message`, `origin.*`). */
export const DETECTOR_DEAD_LETTER_HEADERS = {
  /**
   * The codec's stable reason (`bad-magic`, `unknown-fingerprint`, `malformed`, ...), `future-timestamp`
   * or `rule-error`.
   */
  reason: 'error.reason',
  /** `rule-error` only: the ids of the rules that threw, comma-separated. */
  ruleIds: 'error.rule-ids',
  /**
   * `rule-error` only, when rules threw on earlier events this record released (a stateful rule's): where
   * each such event's raw record was read, `topic[partition]@offset` (`id:` and its id percent-encoded,
   * or its time, when the projection kept no origin), distinct, comma-separated, at most `MAX_RULE_IDS_IN_HEADER`: the record to
   * fetch to see what made the rule throw (this dead letter's own value is the releasing record).
   */
  releasedOrigins: 'error.released-origins',
} as const;

export interface AlertEncoder {
  readonly framing: 'single-object' | 'confluent';
  encode(alert: Alert): Buffer;
}

export function singleObjectAlertEncoder(codec: AvroCodec<Alert> = createAlertCodec()): AlertEncoder {
  return { framing: 'single-object', encode: (alert) => codec.encodeSingleObject(alert) };
}

export function confluentAlertEncoder(codec: AvroCodec<Alert>, schemaId: number): AlertEncoder {
  return { framing: 'confluent', encode: (alert) => codec.encodeConfluent(alert, schemaId) };
}

export interface AlertUpdateEncoder {
  readonly framing: 'single-object' | 'confluent';
  encode(update: AlertUpdate): Buffer;
}

export function singleObjectAlertUpdateEncoder(
  codec: AvroCodec<AlertUpdate> = createAlertUpdateCodec(),
): AlertUpdateEncoder {
  return { framing: 'single-object', encode: (update) => codec.encodeSingleObject(update) };
}

export function confluentAlertUpdateEncoder(
  codec: AvroCodec<AlertUpdate>,
  schemaId: number,
): AlertUpdateEncoder {
  return { framing: 'confluent', encode: (update) => codec.encodeConfluent(update, schemaId) };
}

/** Where an input record was read. */
export type RecordPosition = TopicPartition;

/**
 * The key of an alert on the alerts topic: the entity it is about (`host.id`, else `host.name`, else
 * `user.id`), so one host's alerts stay in order on one partition for whoever triages them; the alert id
 * when it names no entity.
 */
export function alertKey(alert: Alert): { readonly value: string; readonly field: string } {
  const { host, user } = alert.entity;
  if (host.id !== null && host.id !== '') return { value: host.id, field: 'host.id' };
  if (host.name !== null && host.name !== '') return { value: host.name, field: 'host.name' };
  if (user.id !== null && user.id !== '') return { value: user.id, field: 'user.id' };
  return { value: alert.alert.id, field: 'alert.id' };
}

export function alertRecord(
  alertsTopic: string,
  alert: Alert,
  encoder: AlertEncoder,
  trigger: ConsumedRecord,
  position: RecordPosition,
  extraHeaders?: RecordHeaders,
): ProducerRecord {
  const key = alertKey(alert);
  return {
    topic: alertsTopic,
    key: key.value,
    value: encoder.encode(alert),
    headers: {
      ...extraHeaders,
      [ALERT_HEADERS.alertId]: alert.alert.id,
      [ALERT_HEADERS.ruleId]: alert.rule.id,
      [ALERT_HEADERS.keyField]: key.field,
      [ALERT_HEADERS.triggerTopic]: position.topic,
      [ALERT_HEADERS.triggerPartition]: String(position.partition),
      [ALERT_HEADERS.triggerOffset]: trigger.offset,
      [ALERT_HEADERS.triggerTimestamp]: trigger.timestamp,
    },
  };
}

/**
 * The record of a closed suppression window: keyed like `opening`, the alert it updates (`alertKey`), with
 * the alert-id and rule-id headers an alert carries and the record whose processing closed the window.
 */
export function alertUpdateRecord(
  alertUpdatesTopic: string,
  update: AlertUpdate,
  opening: Alert,
  encoder: AlertUpdateEncoder,
  trigger: ConsumedRecord,
  position: RecordPosition,
): ProducerRecord {
  const key = alertKey(opening);
  return {
    topic: alertUpdatesTopic,
    key: key.value,
    value: encoder.encode(update),
    headers: {
      [ALERT_HEADERS.alertId]: update.alert.id,
      [ALERT_HEADERS.ruleId]: update.rule.id,
      [ALERT_HEADERS.keyField]: key.field,
      [ALERT_HEADERS.triggerTopic]: position.topic,
      [ALERT_HEADERS.triggerPartition]: String(position.partition),
      [ALERT_HEADERS.triggerOffset]: trigger.offset,
      [ALERT_HEADERS.triggerTimestamp]: trigger.timestamp,
    },
  };
}

export function lateEventRecord(
  lateEventsTopic: string,
  record: ConsumedRecord,
  position: RecordPosition,
  late: { readonly reason: string; readonly timestamp: number; readonly watermark: number },
): ProducerRecord {
  return {
    topic: lateEventsTopic,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [LATE_HEADERS.reason]: late.reason,
      [LATE_HEADERS.eventTime]: String(late.timestamp),
      [LATE_HEADERS.watermark]: String(late.watermark),
      [LATE_HEADERS.originTopic]: position.topic,
      [LATE_HEADERS.originPartition]: String(position.partition),
      [LATE_HEADERS.originOffset]: record.offset,
    },
  };
}

/**
 * An event dated more than the allowed skew ahead of its record's Kafka timestamp (else of stream time):
 * accepted, it would move the partition's watermark past every honest event. Not retriable: the same
 * record is refused the same way on every replay.
 */
export class FutureTimestampError extends SequorError {
  readonly reason = 'future-timestamp';

  constructor(
    readonly eventTime: number,
    readonly recordTimestamp: number,
    readonly maxFutureSkewMs: number,
  ) {
    super(
      `event time ${isoOrNumber(eventTime)} is more than ${maxFutureSkewMs} ms ahead of ` +
        (Number.isFinite(recordTimestamp)
          ? `the record timestamp ${isoOrNumber(recordTimestamp)}`
          : 'stream time') +
        ' (MAX_FUTURE_SKEW_MS)',
    );
  }
}

/**
 * A rule that threw: on the record's own event, or (`releasedEvent`) on an earlier event the record's push
 * or an idle advance released to a stateful rule (a sequence, join or aggregate), whose record was
 * committed before.
 */
export interface RuleFailure {
  readonly ruleId: string;
  readonly error: unknown;
  readonly releasedEvent?: SequorEvent;
}

/**
 * Rules threw while they evaluated the record's event, or an earlier event the record released (see
 * `RuleFailure`): each counts as not matched for that event; the other rules ran, and the partition goes
 * on. Not retriable: the same record throws the same way on every replay.
 */
export class RuleEvaluationError extends SequorError {
  readonly reason = 'rule-error';

  constructor(readonly failures: readonly RuleFailure[]) {
    // Named up to the header's bound: an exception of a Sigma set's own code fails every rule of it.
    const each = failures
      .slice(0, MAX_RULE_IDS_IN_HEADER)
      .map(
        ({ ruleId, error, releasedEvent }) =>
          `rule ${ruleId}${releasedEvent === undefined ? '' : ` on ${releasedEventText(releasedEvent)}`}: ${messageOf(error)}`,
      );
    const own = failures.every((f) => f.releasedEvent === undefined);
    super(
      `${failures.length === 1 ? 'a rule' : `${failures.length} rules`} threw on ` +
        `${own ? 'this event' : 'events released at or after this record'}, counted as not matched (${each.join('; ')}` +
        `${failures.length > MAX_RULE_IDS_IN_HEADER ? `; +${failures.length - MAX_RULE_IDS_IN_HEADER} more` : ''})`,
      { cause: failures[0]?.error },
    );
  }
}

/**
 * An earlier event, as a dead letter's message names it: its time, and its id and where it was read when
 * the detector's projection kept them.
 */
function releasedEventText(event: SequorEvent): string {
  const id = (event.event as Partial<SequorEvent['event']> | undefined)?.id;
  const origin = event.origin as Partial<SequorEvent['origin']> | undefined;
  const where = origin?.topic == null ? '' : `, read from ${releasedEventPlace(event)}`;
  return `the earlier event ${id == null ? '' : `${id} `}of ${isoOrNumber(event.timestamp)}${where}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isoOrNumber(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

export function detectorDeadLetter(
  deadLetterTopic: string,
  record: ConsumedRecord,
  position: RecordPosition,
  error: unknown,
): ProducerRecord {
  const base = deadLetterRecord(deadLetterTopic, record, position, error);
  const reason =
    error instanceof CodecError ||
    error instanceof FutureTimestampError ||
    error instanceof RuleEvaluationError
      ? error.reason
      : 'unexpected-error';
  const headers: RecordHeaders = { ...base.headers, [DETECTOR_DEAD_LETTER_HEADERS.reason]: reason };
  if (error instanceof RuleEvaluationError) {
    headers[DETECTOR_DEAD_LETTER_HEADERS.ruleIds] = ruleIdsHeader(error);
    const released = releasedOriginsHeader(error);
    if (released !== null) headers[DETECTOR_DEAD_LETTER_HEADERS.releasedOrigins] = released;
  }
  return { ...base, headers };
}

/**
 * The ids of the rules that threw, at most `MAX_RULE_IDS_IN_HEADER` of them and then how many more: one
 * crafted event meeting a shared matcher's bug through hundreds of rules must not make a dead letter too
 * large for its topic (detector dead letters are not cut to fit), which would fail the batch on every retry.
 */
export const MAX_RULE_IDS_IN_HEADER = 32;

/** Where the earlier events the rules threw on were read (`releasedOrigins`); null when none was. */
function releasedOriginsHeader(error: RuleEvaluationError): string | null {
  const places = new Set<string>();
  for (const { releasedEvent } of error.failures)
    if (releasedEvent !== undefined) places.add(releasedEventPlace(releasedEvent).slice(0, 300));
  if (places.size === 0) return null;
  const all = [...places];
  if (all.length <= MAX_RULE_IDS_IN_HEADER) return all.join(',');
  return `${all.slice(0, MAX_RULE_IDS_IN_HEADER).join(',')},+${all.length - MAX_RULE_IDS_IN_HEADER} more`;
}

/** An earlier event's raw record, `topic[partition]@offset`; its id, or time, without an origin. */
function releasedEventPlace(event: SequorEvent): string {
  const origin = event.origin as Partial<SequorEvent['origin']> | undefined;
  if (origin?.topic != null) return `${origin.topic}[${origin.partition ?? '?'}]@${origin.offset ?? '?'}`;
  const id = (event.event as Partial<SequorEvent['event']> | undefined)?.id;
  // Percent-encoded: an id is the source's text, and the header's entries are comma-separated.
  return id == null ? isoOrNumber(event.timestamp) : `id:${encodeURIComponent(id)}`;
}

function ruleIdsHeader(error: RuleEvaluationError): string {
  const ids = error.failures.map((f) => f.ruleId.slice(0, 200));
  if (ids.length <= MAX_RULE_IDS_IN_HEADER) return ids.join(',');
  return `${ids.slice(0, MAX_RULE_IDS_IN_HEADER).join(',')},+${ids.length - MAX_RULE_IDS_IN_HEADER} more`;
}
