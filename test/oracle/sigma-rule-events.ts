/**
 * Events written from the rules themselves, so that the differential test exercises every rule's values
 * and modifiers, not only the ~200 rules the real events touch. Per rule, seeded: one event that
 * satisfies one of its search identifiers (picked at random, filters included), and one that satisfies
 * all of them at once. Each is an evtx document of the rule's logsource (its first variant in Sequor's
 * Windows pipeline: Channel, EventID, ...), with the searched fields in EventData.
 *
 * An event only has to be plausible input: which rules match it is what the two engines decide, each on its
 * own. Values are rendered from the rule's parsed values (after modifiers): a wildcard becomes seeded
 * filler text (empty, a letter, or text with a space and a backslash), a regular expression a random text
 * its parse tree in Sequor accepts (Python's `re` then judges it in pySigma), a CIDR its network address,
 * a `null` no field or an empty one, an `exists: false` no field.
 */
import { defaultPipeline, parsePcre, type SigmaRule, type SigmaString, type SigmaValue } from '@sequor/sigma';
import { flattenEvtx, seededRandom, type EvtxDocument, type OracleEvent } from './sigma-events.ts';

type DetectionItem =
  SigmaRule['searches'] extends ReadonlyMap<string, infer S>
    ? S extends { kind: 'map'; items: readonly (infer I)[] }
      ? I
      : never
    : never;
export type SearchNode = SigmaRule['searches'] extends ReadonlyMap<string, infer S> ? S : never;

const FILLERS = ['', 'a', 'x y\\'];
/** Characters tried for `.` and negated classes: letters, digits, separators, a non-ASCII letter. */
const PROBES = ['a', 'Z', '0', ' ', '-', '/', '\\', '_', '.', ':', '\n', 'é'];

type RegexNode = ReturnType<typeof parsePcre>['tree'];

/** Writes the fields that satisfy a rule's searches (also used for Zeek rules: sigma-zeek-differential.test.ts). */
export class RuleEventWriter {
  constructor(private readonly random: () => number) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private string(s: SigmaString): string {
    return s.parts
      .map((p) =>
        typeof p === 'string' ? p : p.description === '?' ? this.pick(['a', '\\', '-']) : this.pick(FILLERS),
      )
      .join('');
  }

  private inRanges(ranges: readonly number[], codePoint: number): boolean {
    for (let i = 0; i < ranges.length; i += 2)
      if (codePoint >= (ranges[i] as number) && codePoint <= (ranges[i + 1] as number)) return true;
    return false;
  }

  /** A random text the regex tree (Sequor's reading of the pattern) accepts. */
  private sample(node: RegexNode): string {
    switch (node.kind) {
      case 'empty':
      case 'nothing':
        return '';
      case 'anyString':
        return this.pick(FILLERS);
      case 'anyChar':
        return this.pick(PROBES);
      case 'char':
        return String.fromCodePoint(node.codePoint);
      case 'class': {
        if (node.negated) {
          const outside = PROBES.filter((p) => !this.inRanges(node.ranges, p.codePointAt(0) as number));
          return outside.length > 0 ? this.pick(outside) : '';
        }
        const pair = Math.floor(this.random() * (node.ranges.length / 2)) * 2;
        const lo = node.ranges[pair] as number;
        const hi = Math.min(node.ranges[pair + 1] as number, lo + 25);
        return String.fromCodePoint(lo + Math.floor(this.random() * (hi - lo + 1)));
      }
      case 'interval': {
        const n = node.min + Math.floor(this.random() * (Math.min(node.max, node.min + 100) - node.min + 1));
        return String(n).padStart(node.width, '0');
      }
      case 'concat':
        return node.items.map((item) => this.sample(item)).join('');
      case 'union':
        return this.sample(this.pick(node.items));
      case 'repeat': {
        const count =
          node.min +
          Math.floor(this.random() * (Math.min(node.max ?? node.min + 3, node.min + 3) - node.min + 1));
        let out = '';
        for (let i = 0; i < count; i++) out += this.sample(node.item);
        return out;
      }
    }
  }

  /** A text the value matches (or, for a regex, one Sequor's reading of it accepts); undefined for "no field". */
  value(v: SigmaValue, fields: Record<string, string>): string | undefined {
    switch (v.kind) {
      case 'string':
        return this.string(this.pick(v.alternatives));
      case 'number':
      case 'boolean':
        return String(v.value);
      case 'null':
        // Absent, or present and empty: which of the two `null` matches is for the engines to agree on.
        return this.pick([undefined, '']);
      case 're':
        try {
          return this.sample(parsePcre(v.pattern, v.flags).tree);
        } catch {
          return v.pattern; // a pattern Sequor refuses: its own text is still plausible input
        }
      case 'cidr':
        return v.text.split('/')[0];
      case 'compare':
        return String(v.op === 'gt' ? v.value + 1 : v.op === 'lt' ? v.value - 1 : v.value);
      case 'exists':
        return v.value ? 'present' : undefined;
      case 'fieldref':
        // The referenced field gets a value too when it has none yet, so that the two can be equal.
        return (fields[v.field] ??= this.pick(['C:\\Users\\a\\x.exe', 'ACME\\admin']));
    }
  }

  /** The fields of one map of a search: every item, each with one of its values (all of them for `all`). */
  map(items: readonly DetectionItem[], fields: Record<string, string>): void {
    for (const item of items) {
      const field = item.field ?? 'Data';
      const texts = (item.link === 'all' ? item.values : [this.pick(item.values)])
        .map((v) => this.value(v, fields))
        .filter((t): t is string => t !== undefined);
      if (texts.length === 0) continue;
      const text = texts.join(' ');
      const before = fields[field];
      fields[field] = before === undefined ? text : `${before} ${text}`;
    }
  }

  search(node: SearchNode, fields: Record<string, string>): void {
    if (node.kind === 'map') this.map(node.items, fields);
    else this.search(this.pick(node.maps), fields);
  }
}

function logsourceSystem(rule: SigmaRule): { system: Record<string, unknown>; data: Record<string, string> } {
  const resolved = defaultPipeline.resolve(rule.logsource);
  const conditions = typeof resolved === 'string' || resolved[0] === undefined ? {} : resolved[0].conditions;
  const system: Record<string, unknown> = {
    Provider: { '#attributes': { Name: 'Sequor-Oracle-Generator' } },
    EventID: 0,
    Channel: 'Unknown',
    Computer: 'oracle-host',
  };
  const data: Record<string, string> = {};
  for (const [field, values] of Object.entries(conditions)) {
    const value = values[0];
    if (value === undefined) continue;
    if (field === 'EventID') system['EventID'] = Number(value);
    else if (field === 'Channel') system['Channel'] = String(value);
    else if (field === 'Provider_Name') system['Provider'] = { '#attributes': { Name: String(value) } };
    else data[field] = String(value);
  }
  return { system, data };
}

/** Each character in the other case, where it has one (`ß` becomes `SS`). */
function swapCase(s: string): string {
  let out = '';
  for (const c of s) {
    const lower = c.toLowerCase();
    out += c === lower ? c.toUpperCase() : lower;
  }
  return out;
}

/** Per rule: an event for one seeded search identifier, and one for all of them. */
export function ruleEvents(rules: readonly SigmaRule[], seed: number): OracleEvent[] {
  const writer = new RuleEventWriter(seededRandom(seed));
  const out: OracleEvent[] = [];
  const random = seededRandom(seed + 1);
  for (const rule of rules) {
    const names = [...rule.searches.keys()];
    if (names.length === 0) continue;
    const one = names[Math.floor(random() * names.length)] as string;
    for (const [kind, chosen] of [
      ['one', [one]],
      ['all', names],
    ] as const) {
      const { system, data } = logsourceSystem(rule);
      const fields: Record<string, string> = { ...data };
      for (const name of chosen) writer.search(rule.searches.get(name) as SearchNode, fields);
      // A field that names a System child (EventID, Channel, Provider_Name, ...) is set there, not twice.
      for (const key of Object.keys(fields))
        if (/^provider_(name|guid)$/i.test(key)) {
          const attributes = (system['Provider'] as { '#attributes': Record<string, string> })['#attributes'];
          attributes[key.slice('Provider_'.length)] = fields[key] as string;
          delete fields[key];
        } else if (Object.keys(system).some((k) => k.toLowerCase() === key.toLowerCase())) {
          system[key] = fields[key];
          delete fields[key];
        }
      // Half the one-search events in the other case (Unicode, not only ASCII): Sigma ignores case.
      const swapped = kind === 'one' && random() < 0.5;
      if (swapped) for (const key of Object.keys(fields)) fields[key] = swapCase(fields[key] as string);
      const document = { Event: { System: system, EventData: fields } } as unknown as EvtxDocument;
      const origin = `rule-${kind}${swapped ? '-swapped' : ''}:${rule.id ?? rule.file}${kind === 'one' ? `:${one}` : ''}`;
      out.push({ origin, document, fields: flattenEvtx(document, origin) });
    }
  }
  return out;
}
