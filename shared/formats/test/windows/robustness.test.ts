import { describe, expect, it } from 'vitest';
import { createEventCodec } from '@sequor/model';
import { NormalizeError, getFormat } from '../../src/index.js';
import { datasetLines } from './helpers.js';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const oddValues: unknown[] = [
  {},
  [],
  ['x'],
  true,
  false,
  null,
  -1,
  1e300,
  0.5,
  '',
  '-',
  'x'.repeat(300),
  { nested: { deeper: 1 } },
];

/** Mutations of real records: truncation, byte flips, and every key given an odd value in turn. */
function mutants(lines: readonly string[], random: () => number): (string | Uint8Array)[] {
  const out: (string | Uint8Array)[] = [];
  for (const line of lines) {
    out.push(line.slice(0, Math.floor(random() * line.length)));
    const bytes = new TextEncoder().encode(line);
    bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    out.push(bytes);
    const doc = JSON.parse(line) as Record<string, unknown>;
    for (const key of Object.keys(doc)) {
      out.push(JSON.stringify({ ...doc, [key]: oddValues[Math.floor(random() * oddValues.length)] }));
    }
  }
  return out;
}

function winlogbeatOf(flat: Record<string, unknown>): Record<string, unknown> {
  const { EventID, Channel, Hostname, RecordNumber, '@timestamp': ts, ...data } = flat;
  return {
    '@timestamp': ts,
    host: { name: Hostname },
    event: { code: String(EventID) },
    winlog: {
      event_id: EventID,
      channel: Channel,
      computer_name: Hostname,
      record_id: RecordNumber,
      event_data: data,
    },
  };
}

describe('Windows formats never throw anything but NormalizeError, and what they return fits the schema', () => {
  const codec = createEventCodec();
  const random = rng(20240601);
  const sample = datasetLines('cmd_service_mod_fax.json').filter((_, i) => i % 7 === 0);
  const cases: [string, (string | Uint8Array)[]][] = [
    ['flat-windows', mutants(sample, random)],
    [
      'winlogbeat',
      mutants(
        sample.map((l) => JSON.stringify(winlogbeatOf(JSON.parse(l) as Record<string, unknown>))),
        random,
      ),
    ],
    [
      'ecs',
      mutants(
        sample.map((l) =>
          JSON.stringify({
            ...winlogbeatOf(JSON.parse(l) as Record<string, unknown>),
            winlog: undefined,
            user: { name: 'u', domain: 'd' },
            file: { path: 'C:\\x.txt', size: 5 },
          }),
        ),
        random,
      ),
    ],
  ];
  it.each(cases)('%s over mutated real records', (format, inputs) => {
    const decoder = getFormat(format).createDecoder();
    let ok = 0;
    let failed = 0;
    inputs.forEach((input, offset) => {
      try {
        const events = decoder.decode(typeof input === 'string' ? new TextEncoder().encode(input) : input, {
          topic: 'fuzz',
          partition: 0,
          offset,
        });
        for (const ev of events) {
          expect(typeof ev.event.id).toBe('string');
          expect(Number.isFinite(ev.timestamp)).toBe(true);
          expect(codec.decode(codec.encodeSingleObject(ev))).toEqual(ev);
        }
        ok++;
      } catch (e) {
        if (!(e instanceof NormalizeError))
          throw new Error(`${format} input #${offset} threw ${String(e)}: ${String(input).slice(0, 200)}`);
        failed++;
      }
    });
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(ok).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
  });
});
