import { describe, expect, it } from 'vitest';
import { parseSourceBindings } from '@sequor/formats';
import { generateScenario } from '@sequor/scenarios';
import {
  createNormalizeProcessor,
  estimateEncodedBytes,
  inMemoryEvents,
  singleObjectEventEncoder,
} from '../src/index.js';

describe('events carried as objects', () => {
  const scenario = generateScenario({ seed: 5, events: 2000 });
  const files = scenario.groundTruth.files;
  const bindings = parseSourceBindings(
    files.map((f) => `${f.format}:${f.path.replace(/[^A-Za-z0-9._-]/g, '_')}`).join(','),
  );

  /** Every file's lines through a normalizer with `encoder`; the outputs in file order. */
  function normalizeAll(encoder: typeof inMemoryEvents) {
    const normalize = createNormalizeProcessor({ bindings, encoder });
    return files.flatMap((file, i) =>
      (scenario.files.get(file.path) as string)
        .split('\n')
        .filter((line) => line !== '')
        .flatMap(
          (line, offset) =>
            normalize.process({
              topic: bindings[i]!.topic,
              partition: 0,
              offset,
              value: Buffer.from(line),
            }).outputs,
        ),
    );
  }

  it('the in-memory encoder gives the same events and keys, with empty values', () => {
    const encoded = normalizeAll(singleObjectEventEncoder());
    const unencoded = normalizeAll(inMemoryEvents);
    expect(unencoded.length).toBe(encoded.length);
    expect(unencoded.map((o) => [o.key, o.event, o.headers])).toEqual(
      encoded.map((o) => [o.key, o.event, o.headers]),
    );
    expect(unencoded.every((o) => o.value.length === 0)).toBe(true);
  });

  it('estimates the events of every format within 5 % of their Avro encoding (what the byte bounds take)', () => {
    const outputs = normalizeAll(singleObjectEventEncoder());
    const formats = new Set(outputs.map((o) => o.event.origin.format));
    expect(formats.size).toBeGreaterThanOrEqual(4);
    for (const o of outputs) {
      const ratio = estimateEncodedBytes(o.event) / o.value.length;
      expect(ratio, `${o.event.origin.format} event ${o.event.event.id}`).toBeGreaterThan(0.95);
      expect(ratio).toBeLessThan(1.05);
    }
  });

  it('counts a long field by its length: a hostile command line weighs what it holds', () => {
    const small = { process: { command_line: 'cmd' } };
    const large = { process: { command_line: 'x'.repeat(1_000_000) } };
    expect(estimateEncodedBytes(large) - estimateEncodedBytes(small)).toBe(1_000_000 - 3);
  });
});
