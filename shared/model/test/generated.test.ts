import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateFromDisk, generatedFile, interfaceName, renderEventTypes, schemaFile } from '../scripts/gen-types.js';

describe('generated SequorEvent type', () => {
  it('is what the generator makes from schemas/event.avsc today (run `npm run gen -w @sequor/model` if not)', () => {
    expect(readFileSync(generatedFile, 'utf8')).toBe(generateFromDisk());
  });

  it('maps nullable fields to T | null and required ones to T', () => {
    const text = renderEventTypes({
      type: 'record',
      name: 'Event',
      namespace: 'sequor',
      fields: [
        { name: 'timestamp', type: 'long' },
        { name: 'tags', type: ['null', { type: 'array', items: 'string' }], default: null },
        { name: 'host', type: ['null', { type: 'record', name: 'Host', fields: [{ name: 'id', type: ['null', 'string'], default: null }] }], default: null },
      ],
    });
    expect(text).toContain('export interface SequorEvent {\n  timestamp: number;\n  tags: string[] | null;\n  host: EventHost | null;\n}');
    expect(text).toContain('export interface EventHost {\n  id: string | null;\n}');
    expect(text.indexOf('interface SequorEvent')).toBeLessThan(text.indexOf('interface EventHost'));
  });

  it('names nested records with an Event prefix', () => {
    expect(interfaceName({ name: 'sequor.Event' }, true)).toBe('SequorEvent');
    expect(interfaceName({ name: 'File' }, false)).toBe('EventFile');
    expect(interfaceName({ name: 'EventMeta' }, false)).toBe('EventMeta');
  });

  it('embeds the schema file verbatim (as parsed)', async () => {
    const { eventSchema } = await import('../src/event.generated.js');
    expect(eventSchema).toEqual(JSON.parse(readFileSync(schemaFile, 'utf8')));
  });
});
