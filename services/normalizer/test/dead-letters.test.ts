import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '@sequor/kafka';
import type { DeadLetterVerdict } from '@sequor/pipeline';
import { NormalizeError } from '@sequor/formats';
import { normalizerDeadLetter, TOO_LARGE_PREFIX_BYTES } from '../src/index.js';

const origin = { topic: 'windows.raw', partition: 3 };

function verdict(reason: NormalizeError['reason'], message = 'bad'): DeadLetterVerdict {
  const error = new NormalizeError(reason, message, 'flat-windows', {
    topic: 'windows.raw',
    partition: 3,
    offset: 41,
  });
  return { reason, errorType: error.name, message: error.message, format: 'flat-windows', error };
}

function record(value: Buffer | null): ConsumedRecord {
  return {
    key: Buffer.from('k1'),
    value,
    offset: '41',
    timestamp: '1700000000000',
    headers: { traceparent: Buffer.from('00-abc-def-01') },
  };
}

describe('normalizerDeadLetter', () => {
  it('keeps the original key, value and headers and adds reason, type, message, format and origin', () => {
    const value = Buffer.from('{"EventID":');
    const dl = normalizerDeadLetter('dlq', record(value), origin, verdict('malformed', 'not JSON'));
    expect(dl.topic).toBe('dlq');
    expect(dl.key).toEqual(Buffer.from('k1'));
    expect(dl.value).toBe(value);
    expect(dl.headers).toEqual({
      traceparent: Buffer.from('00-abc-def-01'),
      'error.type': 'NormalizeError',
      'error.message': 'flat-windows windows.raw[3]@41: malformed: not JSON',
      'error.reason': 'malformed',
      'sequor.format': 'flat-windows',
      'origin.topic': 'windows.raw',
      'origin.partition': '3',
      'origin.offset': '41',
      'origin.timestamp': '1700000000000',
    });
  });

  it('keeps only the first 64 KiB of a too-large record and says how long it was', () => {
    const value = Buffer.alloc(10 << 20, 0x41);
    const dl = normalizerDeadLetter('dlq', record(value), origin, verdict('too-large'));
    expect(dl.value?.length).toBe(TOO_LARGE_PREFIX_BYTES);
    expect(dl.headers?.['error.value-truncated']).toBe('true');
    expect(dl.headers?.['error.value-bytes']).toBe(String(10 << 20));
    expect(dl.headers?.['error.reason']).toBe('too-large');
  });

  it('keeps a large record of any other reason whole', () => {
    const value = Buffer.alloc(TOO_LARGE_PREFIX_BYTES * 2, 0x41);
    const dl = normalizerDeadLetter('dlq', record(value), origin, verdict('malformed'));
    expect(dl.value).toBe(value);
    expect(dl.headers?.['error.value-truncated']).toBeUndefined();
  });

  it('dead-letters a tombstone as a tombstone', () => {
    const dl = normalizerDeadLetter(
      'dlq',
      record(null),
      origin,
      verdict('malformed', 'record has no value (tombstone)'),
    );
    expect(dl.value).toBeNull();
    expect(dl.headers?.['error.reason']).toBe('malformed');
  });
});
