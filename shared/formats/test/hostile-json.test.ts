/**
 * Regression tests for what the fuzz tests (test/unit/fuzz/formats.test.ts) found in the JSON decoders,
 * each with its shrunk counterexample.
 */
import { describe, expect, it } from 'vitest';
import { createEventCodec } from '@sequor/model';
import { getFormat, NormalizeError } from '../src/index.js';

const codec = createEventCodec();
const enc = new TextEncoder();
const origin = { topic: 't', partition: 0, offset: 0 };

const dceRpc = (fields: Record<string, string>): string => {
  const base =
    '"uid":"CQmX9ibCSPm2L3zuVZ","id.orig_h":"10.10.1.12","id.orig_p":60271,"id.resp_h":"10.10.1.12","id.resp_p":445,"rtt":0.001321,"named_pipe":"\\\\PIPE\\\\winreg","endpoint":"winreg"';
  const extra = Object.entries(fields).map(([k, v]) => `"${k}":${v}`);
  return `{${[base, ...extra].join(',')}}`;
};

function decodeError(format: string, text: string): NormalizeError {
  try {
    getFormat(format).createDecoder().decode(enc.encode(text), origin);
  } catch (e) {
    if (e instanceof NormalizeError) return e;
    throw e;
  }
  throw new Error('expected a NormalizeError');
}

describe('deeply nested JSON values', () => {
  it('a Zeek JSON field nested 10,000 deep is a wrong-type NormalizeError, not a RangeError from the message', () => {
    // Fuzz counterexample: {"ts":[[[…[1]…]]], …} (JSON.stringify of the value for the message overflowed the stack).
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const err = decodeError('zeek-dce-rpc', dceRpc({ ts: deep, operation: '"OpenLocalMachine"' }));
    expect(err.reason).toBe('wrong-type');
    expect(err.message).toContain('ts: expected time, got an array of 1');
    expect(err.message.length).toBeLessThan(200);
  });

  it('a Zeek JSON message quotes at most 40 characters of a wrong value', () => {
    const err = decodeError(
      'zeek-dce-rpc',
      dceRpc({ ts: JSON.stringify('x'.repeat(100_000)), operation: '"OpenLocalMachine"' }),
    );
    expect(err.reason).toBe('wrong-type');
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('lone surrogates in JSON escapes', () => {
  // Fuzz counterexample: a generated record with one value set to "\ud800": the event decoded, but the Avro
  // codec wrote the lone surrogate as three bytes that read back as "\ufffd\ufffd\ufffd".
  it.each([
    [
      'flat-windows',
      '{"@timestamp":"2024-03-04T08:00:00.000Z","EventID":4624,"Channel":"Security","Hostname":"wks1","TargetUserName":"\\ud800x","TargetDomainName":"AC\\udfffME"}',
    ],
    [
      'winlogbeat',
      '{"@timestamp":"2024-03-04T08:00:00.000Z","winlog":{"event_id":4624,"channel":"Security","computer_name":"wks1","event_data":{"TargetUserName":"\\ud800x","TargetDomainName":"AC\\udfffME"}}}',
    ],
    [
      'ecs',
      '{"@timestamp":"2024-03-04T08:00:00.000Z","event":{"action":"x"},"user":{"name":"\\ud800x","domain":"AC\\udfffME"}}',
    ],
  ])('%s: become U+FFFD, so the event reads back from Avro as it was decoded', (format, line) => {
    const [ev] = getFormat(format).createDecoder().decode(enc.encode(line), origin);
    expect(ev?.user?.name).toBe('\ufffdx');
    expect(ev?.user?.domain).toBe('AC\ufffdME');
    expect(codec.decode(codec.encodeSingleObject(ev!))).toEqual(ev);
  });

  it('zeek JSON: in values and keys; surrogate pairs written as escapes stay one character', () => {
    const line = dceRpc({
      ts: '1709539201.281582',
      operation: '"\\ud83d\\ude00Open\\ud800"',
      '\\udc00': '1',
    });
    const [ev] = getFormat('zeek-dce-rpc').createDecoder().decode(enc.encode(line), origin);
    expect(ev?.dce_rpc?.operation).toBe('😀Open\ufffd');
    expect(codec.decode(codec.encodeSingleObject(ev!))).toEqual(ev);
  });

  it('an escaped backslash before "ud800" is plain text, left as it is', () => {
    const line = dceRpc({ ts: '1709539201.281582', operation: '"\\\\ud800"' });
    const [ev] = getFormat('zeek-dce-rpc').createDecoder().decode(enc.encode(line), origin);
    expect(ev?.dce_rpc?.operation).toBe('\\ud800');
  });
});

describe('integers beyond what the Avro event codec carries exactly (±2^52)', () => {
  // Fuzz counterexample: an ECS record with "@timestamp": -8.64e15 (and "event.sequence" likewise) decoded,
  // and the event read back from Avro with the sign lost: 8640000000000000.
  it.each([
    ['ecs', '{"@timestamp":-8640000000000000,"event":{"action":"x"}}', '@timestamp'],
    [
      'ecs',
      '{"@timestamp":1709539200000,"event":{"action":"x","sequence":-4503599627370497}}',
      'event.sequence',
    ],
    [
      'ecs',
      '{"@timestamp":1709539200000,"event":{"action":"x"},"file":{"size":9007199254740991}}',
      'file.size',
    ],
    [
      'flat-windows',
      '{"@timestamp":"2024-03-04T08:00:00.000Z","EventID":4688,"Channel":"Security","Hostname":"h","NewProcessId":"-4503599627370497"}',
      'NewProcessId',
    ],
    ['zeek-dce-rpc', dceRpc({ ts: '1e300', operation: '"x"' }), 'ts'],
    [
      'zeek-conn',
      '{"ts":1709539201.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":445,"proto":"tcp","conn_state":"SF","duration":1e300}',
      'duration',
    ],
    [
      'zeek-conn',
      '{"ts":1709539201.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":445,"proto":"tcp","conn_state":"SF","orig_bytes":9007199254740990}',
      'orig_bytes',
    ],
  ])('%s: %s is a wrong-type NormalizeError naming the field', (format, line, field) => {
    const err = decodeError(format, line);
    expect(err.reason).toBe('wrong-type');
    expect(err.message).toContain(field);
  });

  it('a 16-digit Zeek TSV count beyond 2^53 is wrong-type, not a rounded number', () => {
    const decoder = getFormat('zeek-conn').createDecoder();
    const lines = [
      '#separator \\x09',
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_bytes',
      '1709539201.5\tC1\t10.0.0.1\t1\t10.0.0.2\t445\ttcp\tSF\t9999999999999999',
    ];
    for (const l of lines.slice(0, 2)) expect(decoder.decode(enc.encode(l), origin)).toEqual([]);
    expect(() => decoder.decode(enc.encode(lines[2]!), origin)).toThrow(/orig_bytes: not a count/);
  });

  it('2^52 itself and -2^52 are kept and read back from Avro unchanged', () => {
    for (const ts of [2 ** 52, -(2 ** 52)]) {
      const [ev] = getFormat('ecs')
        .createDecoder()
        .decode(enc.encode(`{"@timestamp":${ts},"event":{"action":"x","sequence":${-ts}}}`), origin);
      expect(ev?.timestamp).toBe(ts);
      expect(codec.decode(codec.encodeSingleObject(ev!))).toEqual(ev);
    }
  });
});

describe('negative zero', () => {
  // Fuzz counterexamples: {"ts":-0, …} (Zeek) and {"@timestamp":-0, …} (ECS) decoded to events with -0, which
  // read back from Avro as 0: the event behind Kafka differed from the one decoded.
  it.each([
    ['ecs', '{"@timestamp":-0,"event":{"action":"x","sequence":-0}}'],
    ['zeek-dce-rpc', dceRpc({ ts: '-0', operation: '"x"' })],
    ['zeek-dce-rpc', dceRpc({ ts: '-5e-324', operation: '"x"' })],
    ['zeek-dce-rpc', dceRpc({ ts: '"-0.0"', operation: '"x"' })],
    [
      'zeek-conn',
      '{"ts":1709539201.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":-0,"id.resp_h":"10.0.0.2","id.resp_p":445,"proto":"tcp","conn_state":"SF","duration":-0,"orig_bytes":-0}',
    ],
    [
      'flat-windows',
      '{"@timestamp":"2024-03-04T08:00:00.000Z","EventID":4688,"Channel":"Security","Hostname":"h","NewProcessId":"-0","ProcessId":-0,"RecordNumber":-0}',
    ],
  ])('%s: integers of -0 are 0, so the event reads back from Avro as decoded', (format, line) => {
    const [ev] = getFormat(format).createDecoder().decode(enc.encode(line), origin);
    expect(ev).toBeDefined();
    expect(codec.decode(codec.encodeSingleObject(ev!))).toEqual(ev);
  });
});
