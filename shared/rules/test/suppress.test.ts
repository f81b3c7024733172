import type { Match } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import { analyzeRuleText } from '../src/analyze.js';
import { compileRule } from '../src/compile.js';
import { buildAlertUpdate } from '../src/suppress.js';
import type { Rule } from '../src/types.js';
import { validRule } from './fixtures.js';
import { decode } from './helpers.js';

const file = 'rules/test.yaml';
// validRule is 21 lines; the suppress block starts at line 22.
const withSuppress = (block: string) => analyzeRuleText(validRule + block, file);

function loaded(block: string): Rule {
  const r = withSuppress(block);
  expect(r.errors).toEqual([]);
  return r.rule!;
}

describe('suppress in a rule file', () => {
  it('loads by, window and missing; missing defaults to suppress; a rule without it has none', () => {
    expect(
      loaded('suppress:\n  by: [host.name, user.name]\n  window: 1h\n  missing: alert\n').suppress,
    ).toEqual({
      by: ['host.name', 'user.name'],
      window: { text: '1h', ms: 3_600_000 },
      missing: 'alert',
    });
    expect(loaded('suppress: { by: [host.name], window: 30m }\n').suppress?.missing).toBe('suppress');
    expect(loaded('').suppress).toBeNull();
  });

  it('reports each bad piece at its file:line:column', () => {
    const r = withSuppress(
      'suppress:\n  by: [host.name, host.nmae]\n  window: 1x\n  missing: drop\n  windw: 1h\n',
    );
    expect(r.rule).toBeNull();
    expect(r.errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['unknown-key', 26, 3],
      ['invalid-field', 24, 11],
      ['invalid-field', 25, 12],
      ['eql-semantic', 23, 19],
    ]);
    expect(r.errors.map((e) => e.detail)).toEqual([
      expect.stringMatching(/unknown key `windw` in `suppress`: did you mean `window`\?/),
      expect.stringMatching(/suppress.window` must be a positive duration/),
      expect.stringMatching(/suppress.missing` must be one of "suppress", "alert"/),
      expect.stringMatching(/unknown field `host.nmae`.*did you mean `host.name`/),
    ]);
    expect(r.errors[0]?.message).toMatch(/^rules\/test\.yaml:26:3: /);
  });

  it('requires by and window, and takes at most three by fields', () => {
    const missing = withSuppress('suppress: {}\n');
    expect(missing.errors.map((e) => e.detail)).toEqual([
      expect.stringMatching(/suppress has no `by`/),
      expect.stringMatching(/suppress has no `window`/),
    ]);
    const many = withSuppress('suppress: { by: [host.id, host.name, user.id, user.name], window: 1h }\n');
    expect(many.errors.map((e) => [e.detail, e.line])).toEqual([[expect.stringMatching(/at most 3/), 22]]);
    const notMap = withSuppress('suppress: 1h\n');
    expect(notMap.errors.map((e) => e.detail)).toEqual([expect.stringMatching(/must be a mapping/)]);
  });

  it('refuses suppress written with no value, and a by field named twice, instead of suppressing otherwise', () => {
    // Its lines commented out: an empty key turned suppression off without a word.
    const empty = withSuppress('suppress:\n  # by: [host.id]\n  # window: 1h\n');
    expect(empty.rule).toBeNull();
    expect(empty.errors.map((e) => [e.line, e.detail])).toEqual([
      [22, expect.stringMatching(/`suppress` is empty/)],
    ]);
    const twice = withSuppress('suppress: { by: [host.id, host.id], window: 1h }\n');
    expect(twice.errors.map((e) => [e.line, e.detail])).toEqual([
      [22, expect.stringMatching(/`suppress.by` names host.id twice/)],
    ]);
  });
});

describe('compileSuppression', () => {
  const events = (rule: Rule) =>
    decode(rule, [
      {
        '@timestamp': '2024-01-01T00:00:00Z',
        event: { id: 'a' },
        host: { name: 'h1' },
        user: { name: 'u1' },
      },
      { '@timestamp': '2024-01-01T00:00:01Z', event: { id: 'b' }, host: { name: 'h1' } },
      { '@timestamp': '2024-01-01T00:00:02Z', event: { id: 'c' }, user: { name: 'u1' } },
    ]);
  const match = (evidence: readonly SequorEvent[]): Match<SequorEvent> => ({
    kind: 'sequence',
    events: evidence,
    keyValues: [],
    firstTime: 0,
    lastTime: 0,
  });

  it('keys an alert by the first non-null value of each by field among its evidence', () => {
    const rule = loaded('suppress: { by: [host.name, user.name], window: 1h }\n');
    const spec = compileRule(rule).suppress!;
    expect(spec.windowMs).toBe(3_600_000);
    const [a, b, c] = events(rule) as [SequorEvent, SequorEvent, SequorEvent];
    expect(spec.groupKey(match([a]))).toBe(spec.groupKey(match([b, c]))); // h1 from b, u1 from c
    expect(spec.groupKey(match([c, b]))).toBe(spec.groupKey(match([a]))); // order within evidence: first non-null
    expect(spec.groupKey(match([b]))).not.toBe(spec.groupKey(match([a]))); // user.name missing
  });

  it('missing: suppress groups alerts missing a value; missing: alert leaves them unsuppressed', () => {
    const grouped = loaded('suppress: { by: [host.name, user.name], window: 1h }\n');
    const [, b, c] = events(grouped) as [SequorEvent, SequorEvent, SequorEvent];
    const spec = compileRule(grouped).suppress!;
    expect(spec.groupKey(match([b]))).toEqual(expect.any(String));
    expect(spec.groupKey(match([b]))).not.toBe(spec.groupKey(match([c])));
    const alerting = loaded('suppress: { by: [host.name, user.name], window: 1h, missing: alert }\n');
    expect(compileRule(alerting).suppress!.groupKey(match([b]))).toBeNull();
  });

  it('builds the update record of a closed window: the opening alert id, group values, count, window, last evidence', () => {
    const rule = loaded('suppress: { by: [host.name, user.name], window: 1h }\n');
    const compiled = compileRule(rule);
    const [a, b, c] = events(rule) as [SequorEvent, SequorEvent, SequorEvent];
    const opening = compiled.toAlert(match([a]), { detectedAt: 5 });
    const update = buildAlertUpdate(
      compiled.suppress!,
      opening,
      {
        opening: match([a]),
        groupKey: 'g',
        suppressed: 2,
        last: match([b, c]),
        firstTime: 10,
        lastTime: 20,
        windowStart: 10,
        windowEnd: 3_600_010,
        closedBy: 'watermark',
      },
      99,
    );
    expect(update).toEqual({
      alert: { id: opening.alert.id },
      timestamp: 99,
      rule: { id: rule.id, name: rule.name, version: 1 },
      suppression: {
        by: [
          { field: 'host.name', value: 'h1' },
          { field: 'user.name', value: 'u1' },
        ],
        count: 2,
        window_start: 10,
        window_end: 3_600_010,
        first_time: 10,
        last_time: 20,
        closed_by: 'watermark',
      },
      last_evidence: ['b', 'c'],
    });
  });

  it('a rule without suppress compiles to null', () => {
    expect(compileRule(loaded('')).suppress).toBeNull();
  });
});
