import { describe, expect, it } from 'vitest';
import type { CatalogValidator } from '../src/rule-catalog.js';
import { RuleCatalog } from '../src/rule-catalog.js';
import {
  listRecordKey,
  parseRuleRecordKey,
  RuleRecordError,
  ruleRecordKey,
  ruleRevision,
} from '../src/rule-record.js';
import { MAX_VALUE_LIST_BYTES } from '../src/value-lists.js';

/**
 * A stand-in for the rule loader: `id=<id> v=<n> [uses=<list>] [bad]`. A rule naming a list that is not
 * in the set is refused, as the loader refuses it.
 */
const validate: CatalogValidator<string> = (text, source, lists, revisionOf) => {
  const fields = new Map(text.split(' ').map((p) => p.split('=') as [string, string]));
  if (text.includes('bad')) return { ok: false, errors: [`${source}: bad rule`] };
  const uses = fields.get('uses');
  if (uses !== undefined && !lists.lists.has(uses))
    return { ok: false, errors: [`${source}: value list ${uses} is missing`] };
  const listsUsed = uses === undefined ? [] : [uses];
  return {
    ok: true,
    id: fields.get('id') ?? '',
    version: Number(fields.get('v') ?? 1),
    listsUsed,
    compiled: `${text}#${revisionOf(listsUsed)}`,
  };
};

function catalog(maxRevisions?: number) {
  const c = new RuleCatalog<string>({ validate, topic: 'rules', maxRevisions });
  let offset = 0;
  const put = (key: string | null, value: string | null) => c.apply({ offset: offset++, key, value });
  return { c, put };
}

describe('rule record keys', () => {
  it('names rules and lists, and says what is wrong with any other key', () => {
    expect(parseRuleRecordKey(ruleRecordKey('r-1'))).toEqual({ kind: 'rule', id: 'r-1' });
    expect(parseRuleRecordKey(listRecordKey('admins', 'keyword'))).toEqual({
      kind: 'list',
      name: 'admins',
      type: 'keyword',
    });
    for (const bad of [
      null,
      '',
      'r-1',
      'rule:',
      'rule: x',
      'list:admins',
      'list:admins.txt',
      `rule:${'x'.repeat(2_000)}`,
    ])
      expect(parseRuleRecordKey(bad)).toBeInstanceOf(RuleRecordError);
  });

  it('a rule revision changes with the text and with the content of a list it uses, not with list order', () => {
    const a = ruleRevision(
      'text',
      new Map([
        ['l1', 'h1'],
        ['l2', 'h2'],
      ]),
    );
    expect(
      ruleRevision(
        'text',
        new Map([
          ['l2', 'h2'],
          ['l1', 'h1'],
        ]),
      ),
    ).toBe(a);
    expect(
      ruleRevision(
        'text ',
        new Map([
          ['l1', 'h1'],
          ['l2', 'h2'],
        ]),
      ),
    ).not.toBe(a);
    expect(
      ruleRevision(
        'text',
        new Map([
          ['l1', 'h1'],
          ['l2', 'h3'],
        ]),
      ),
    ).not.toBe(a);
  });
});

describe('RuleCatalog', () => {
  it('loads, changes, refuses (the old version keeps running), ignores a republish, removes', () => {
    const { c, put } = catalog();
    expect(put('rule:a', 'id=a v=1').map((x) => x.kind)).toEqual(['loaded']);
    expect(put('rule:b', 'id=b v=1').map((x) => x.kind)).toEqual(['loaded']);
    const a1 = c.current().rules.get('a')!;
    const b1 = c.current().rules.get('b')!;
    // A change without a version bump is still a change: another revision.
    const [changed] = put('rule:a', 'id=a v=1 edited');
    expect(changed).toMatchObject({ kind: 'changed', id: 'a', previousRevision: a1.revision });
    expect(c.current().rules.get('b')).toBe(b1); // unchanged: the same object, so its state is kept
    const [refused] = put('rule:a', 'id=a v=2 bad');
    expect(refused).toMatchObject({ kind: 'refused', id: 'a', keeps: c.current().rules.get('a')!.revision });
    expect(refused!.kind === 'refused' && refused!.errors[0]).toMatch(/rules@3 rule:a: bad rule/);
    expect(put('rule:b', 'id=b v=1').map((x) => x.kind)).toEqual(['unchanged']);
    expect(put('rule:a', null)).toMatchObject([{ kind: 'removed', id: 'a' }]);
    expect([...c.current().rules.keys()]).toEqual(['b']);
    expect(put('rule:zzz', null)).toEqual([]);
    expect(put('rule:c', 'id=other')).toMatchObject([
      { kind: 'refused', errors: [expect.stringMatching(/file's id is "other"/)] },
    ]);
    expect(put('junk', 'id=x')).toMatchObject([{ kind: 'malformed', key: 'junk' }]);
  });

  it('answers which rules ran at any position, by the position after the record that changed them', () => {
    const { c, put } = catalog();
    put('rule:a', 'id=a v=1'); // offset 0 -> revision at 1
    put('rule:a', 'id=a v=1 bad'); // refused: no new revision
    put('rule:a', 'id=a v=2'); // offset 2 -> revision at 3
    expect(c.revisionAt(0).revision.rules.size).toBe(0);
    expect(c.revisionAt(1).revision.position).toBe(1);
    expect(c.revisionAt(2).revision.position).toBe(1);
    expect(c.revisionAt(3).revision.rules.get('a')!.version).toBe(2);
    expect(c.revisionAt(99).revision).toBe(c.current());
    expect(c.position).toBe(3);
    // A record at an offset already applied (a redelivery) does nothing.
    expect(c.apply({ offset: 1, key: 'rule:a', value: 'id=a v=9' })).toEqual([]);
  });

  it('keeps at most maxRevisions revisions; an older position gets the oldest, not exact', () => {
    const { c, put } = catalog(3);
    for (let v = 1; v <= 6; v++) put('rule:a', `id=a v=${v}`);
    expect(c.oldestPosition).toBe(4);
    expect(c.revisionAt(2)).toMatchObject({ exact: false, revision: { position: 4 } });
    expect(c.revisionAt(5)).toMatchObject({ exact: true, revision: { position: 5 } });
  });

  it('a list change gives the rules using it a new revision; a rule waiting for a missing list loads when it comes', () => {
    const { c, put } = catalog();
    expect(put('rule:w', 'id=w uses=admins')).toMatchObject([
      { kind: 'refused', errors: [expect.stringMatching(/admins is missing/)], keeps: null },
    ]);
    put('rule:plain', 'id=plain');
    const plain = c.current().rules.get('plain')!;
    expect(put('list:admins.keyword', 'alice\nbob').map((x) => x.kind)).toEqual(['list-loaded', 'loaded']);
    const w1 = c.current().rules.get('w')!;
    const changes = put('list:admins.keyword', 'alice\nbob\ncarol');
    expect(changes).toMatchObject([
      { kind: 'list-changed', name: 'admins', entries: 3 },
      { kind: 'changed', id: 'w', previousRevision: w1.revision, becauseOfList: 'admins' },
    ]);
    expect(c.current().rules.get('plain')).toBe(plain);
    // The same list text again changes nothing; removing the list refuses the rule, whose version keeps running.
    expect(put('list:admins.keyword', 'alice\nbob\ncarol')).toEqual([]);
    const w2 = c.current().rules.get('w')!;
    expect(put('list:admins.keyword', null)).toMatchObject([
      { kind: 'list-removed', name: 'admins' },
      { kind: 'refused', id: 'w', keeps: w2.revision },
    ]);
    expect(c.current().rules.get('w')).toBe(w2);
  });

  it('refuses a list over the size bound or with a bad line, with the reason; the rest goes on', () => {
    const { c, put } = catalog();
    const huge = 'x'.repeat(MAX_VALUE_LIST_BYTES + 1);
    expect(put('list:big.keyword', huge)).toMatchObject([
      { kind: 'list-refused', name: 'big', errors: [expect.stringMatching(/more than the 64 MiB/)] },
    ]);
    expect(put('list:nets.cidr', '10.0.0.0/8\nnot-a-block')).toMatchObject([
      { kind: 'list-refused', name: 'nets' },
    ]);
    expect(put('rule:a', 'id=a').map((x) => x.kind)).toEqual(['loaded']);
    expect(c.current().rules.size).toBe(1);
  });
});
