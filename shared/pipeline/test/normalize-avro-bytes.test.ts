/**
 * The normalizer's Avro values, written by the model codec's compiled writer, are byte for byte what
 * avsc writes for the same events: every line of the seeded scenario (Winlogbeat, Elastic Endpoint,
 * flat Windows, Zeek) and of the Security-Datasets captures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEventCodec } from '@sequor/model';
import { getFormat } from '@sequor/formats';
import { generateScenario } from '@sequor/scenarios';
import { createNormalizeProcessor, singleObjectEventEncoder } from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const securityDatasets = path.resolve(repoRoot, '../shared/datasets/security-datasets');
const codec = createEventCodec();

function expectAvscBytes(format: string, lines: readonly string[]): number {
  const processor = createNormalizeProcessor({
    bindings: [{ topic: 't', format: getFormat(format) }],
    encoder: singleObjectEventEncoder(),
  });
  let compared = 0;
  const differing: number[] = [];
  lines.forEach((line, offset) => {
    for (const out of processor.process({ topic: 't', partition: 0, offset, value: Buffer.from(line) })
      .outputs) {
      if (!out.value.subarray(10).equals(codec.type.toBuffer(out.event))) differing.push(offset);
      compared++;
    }
  });
  expect(differing).toEqual([]);
  return compared;
}

describe("normalized Avro values are avsc's bytes", () => {
  it('over every line of a seeded scenario, all four formats', () => {
    const { files } = generateScenario({ seed: 3, events: 4000 });
    let compared = 0;
    for (const [file, text] of files) {
      const lines = text.split('\n').filter((l) => l !== '');
      const format = file.endsWith('.log')
        ? getFormat(`zeek-${path.basename(file, '.log').replaceAll('_', '-')}`).name
        : file === 'winlogbeat.ndjson'
          ? 'winlogbeat'
          : file === 'endpoint.ndjson'
            ? 'ecs'
            : file === 'flat-windows.ndjson'
              ? 'flat-windows'
              : undefined;
      if (format !== undefined) compared += expectAvscBytes(format, lines);
    }
    expect(compared).toBeGreaterThan(3000);
  });

  it('over every Security-Datasets record', () => {
    let compared = 0;
    for (const file of readdirSync(securityDatasets).filter((f) => f.endsWith('.json'))) {
      const lines = readFileSync(path.join(securityDatasets, file), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      compared += expectAvscBytes('flat-windows', lines);
    }
    expect(compared).toBeGreaterThan(15_000);
  }, 60_000);
});
