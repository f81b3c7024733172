/**
 * The rule catalog a detector builds from its rules topic (`rule-record.ts`): which rules run, at which
 * revision, as of each position of the topic. Pure and synchronous: records go in in offset order
 * (`apply`), what each did comes out (`CatalogChange`, for the log and metrics), and every state the
 * rule set went through stays addressable by the topic position it started at (`revisionAt`), so a
 * partition replaying its input can run each record with the rules that first ran it.
 *
 * - A rule record is validated first (`CatalogValidator`: the rule loader's checks and the compiler,
 *   against the value lists in effect); a bad one is refused with its errors and the version that runs
 *   keeps running. The same text again changes nothing. A tombstone removes the rule.
 * - A list record (`list:<name>.<type>`) replaces the list for the rules that use it: each is validated
 *   again with the new list and, when it passes, runs as a new revision (its revision hashes the lists it
 *   uses); when it does not, it is refused and its running version keeps the list it was compiled with.
 * - Each change that alters the running rules makes a new `RuleSetRevision`, numbered by the topic
 *   position after its record; an unchanged rule is the same `CatalogRule` object in the next revision
 *   (the detector's processor keeps its state by that identity).
 *
 * Bounded: `maxRevisions` revisions are kept (the oldest dropped first); asking for a position before
 * the oldest gives the oldest, marked not exact.
 */
import type { ValueList, ValueListSet } from './value-lists.js';
import { MAX_VALUE_LIST_BYTES, parseValueList } from './value-lists.js';
import type { RuleRecordKey } from './rule-record.js';
import { listContentHash, parseRuleRecordKey, RuleRecordError, ruleRevision } from './rule-record.js';

/** One record of the rules topic, as consumed. */
export interface RuleTopicRecord {
  readonly offset: number;
  readonly key: string | null;
  /** The file's text; null for a tombstone. */
  readonly value: string | null;
}

/** A rule the catalog runs. */
export interface CatalogRule<C> {
  readonly id: string;
  /** The rule file's `version`, when it has one (logs and metrics). */
  readonly version: number | null;
  /** Content hash of its text and the lists it uses (`ruleRevision`). */
  readonly revision: string;
  readonly compiled: C;
  /** Rules-topic offset of the record it came from. */
  readonly offset: number;
  readonly text: string;
  /** Names of the value lists it uses. */
  readonly listsUsed: readonly string[];
}

/** The rules that run from topic position `position` on (until the next revision). */
export interface RuleSetRevision<C> {
  /** Every rules-topic record below it applied; 0 for the empty set before any record. */
  readonly position: number;
  readonly rules: ReadonlyMap<string, CatalogRule<C>>;
}

export type CatalogChange =
  | {
      readonly kind: 'loaded' | 'changed';
      readonly id: string;
      readonly offset: number;
      readonly version: number | null;
      readonly revision: string;
      /** `changed`: the revision it replaces. */
      readonly previousRevision?: string;
      /** Set when a list change made it (the list's name). */
      readonly becauseOfList?: string;
    }
  | {
      readonly kind: 'refused';
      readonly id: string;
      readonly offset: number;
      readonly errors: readonly string[];
      /** The revision that keeps running, null when none. */
      readonly keeps: string | null;
      readonly becauseOfList?: string;
    }
  | { readonly kind: 'removed'; readonly id: string; readonly offset: number; readonly revision: string }
  | { readonly kind: 'unchanged'; readonly id: string; readonly offset: number }
  | {
      readonly kind: 'list-loaded' | 'list-changed' | 'list-removed';
      readonly name: string;
      readonly offset: number;
      readonly entries: number;
    }
  | {
      readonly kind: 'list-refused';
      readonly name: string;
      readonly offset: number;
      readonly errors: readonly string[];
    }
  | {
      readonly kind: 'malformed';
      readonly key: string | null;
      readonly offset: number;
      readonly reason: string;
    };

export type ValidatedRule<C> =
  | {
      readonly ok: true;
      readonly id: string;
      readonly version: number | null;
      readonly listsUsed: readonly string[];
      readonly compiled: C;
    }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Checks and compiles one rule file's text. `source` names it in messages (topic, offset, key);
 * `lists` are the value lists in effect; `revisionOf` gives the revision to compile with (alerts carry
 * it) from the names of the lists the rule uses. Never throws for bad input: errors come back.
 */
export type CatalogValidator<C> = (
  text: string,
  source: string,
  lists: ValueListSet,
  revisionOf: (listsUsed: readonly string[]) => string,
) => ValidatedRule<C>;

export interface RuleCatalogOptions<C> {
  readonly validate: CatalogValidator<C>;
  /** Lists every rule may use besides the topic's (`VALUE_LISTS_DIR`); a topic list of the same name wins. */
  readonly baseLists?: ValueListSet;
  /** Names messages: `<topic>@<offset> <key>`. */
  readonly topic?: string;
  /** Revisions kept for replays (default 256). */
  readonly maxRevisions?: number;
}

interface TopicList {
  readonly list: ValueList;
  readonly hash: string;
}

export class RuleCatalog<C> {
  private readonly validate: CatalogValidator<C>;
  private readonly baseLists: ValueListSet;
  private readonly topic: string;
  private readonly maxRevisions: number;
  private readonly lists = new Map<string, TopicList>();
  private rules = new Map<string, CatalogRule<C>>();
  /** The latest text of rules refused (not running, or newer than what runs): tried again when a list changes. */
  private readonly pending = new Map<string, { readonly text: string; readonly offset: number }>();
  private readonly revisions: RuleSetRevision<C>[] = [{ position: 0, rules: new Map() }];
  private nextOffset = 0;

  constructor(options: RuleCatalogOptions<C>) {
    this.validate = options.validate;
    this.baseLists = options.baseLists ?? { dir: '', lists: new Map(), refused: new Map() };
    this.topic = options.topic ?? 'rules';
    this.maxRevisions = Math.max(1, options.maxRevisions ?? 256);
  }

  /** The next offset expected: every record below it has been applied. */
  get position(): number {
    return this.nextOffset;
  }

  /** The rules running now. */
  current(): RuleSetRevision<C> {
    return this.revisions[this.revisions.length - 1] as RuleSetRevision<C>;
  }

  /**
   * The revision in effect at topic position `position` (the last one that started at or before it).
   * `exact` false: the revisions that far back were dropped (bound), the oldest kept is returned.
   */
  revisionAt(position: number): { readonly revision: RuleSetRevision<C>; readonly exact: boolean } {
    const revisions = this.revisions;
    for (let i = revisions.length - 1; i >= 0; i--) {
      const revision = revisions[i] as RuleSetRevision<C>;
      if (revision.position <= position) return { revision, exact: true };
    }
    return { revision: revisions[0] as RuleSetRevision<C>, exact: false };
  }

  /** Oldest revision still kept (its position). */
  get oldestPosition(): number {
    return (this.revisions[0] as RuleSetRevision<C>).position;
  }

  /** Applies one record (offsets increasing; an offset already applied is ignored) and says what it did. */
  apply(record: RuleTopicRecord): CatalogChange[] {
    if (record.offset < this.nextOffset) return [];
    this.nextOffset = record.offset + 1;
    const key = parseRuleRecordKey(record.key);
    if (key instanceof RuleRecordError)
      return [{ kind: 'malformed', key: record.key, offset: record.offset, reason: key.reason }];
    const changes = key.kind === 'rule' ? this.applyRule(key.id, record) : this.applyList(key, record);
    if (changes.some((c) => c.kind === 'loaded' || c.kind === 'changed' || c.kind === 'removed')) {
      this.revisions.push({ position: record.offset + 1, rules: this.rules });
      this.rules = new Map(this.rules);
      while (this.revisions.length > this.maxRevisions) this.revisions.shift();
    }
    return changes;
  }

  private source(record: RuleTopicRecord): string {
    return `${this.topic}@${record.offset} ${record.key ?? ''}`;
  }

  private listSet(): ValueListSet {
    if (this.lists.size === 0) return this.baseLists;
    const lists = new Map(this.baseLists.lists);
    const refused = new Map(this.baseLists.refused);
    for (const [name, topicList] of this.lists) {
      lists.set(name, topicList.list);
      refused.delete(name);
    }
    return { dir: this.topic, lists, refused };
  }

  private revisionOf(text: string): (listsUsed: readonly string[]) => string {
    return (listsUsed) => {
      const hashes = new Map<string, string>();
      for (const name of listsUsed) {
        const topicList = this.lists.get(name);
        // A list from VALUE_LISTS_DIR does not change while the process runs: its name stands for it.
        hashes.set(name, topicList === undefined ? 'dir' : topicList.hash);
      }
      return ruleRevision(text, hashes);
    };
  }

  private applyRule(id: string, record: RuleTopicRecord): CatalogChange[] {
    const running = this.rules.get(id);
    const offset = record.offset;
    if (record.value === null) {
      this.pending.delete(id);
      if (running === undefined) return [];
      this.rules.delete(id);
      return [{ kind: 'removed', id, offset, revision: running.revision }];
    }
    if (running !== undefined && running.text === record.value) {
      this.pending.delete(id);
      return [{ kind: 'unchanged', id, offset }];
    }
    const change = this.admit(id, record.value, offset, this.source(record), running);
    if (change.kind === 'refused') this.pending.set(id, { text: record.value, offset });
    else this.pending.delete(id);
    return [change];
  }

  /** Validates `text` as rule `id`; runs it when it passes, else keeps `running`. */
  private admit(
    id: string,
    text: string,
    offset: number,
    source: string,
    running: CatalogRule<C> | undefined,
    becauseOfList?: string,
  ): CatalogChange {
    const because = becauseOfList === undefined ? {} : { becauseOfList };
    const validated = this.validate(text, source, this.listSet(), this.revisionOf(text));
    if (!validated.ok)
      return {
        kind: 'refused',
        id,
        offset,
        errors: validated.errors,
        keeps: running?.revision ?? null,
        ...because,
      };
    if (validated.id !== id)
      return {
        kind: 'refused',
        id,
        offset,
        errors: [
          `${source}: the key names rule ${JSON.stringify(id)} but the file's id is ${JSON.stringify(validated.id)}`,
        ],
        keeps: running?.revision ?? null,
        ...because,
      };
    const revision = this.revisionOf(text)(validated.listsUsed);
    if (running !== undefined && running.revision === revision) return { kind: 'unchanged', id, offset };
    this.rules.set(id, {
      id,
      version: validated.version,
      revision,
      compiled: validated.compiled,
      offset,
      text,
      listsUsed: validated.listsUsed,
    });
    return running === undefined
      ? { kind: 'loaded', id, offset, version: validated.version, revision, ...because }
      : {
          kind: 'changed',
          id,
          offset,
          version: validated.version,
          revision,
          previousRevision: running.revision,
          ...because,
        };
  }

  private applyList(key: Extract<RuleRecordKey, { kind: 'list' }>, record: RuleTopicRecord): CatalogChange[] {
    const { name, type } = key;
    const offset = record.offset;
    const before = this.lists.get(name);
    const source = this.source(record);
    let change: CatalogChange;
    if (record.value === null) {
      if (before === undefined) return [];
      this.lists.delete(name);
      change = { kind: 'list-removed', name, offset, entries: before.list.size };
    } else {
      const bytes = Buffer.byteLength(record.value, 'utf8');
      if (bytes > MAX_VALUE_LIST_BYTES)
        return [
          {
            kind: 'list-refused',
            name,
            offset,
            errors: [
              `${source}: ${bytes} bytes, more than the ${MAX_VALUE_LIST_BYTES / 2 ** 20} MiB a list may have`,
            ],
          },
        ];
      const hash = listContentHash(`${type}\n${record.value}`);
      if (before !== undefined && before.hash === hash) return [];
      let list: ValueList;
      try {
        list = parseValueList(name, type, source, record.value);
      } catch (error) {
        return [
          {
            kind: 'list-refused',
            name,
            offset,
            errors: [`${source}: ${error instanceof Error ? error.message : String(error)}`],
          },
        ];
      }
      this.lists.set(name, { list, hash });
      change = {
        kind: before === undefined ? 'list-loaded' : 'list-changed',
        name,
        offset,
        entries: list.size,
      };
    }
    // Every running rule that names the list is validated again against the lists as they are now, and
    // every refused one (it may have waited for this list), in id order.
    const changes: CatalogChange[] = [change];
    const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    for (const id of [...new Set([...this.rules.keys(), ...this.pending.keys()])].sort(byId)) {
      const rule = this.rules.get(id);
      const waiting = this.pending.get(id);
      const because = `${id} (list ${name} changed at ${source})`;
      if (waiting !== undefined) {
        const again = this.admit(id, waiting.text, offset, because, rule, name);
        // Still refused: it waits on; the running version (if any) is checked against the list below.
        if (again.kind !== 'refused') {
          this.pending.delete(id);
          changes.push(again);
          continue;
        }
      }
      if (rule === undefined || !rule.listsUsed.includes(name)) continue;
      const again = this.admit(id, rule.text, offset, because, rule, name);
      if (again.kind !== 'unchanged') changes.push(again);
    }
    return changes;
  }
}
