import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionFor } from '../src/partitioner.js';
import { javaCompatiblePartitioner } from '../src/producer.js';
import { JAVA_MURMUR2 } from './java-murmur2.js';

const label = (key: string | Buffer): string =>
  typeof key === 'string' ? JSON.stringify(key) : key.toString('hex');

describe('murmur2 / partitionFor against the Java client', () => {
  it.each(JAVA_MURMUR2.map((row) => [label(row.key), row]))('%s', (_label, row) => {
    const bytes = typeof row.key === 'string' ? Buffer.from(row.key, 'utf8') : row.key;
    expect(murmur2(bytes)).toBe(row.murmur2);
    expect(partitionFor(row.key, 6)).toBe(row.p6);
    expect(partitionFor(row.key, 12)).toBe(row.p12);
    expect(partitionFor(row.key, 1000)).toBe(row.p1000);
  });

  it('treats a string key as its UTF-8 bytes', () => {
    for (const key of ['host-1', '日本語', 'ü']) {
      expect(partitionFor(key, 97)).toBe(partitionFor(Buffer.from(key, 'utf8'), 97));
    }
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionFor('a', 0)).toThrow(RangeError);
    expect(() => partitionFor('a', 2.5)).toThrow(RangeError);
  });
});

describe('kafkajs partitioners', () => {
  const metadata = (n: number) =>
    Array.from({ length: n }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));

  it("kafkajs 2.x's DefaultPartitioner agrees with partitionFor (so a plain kafkajs producer would too)", () => {
    const kafkajsDefault = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 2000; i++) {
      const key = `host-${i}`;
      const partition = kafkajsDefault({
        topic: 't',
        partitionMetadata: metadata(6),
        message: { key, value: null },
      });
      expect(partition).toBe(partitionFor(key, 6));
    }
  });

  it('javaCompatiblePartitioner uses partitionFor for keys and round-robins key-less records over leaders', () => {
    const partitioner = javaCompatiblePartitioner();
    for (const row of JAVA_MURMUR2) {
      expect(
        partitioner({ topic: 't', partitionMetadata: metadata(6), message: { key: row.key, value: null } }),
      ).toBe(row.p6);
    }
    const withoutLeader = metadata(4).map((p) => (p.partitionId === 2 ? { ...p, leader: -1 } : p));
    const chosen = new Set<number>();
    for (let i = 0; i < 30; i++) {
      chosen.add(
        partitioner({ topic: 't', partitionMetadata: withoutLeader, message: { key: null, value: null } }),
      );
    }
    expect([...chosen].sort()).toEqual([0, 1, 3]);
  });
});
