// @sequor/model/testing: test doubles of the model's seams. Not for production code: services talk to a
// real registry (`@sequor/kafka`'s ConfluentSchemaRegistry) or to none.
import type { SchemaRegistry } from '../codec.js';
import { avroType, canonicalForm, CodecError } from '../codec.js';

export { sampleAlert } from './sample-alert.js';

/** In-memory SchemaRegistry for tests. Ids start at 1, one id per canonical form. */
export class InMemorySchemaRegistry implements SchemaRegistry {
  private readonly byId = new Map<number, string>();
  private readonly idByCanonical = new Map<string, number>();
  private readonly subjects = new Map<string, number[]>();

  async getSchema(id: number): Promise<string> {
    const s = this.byId.get(id);
    if (s === undefined)
      throw new CodecError('unknown-schema-id', `schema id ${id} is not registered`, { schemaId: id });
    return s;
  }

  async register(subject: string, schema: string): Promise<number> {
    const canonical = canonicalForm(avroType(schema));
    let id = this.idByCanonical.get(canonical);
    if (id === undefined) {
      id = this.byId.size + 1;
      this.byId.set(id, schema);
      this.idByCanonical.set(canonical, id);
    }
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }
}
