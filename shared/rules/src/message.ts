/**
 * Alert message templates with `$field$` placeholders, as Splunk RBA messages write them
 * (`A Windows Service was created on a endpoint from $host.name$ using a registry entry`). Parsed once per
 * rule; rendering resolves each placeholder against the correlation key first, then the evidence events in
 * order, and takes the first non-null value.
 */

/** A `$name$` with a field-like name; any other `$` is literal text. */
const placeholderPattern = /\$([A-Za-z_@][\w@]*(?:\.[\w@]+)*)\$/g;

export interface Placeholder {
  /** The ECS field name between the dollars. */
  readonly field: string;
  /** Offset of the opening `$` in the template, for lint positions. */
  readonly offset: number;
  readonly length: number;
}

/** What a placeholder renders as when no key value and no evidence event has the field. */
export const missingValueText = 'unknown';

export class MessageTemplate {
  private constructor(
    /** Literal text around the placeholders: `literals.length === placeholders.length + 1`. */
    private readonly literals: readonly string[],
    readonly placeholders: readonly Placeholder[],
  ) {}

  static parse(template: string): MessageTemplate {
    const literals: string[] = [];
    const placeholders: Placeholder[] = [];
    let last = 0;
    for (const m of template.matchAll(placeholderPattern)) {
      literals.push(template.slice(last, m.index));
      placeholders.push({ field: m[1] ?? '', offset: m.index, length: m[0].length });
      last = m.index + m[0].length;
    }
    literals.push(template.slice(last));
    return new MessageTemplate(literals, placeholders);
  }

  /** The distinct fields the template names, in first-use order. */
  fields(): string[] {
    return [...new Set(this.placeholders.map((p) => p.field))];
  }

  /** Renders with `resolve(field)` giving the value (null when nothing has it). */
  render(resolve: (field: string) => unknown): string {
    let out = this.literals[0] ?? '';
    for (let i = 0; i < this.placeholders.length; i++) {
      const value = resolve(this.placeholders[i]?.field ?? '');
      out += renderValue(value) ?? missingValueText;
      out += this.literals[i + 1] ?? '';
    }
    return out;
  }
}

/** A field value as message text: arrays joined with `, `, null and empty arrays as null. */
export function renderValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    const parts = value.map(renderValue).filter((v): v is string => v !== null);
    return parts.length === 0 ? null : parts.join(', ');
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}
