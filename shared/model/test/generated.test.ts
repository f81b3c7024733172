import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GenTarget } from '../scripts/gen-types.js';
import {
  alertTarget,
  alertUpdateTarget,
  eventTarget,
  generateFromDisk,
  interfaceName,
  renderEventTypes,
  renderTypes,
  repoRoot,
} from '../scripts/gen-types.js';

const onDisk = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');

describe.each([
  ['SequorEvent', eventTarget],
  ['Alert', alertTarget],
  ['AlertUpdate', alertUpdateTarget],
])('generated %s type', (_name: string, target: GenTarget) => {
  it(`is what the generator makes from ${target.schemaPath} today (run \`npm run gen -w @sequor/model\` if not)`, () => {
    expect(onDisk(target.generatedPath)).toBe(generateFromDisk(target));
  });

  it('embeds the schema file verbatim (as parsed)', async () => {
    const generated = (await import(path.join(repoRoot, target.generatedPath))) as Record<string, unknown>;
    expect(generated[target.schemaConst]).toEqual(JSON.parse(onDisk(target.schemaPath)));
  });
});

describe('gen-types', () => {
  it('maps nullable fields to T | null and required ones to T', () => {
    const text = renderEventTypes({
      type: 'record',
      name: 'Event',
      namespace: 'sequor',
      fields: [
        { name: 'timestamp', type: 'long' },
        { name: 'tags', type: ['null', { type: 'array', items: 'string' }], default: null },
        {
          name: 'host',
          type: [
            'null',
            {
              type: 'record',
              name: 'Host',
              fields: [{ name: 'id', type: ['null', 'string'], default: null }],
            },
          ],
          default: null,
        },
      ],
    });
    expect(text).toContain(
      'export interface SequorEvent {\n  timestamp: number;\n  tags: string[] | null;\n  host: EventHost | null;\n}',
    );
    expect(text).toContain('export interface EventHost {\n  id: string | null;\n}');
    expect(text.indexOf('interface SequorEvent')).toBeLessThan(text.indexOf('interface EventHost'));
  });

  it('names nested records with the target prefix', () => {
    expect(interfaceName({ name: 'sequor.Event' }, true)).toBe('SequorEvent');
    expect(interfaceName({ name: 'File' }, false)).toBe('EventFile');
    expect(interfaceName({ name: 'EventMeta' }, false)).toBe('EventMeta');
    expect(interfaceName({ name: 'sequor.Alert' }, true, alertTarget)).toBe('Alert');
    expect(interfaceName({ name: 'AlertRule' }, false, alertTarget)).toBe('AlertRule');
  });

  it('resolves a record named again by reference, and makes a read-only target readonly throughout', () => {
    const text = renderTypes(
      {
        type: 'record',
        name: 'Alert',
        namespace: 'sequor',
        fields: [
          {
            name: 'tactic',
            type: { type: 'record', name: 'AlertRef', fields: [{ name: 'id', type: 'string' }] },
          },
          { name: 'technique', type: ['null', 'AlertRef'], default: null },
          { name: 'tags', type: { type: 'array', items: 'string' } },
          { name: 'value', type: ['null', 'string', { type: 'array', items: 'string' }] },
          { name: 'refs', type: { type: 'array', items: ['null', 'sequor.AlertRef'] } },
        ],
      },
      alertTarget,
    );
    expect(text).toContain(
      'export interface Alert {\n  readonly tactic: AlertRef;\n  readonly technique: AlertRef | null;\n  readonly tags: readonly string[];\n' +
        '  readonly value: string | readonly string[] | null;\n  readonly refs: ReadonlyArray<AlertRef | null>;\n}',
    );
    expect(() =>
      renderTypes({ type: 'record', name: 'X', fields: [{ name: 'y', type: 'Nowhere' }] }, alertTarget),
    ).toThrow(/unknown type name: Nowhere/);
  });
});
