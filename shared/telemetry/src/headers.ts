import type { Context, SpanContext, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { ROOT_CONTEXT, propagation, trace } from './otel.js';
import type { RecordHeaders } from '@sequor/model';

/**
 * Reads propagation fields from kafkajs headers. Consumed values are Buffers (W3C fields are ASCII, so
 * latin1 decoding is exact and the cheapest); a repeated header comes as an array, which the W3C
 * propagator reduces to its first value.
 */
export const kafkaHeaderGetter: TextMapGetter<RecordHeaders | undefined> = {
  keys(carrier) {
    return carrier === undefined ? [] : Object.keys(carrier);
  },
  get(carrier, key) {
    const value = carrier?.[key];
    if (value === undefined || typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('latin1');
    return value.map((item) => (typeof item === 'string' ? item : item.toString('latin1')));
  },
};

/** Writes propagation fields as string headers (kafkajs sends them as UTF-8), replacing earlier values. */
export const kafkaHeaderSetter: TextMapSetter<RecordHeaders> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/**
 * Writes `context`'s span context (W3C `traceparent`, plus `tracestate` and `baggage` when present) into
 * the headers through the globally registered propagator (`OTEL_PROPAGATORS`, default tracecontext and
 * baggage). A no-op while the SDK is not started or disabled. Returns `headers` for chaining.
 *
 * ```ts
 * const headers = injectContext({}, trace.setSpan(ROOT_CONTEXT, sendSpan));
 * await producer.send({ topic, key, value, headers });
 * ```
 */
export function injectContext(headers: RecordHeaders, context: Context): RecordHeaders {
  propagation.inject(context, headers, kafkaHeaderSetter);
  return headers;
}

/**
 * The context a producer injected into the record's headers (its span context as a remote parent), or
 * `ROOT_CONTEXT` when the record carries none or an invalid one.
 */
export function extractContext(headers: RecordHeaders | undefined): Context {
  if (headers === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, kafkaHeaderGetter);
}

/** The producer's span context carried by the headers, if any. */
export function spanContextFromHeaders(headers: RecordHeaders | undefined): SpanContext | undefined {
  return trace.getSpanContext(extractContext(headers));
}
