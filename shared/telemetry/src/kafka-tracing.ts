import type { Attributes, Context, Link, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from './otel.js';
import type { RecordHeaders } from '@sequor/model';
import { extractContext, injectContext } from './headers.js';
import { UnsampledRemoteSpan, hasUnsampledTraceparent } from './unsampled-span.js';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_MESSAGE_KEY,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SEQUOR_ALERT,
  ATTR_SEQUOR_ALERT_HOST_NAME,
  ATTR_SEQUOR_ALERT_ID,
  ATTR_SEQUOR_ALERT_SEVERITY,
  ATTR_SEQUOR_EVIDENCE_COUNT,
  ATTR_SEQUOR_EVIDENCE_EVENT_ID,
  ATTR_SEQUOR_EVIDENCE_INDEX,
  ATTR_SEQUOR_RULE_ID,
  ATTR_SEQUOR_RULE_NAME,
  ATTR_SEQUOR_RULE_VERSION,
  MESSAGING_SYSTEM_KAFKA,
} from './semconv.js';

/** The part of a consumed batch the spans describe (`@sequor/kafka`'s `RecordBatch` fits). */
export interface TracedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: { readonly length: number };
}

/** The part of a consumed record the spans describe (`@sequor/kafka`'s `ConsumedRecord` fits). */
export interface TracedRecord {
  readonly key: Buffer | string | null;
  readonly offset: string;
  readonly headers?: RecordHeaders;
}

/**
 * What an alert span describes: a structural subset of `@sequor/rules`' `Alert`, so an alert object is
 * passed as is.
 */
export interface AlertSpanSubject {
  readonly alert: { readonly id: string };
  readonly rule: {
    readonly id: string;
    readonly name: string;
    readonly version?: number;
    readonly severity?: string;
  };
  readonly entity?: { readonly host?: { readonly name?: string | null } };
  /** Aligned with the evidence contexts: their event ids become link attributes. */
  readonly evidence?: readonly { readonly event_id: string }[];
}

/** The span every call returns while tracing is disabled: no allocation, nothing recorded or injected. */
export const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** How a `KafkaTracing` decides; fixed at start. */
export interface KafkaTracingOptions {
  /** False when the SDK or trace export is disabled: every helper returns `NOOP_SPAN` at once. */
  readonly enabled: boolean;
  /**
   * The sampler is parent-based (`parentbased_*`, the default): a child of an unsampled span is never
   * sampled, so the helpers skip the SDK for such children and pass the parent's context on.
   */
  readonly followsParent: boolean;
  /**
   * The configured propagators are W3C ones only (tracecontext, baggage: the default), so an unsampled
   * record's headers can be recognised in place and passed on verbatim, without parsing.
   */
  readonly w3cPropagation: boolean;
}

/**
 * Spans for one consumed batch: a `receive {topic}` span for the batch, and `process {topic}` spans
 * for its records. Get one from `KafkaTracing.startReceive`; end it when the batch's output is
 * acknowledged.
 */
export class BatchTrace {
  /** The batch span (`receive {topic}`, kind CLIENT). */
  readonly span: Span;
  private readonly processName: string;
  private readonly batchContext: Context;
  private readonly linkToBatch: Link | undefined;

  private readonly tracer: Tracer;
  private readonly enabled: boolean;
  private readonly followsParent: boolean;
  private readonly w3cPropagation: boolean;

  /** @internal Built by `KafkaTracing.startReceive`. */
  constructor(
    tracer: Tracer,
    options: KafkaTracingOptions,
    private readonly batch: TracedBatch,
    private readonly groupId: string,
  ) {
    this.tracer = tracer;
    this.enabled = options.enabled;
    this.followsParent = options.followsParent;
    this.w3cPropagation = options.w3cPropagation;
    this.processName = `process ${batch.topic}`;
    if (!this.enabled) {
      this.span = NOOP_SPAN;
      this.batchContext = ROOT_CONTEXT;
      this.linkToBatch = undefined;
      return;
    }
    this.span = tracer.startSpan(
      `receive ${batch.topic}`,
      { kind: SpanKind.CLIENT, root: true },
      ROOT_CONTEXT,
    );
    this.batchContext = trace.setSpan(ROOT_CONTEXT, this.span);
    const recording = this.span.isRecording();
    this.linkToBatch = recording ? { context: this.span.spanContext() } : undefined;
    if (recording) {
      this.span.setAttributes({
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_KAFKA,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'receive',
        [ATTR_MESSAGING_OPERATION_NAME]: 'receive',
        [ATTR_MESSAGING_DESTINATION_NAME]: batch.topic,
        [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(batch.partition),
        [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: groupId,
        [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: batch.records.length,
      });
    }
  }

  /**
   * Starts the `process {topic}` span (kind CONSUMER) of one record. Its parent is the context the
   * producer injected into the record's headers, so one event's spans form one trace across services
   * and follow the producer's sampling decision; a record without one (raw telemetry from a shipper)
   * gets the batch span as parent. When the parent is the producer, a link points to the batch span.
   * The caller ends the span when the record is processed.
   *
   * When the parent was not sampled and the sampler is parent-based (the default), the SDK would only
   * make a non-recording span with a fresh id; the parent's own context is returned instead (as a
   * non-recording span), which propagates the same trace id and decision for a fraction of the cost.
   * At a 1 % ratio that is 99 % of records; with W3C propagation their headers are not even parsed.
   */
  startProcess(record: TracedRecord): Span {
    if (!this.enabled) return NOOP_SPAN;
    if (this.followsParent && this.w3cPropagation && hasUnsampledTraceparent(record.headers)) {
      return new UnsampledRemoteSpan(record.headers!);
    }
    const extracted = extractContext(record.headers);
    const producer = trace.getSpanContext(extracted);
    const fromProducer = producer !== undefined;
    if (this.followsParent) {
      if (!fromProducer) {
        if (!isSampled(this.span.spanContext())) return this.span;
      } else if (!isSampled(producer)) {
        return trace.wrapSpanContext(producer);
      }
    }
    const span = this.tracer.startSpan(
      this.processName,
      { kind: SpanKind.CONSUMER },
      fromProducer ? extracted : this.batchContext,
    );
    // Attributes only for recorded spans: at a 1 % ratio the other 99 % cost no attribute objects.
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_KAFKA,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_OPERATION_NAME]: 'process',
        [ATTR_MESSAGING_DESTINATION_NAME]: this.batch.topic,
        [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(this.batch.partition),
        [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: this.groupId,
        [ATTR_MESSAGING_KAFKA_OFFSET]: Number(record.offset),
      });
      const key = keyString(record.key);
      if (key !== undefined) span.setAttribute(ATTR_MESSAGING_KAFKA_MESSAGE_KEY, key);
      if (fromProducer && this.linkToBatch !== undefined) span.addLink(this.linkToBatch);
    }
    return span;
  }

  /** Ends the batch span; with an error, marks it failed. */
  end(error?: unknown): void {
    if (error !== undefined) recordFailure(this.span, error);
    this.span.end();
  }
}

// Never called: a disabled KafkaTracing returns before it would start a span.
const UNUSED_TRACER: Tracer = trace.getTracer('@sequor/telemetry/disabled');

/**
 * Span helpers for the Kafka hops, following the OpenTelemetry messaging semantic conventions
 * (`messaging.system=kafka`, `messaging.operation.type` receive/process/send, destination, partition,
 * offset, key, consumer group). Get it from `start()` as `telemetry.tracing`.
 *
 * ```ts
 * const batchTrace = tracing.startReceive(batch, groupId);
 * for (const record of batch.records) {
 *   const span = batchTrace.startProcess(record);
 *   const headers = {};
 *   tracing.startSend(outputTopic, record.key, headers, span).end();
 *   out.push({ topic: outputTopic, key: record.key, value: transform(record.value), headers });
 *   span.end();
 * }
 * await producer.sendAll(out);
 * batchTrace.end();
 * ```
 */
export class KafkaTracing {
  /** Alert spans (and their send spans) in flight: a send span whose parent is one is always sampled too. */
  private readonly alertSpans = new WeakSet<Span>();
  /** The last unsampled parent `startSend` injected, and what it injected: a batch's records share one. */
  private injectedParent: Span | undefined;
  private injectedHeaders: RecordHeaders = {};
  readonly enabled: boolean;
  private readonly followsParent: boolean;

  constructor(
    private readonly tracer: Tracer,
    private readonly options: KafkaTracingOptions,
  ) {
    this.enabled = options.enabled;
    this.followsParent = options.followsParent;
  }

  /** Tracing that records nothing: for tests and tools that run the pipeline without telemetry. */
  static disabled(): KafkaTracing {
    return new KafkaTracing(UNUSED_TRACER, { enabled: false, followsParent: true, w3cPropagation: true });
  }

  /** Starts the batch span and returns the batch's trace, which starts its records' process spans. */
  startReceive(batch: TracedBatch, groupId: string): BatchTrace {
    return new BatchTrace(this.tracer, this.options, batch, groupId);
  }

  /**
   * Starts a `send {topic}` span (kind PRODUCER) as a child of `parent` (a process or alert span; a new
   * trace when absent) and injects its context into `headers`, which then go with the produced record.
   * Injected even when the span is not sampled, so the consumer follows the same decision (under an
   * unsampled parent and a parent-based sampler, the parent's context itself is injected and returned).
   * The caller ends the span once the record is handed to the producer (or acknowledged, if it waits).
   */
  startSend(topic: string, key: Buffer | string | null, headers: RecordHeaders, parent?: Span): Span {
    if (!this.enabled) return NOOP_SPAN;
    const alert = parent !== undefined && this.alertSpans.has(parent);
    if (parent instanceof UnsampledRemoteSpan) {
      parent.copyPropagationHeaders(headers);
      return parent;
    }
    if (parent !== undefined && !alert && this.followsParent && !isSampled(parent.spanContext())) {
      // Not sampled under a parent-based sampler: pass the parent's context on unchanged (see startProcess).
      if (parent !== this.injectedParent) {
        this.injectedHeaders = injectContext({}, trace.setSpan(ROOT_CONTEXT, parent));
        this.injectedParent = parent;
      }
      for (const field in this.injectedHeaders) headers[field] = this.injectedHeaders[field];
      return parent;
    }
    const span = this.tracer.startSpan(
      `send ${topic}`,
      alert
        ? { kind: SpanKind.PRODUCER, attributes: { [ATTR_SEQUOR_ALERT]: true } }
        : { kind: SpanKind.PRODUCER },
      parent === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, parent),
    );
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_KAFKA,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
        [ATTR_MESSAGING_OPERATION_NAME]: 'send',
        [ATTR_MESSAGING_DESTINATION_NAME]: topic,
      });
      const keyText = keyString(key);
      if (keyText !== undefined) span.setAttribute(ATTR_MESSAGING_KAFKA_MESSAGE_KEY, keyText);
    }
    injectContext(headers, trace.setSpan(ROOT_CONTEXT, span));
    return span;
  }

  /**
   * Starts the span of one alert: `alert {rule name}`, a new trace (an alert joins many events, which
   * may sit in many traces), with a link to the span of every evidence event (`evidence[i]` belongs to
   * `alert.evidence[i]`; undefined entries, e.g. events decoded before tracing started, are skipped).
   * Always recorded and sampled, whatever the sampling ratio. Pass it as `parent` to `startSend` for the
   * alert record, so the record carries the alert's trace; end it after that.
   */
  startAlertSpan(alert: AlertSpanSubject, evidence: readonly (SpanContext | undefined)[]): Span {
    if (!this.enabled) return NOOP_SPAN;
    const links: Link[] = [];
    for (let i = 0; i < evidence.length; i++) {
      const context = evidence[i];
      if (context === undefined || context === INVALID_SPAN_CONTEXT) continue;
      const attributes: Attributes = { [ATTR_SEQUOR_EVIDENCE_INDEX]: i };
      const eventId = alert.evidence?.[i]?.event_id;
      if (eventId !== undefined) attributes[ATTR_SEQUOR_EVIDENCE_EVENT_ID] = eventId;
      links.push({ context, attributes });
    }
    const attributes: Attributes = {
      [ATTR_SEQUOR_ALERT]: true,
      [ATTR_SEQUOR_ALERT_ID]: alert.alert.id,
      [ATTR_SEQUOR_RULE_ID]: alert.rule.id,
      [ATTR_SEQUOR_RULE_NAME]: alert.rule.name,
      [ATTR_SEQUOR_EVIDENCE_COUNT]: alert.evidence?.length ?? evidence.length,
    };
    if (alert.rule.version !== undefined) attributes[ATTR_SEQUOR_RULE_VERSION] = alert.rule.version;
    if (alert.rule.severity !== undefined) attributes[ATTR_SEQUOR_ALERT_SEVERITY] = alert.rule.severity;
    const host = alert.entity?.host?.name;
    if (host !== undefined && host !== null) attributes[ATTR_SEQUOR_ALERT_HOST_NAME] = host;
    const span = this.tracer.startSpan(
      `alert ${alert.rule.name}`,
      { kind: SpanKind.INTERNAL, root: true, attributes, links },
      ROOT_CONTEXT,
    );
    this.alertSpans.add(span);
    return span;
  }
}

/** Marks a span failed with the error (status ERROR plus an exception event). */
export function recordFailure(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** True when the span context was sampled (its spans are exported). */
export function isSampled(context: SpanContext): boolean {
  return (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** Record keys in Sequor are host names (UTF-8); the conventions want the key as a string. */
function keyString(key: Buffer | string | null): string | undefined {
  if (key === null) return undefined;
  return typeof key === 'string' ? key : key.toString('utf8');
}
