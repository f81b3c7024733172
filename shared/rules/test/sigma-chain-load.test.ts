/**
 * Sigma correlations of correlations through the rule loader (`loadRuleSet` → `checkRuleSet`): an inner
 * correlation runs only inside the outer one's chain, so it loads without a rule (or an error) of its own;
 * a cycle, an inner correlation no compiled correlation runs, and an inner `group-by` without the
 * partition key are refused loudly, never loaded as nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { compileRule, loadRuleSet } from '../src/index.js';
import { sigmaSecurityRuleText } from '../src/testing/index.js';
import { matchesOf } from './helpers.js';

const FAILED = sigmaSecurityRuleText('failed_login', '53ba33fd-3a50-4468-a5ef-c583635cfa92', 4625);
const SUCCESS = sigmaSecurityRuleText('successful_login', '4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', 4624);

const correlation = (
  name: string,
  id: string,
  type: string,
  rules: readonly string[],
  groupBy: readonly string[],
  extra = '',
): string => `title: ${name}
id: ${id}
name: ${name}
correlation:
  type: ${type}
  rules: [${rules.join(', ')}]
  group-by: [${groupBy.join(', ')}]
  timespan: 10m
${extra}`;

const OUTER = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5b01';
const INNER = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5b02';
const COUNT = '  condition:\n    gte: 3\n';

describe('loadRuleSet: Sigma correlations of correlations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-chain-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (...documents: string[]) => {
    await writeFile(path.join(dir, 'rules.yml'), documents.join('---\n'));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    return {
      ids: loaded.rules.map((r) => r.id),
      errors: loaded.errors.map((e) => `${e.code}: ${e.message}`),
    };
  };

  it('loads a chain as its outer correlation alone, with no error for the inner one', async () => {
    const loaded = await load(
      correlation(
        'brute_then_success',
        OUTER,
        'temporal_ordered',
        ['many_failed', 'successful_login'],
        ['User', 'host.id'],
      ),
      correlation('many_failed', INNER, 'event_count', ['failed_login'], ['User', 'host.id'], COUNT),
      FAILED,
      SUCCESS,
    );
    expect(loaded).toEqual({ ids: [OUTER], errors: [] });
  });

  it('refuses correlations that name each other in a cycle, or themselves, instead of loading nothing', async () => {
    const cycle = await load(
      correlation('ca', OUTER, 'event_count', ['cb'], ['host.id'], COUNT),
      correlation('cb', INNER, 'event_count', ['ca'], ['host.id'], COUNT),
      FAILED,
    );
    // failed_login, which neither names, alerts on its own.
    expect(cycle.ids).toEqual(['53ba33fd-3a50-4468-a5ef-c583635cfa92']);
    expect(cycle.errors).toHaveLength(2);
    // Each refused at its own `rules` entry, with the cycle as its path.
    expect(cycle.errors).toHaveLength(2);
    expect(cycle.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /rules\.yml:6:11: names correlation "cb", which is refused: .*a cycle: "ca" → "cb" → "ca"/,
        ),
        expect.stringMatching(
          /rules\.yml:17:11: names correlation "ca", which is refused: .*a cycle: "cb" → "ca" → "cb"/,
        ),
      ]),
    );
    const self = await load(correlation('self', OUTER, 'event_count', ['self'], ['host.id'], COUNT), FAILED);
    expect(self.ids).toEqual(['53ba33fd-3a50-4468-a5ef-c583635cfa92']);
    expect(self.errors).toEqual([expect.stringMatching(/a cycle: "self" → "self"/)]);
  });

  it('refuses a chain whose inner correlation groups without the partition key, naming that one', async () => {
    const loaded = await load(
      correlation('brute_then_success', OUTER, 'temporal', ['many_failed', 'successful_login'], ['host.id']),
      correlation('many_failed', INNER, 'event_count', ['failed_login'], ['TargetUserName'], COUNT),
      FAILED,
      SUCCESS,
    );
    expect(loaded.ids).toEqual([]);
    expect(loaded.errors).toEqual([
      expect.stringMatching(
        /^incompatible-partition-key: .*it runs correlation "many_failed" \(.*rules\.yml:\d+\), whose group-by \[TargetUserName\] reads \[TargetUserName\], which does not include host\.id/,
      ),
    ]);
  });

  it("refuses a chain with its inner correlation's reason; an inner one whose outer is refused says nothing more", async () => {
    // The outer names a rule no file has: refused, and the inner one it names runs nowhere.
    const unknown = await load(
      correlation(
        'brute_then_success',
        OUTER,
        'temporal_ordered',
        ['many_failed', 'no_such_rule'],
        ['host.id'],
      ),
      correlation('many_failed', INNER, 'event_count', ['failed_login'], ['User', 'host.id'], COUNT),
      FAILED,
    );
    expect(unknown).toEqual({ ids: [], errors: [expect.stringMatching(/"no_such_rule"/)] });
    // The inner one cannot run (value_percentile): the outer is refused with that reason, at its type.
    const percentile = await load(
      correlation(
        'brute_then_success',
        OUTER,
        'temporal_ordered',
        ['many_failed', 'successful_login'],
        ['host.id'],
      ),
      correlation(
        'many_failed',
        INNER,
        'value_percentile',
        ['failed_login'],
        ['User', 'host.id'],
        '  condition:\n    field: User\n    lte: 1\n',
      ),
      FAILED,
      SUCCESS,
    );
    expect(percentile.ids).toEqual([]);
    // Both refused: the outer one at its name of the inner one, with that one's reason; the inner one (which
    // runs nowhere else) with its own.
    expect(percentile.errors).toEqual([
      expect.stringMatching(
        /^sigma-unsupported: .*rules\.yml:6:\d+: names correlation "many_failed", which is refused: .*rules\.yml:14:9: value_percentile is refused/,
      ),
      expect.stringMatching(/^sigma-unsupported: .*rules\.yml:14:9: value_percentile is refused/),
    ]);
  });

  it("decides what is silent from every loaded correlation's generate, whatever the selection keeps", async () => {
    const stable = (doc: string) => doc.replace('correlation:', 'status: stable\ncorrelation:');
    const experimental = (doc: string) => doc.replace('correlation:', 'status: experimental\ncorrelation:');
    const selectStable = async (...documents: string[]) => {
      await writeFile(path.join(dir, 'rules.yml'), documents.join('---\n'));
      const loaded = await loadRuleSet(
        { paths: [dir], builtins: false },
        { selection: { statuses: ['stable'] } },
      );
      expect(loaded.errors).toEqual([]);
      return loaded.rules.map((r) => r.name);
    };
    const failed = FAILED.replace('name: failed_login\n', 'name: failed_login\nstatus: stable\n');
    // An inner correlation named by an outer one the selection leaves out stays a building block.
    expect(
      await selectStable(
        experimental(correlation('outer', OUTER, 'event_count', ['inner'], ['host.id'], COUNT)),
        stable(correlation('inner', INNER, 'event_count', ['failed_login'], ['host.id'], COUNT)),
        failed,
      ),
    ).toEqual([]);
    // generate: true on a correlation the selection leaves out still lets the rule alert on its own.
    expect(
      await selectStable(
        stable(correlation('kept', OUTER, 'event_count', ['failed_login'], ['host.id'], COUNT)),
        experimental(
          correlation(
            'left_out',
            INNER,
            'event_count',
            ['failed_login'],
            ['host.id'],
            `${COUNT}  generate: true\n`,
          ),
        ),
        failed,
      ),
    ).toEqual(['failed_login', 'kept']);
  });

  it('runs a rule the selection leaves out only for the kept correlation reading it, even with generate: true', async () => {
    // failed_login has no status (left out by --status stable); the stable correlation reads it and says
    // generate: true: the rule counts for it but must not alert on its own, as the selection asked.
    await writeFile(
      path.join(dir, 'rules.yml'),
      [
        correlation(
          'many_failed',
          OUTER,
          'event_count',
          ['failed_login'],
          ['host.id'],
          `${COUNT}  generate: true\n`,
        ).replace('correlation:', 'status: stable\ncorrelation:'),
        FAILED,
      ].join('---\n'),
    );
    const loaded = await loadRuleSet(
      { paths: [dir], builtins: false },
      { selection: { statuses: ['stable'] } },
    );
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((r) => r.name)).toEqual(['many_failed']);
    const rule = loaded.files.find((f) => f.rule?.id === '53ba33fd-3a50-4468-a5ef-c583635cfa92');
    expect(rule).toMatchObject({ silenced: true, keptForCorrelation: true });
  });

  it('keeps the rules a correlation left out by the selection names silent (building blocks)', async () => {
    const rule = FAILED.replace('name: failed_login\n', 'name: failed_login\nstatus: stable\n');
    await writeFile(
      path.join(dir, 'rules.yml'),
      [
        correlation('many_failed', OUTER, 'event_count', ['failed_login'], ['host.id'], COUNT).replace(
          'correlation:',
          'status: experimental\ncorrelation:',
        ),
        rule,
      ].join('---\n'),
    );
    const loaded = await loadRuleSet(
      { paths: [dir], builtins: false },
      { selection: { statuses: ['stable'] } },
    );
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules).toEqual([]);
    expect(loaded.files.find((f) => f.rule?.id === '53ba33fd-3a50-4468-a5ef-c583635cfa92')?.silenced).toBe(
      true,
    );
  });

  it('keeps the rules a correlation that does not load names silent, and says why at each', async () => {
    // A typo in its type: refused at its line, and its building blocks must not start alerting on every 4625.
    const typo = correlation('many_failed', OUTER, 'event_cont', ['failed_login'], ['host.id'], COUNT);
    await writeFile(path.join(dir, 'rules.yml'), [typo, FAILED, SUCCESS].join('---\n'));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors.map((e) => [e.line, e.detail])).toEqual([
      [5, expect.stringMatching(/`type` must be one of/)],
    ]);
    expect(loaded.rules.map((r) => r.id)).toEqual(['4d0a2c83-c62c-4ed4-b475-c7e23a9269b8']);
    expect(loaded.warnings.map((w) => [w.line, w.detail])).toEqual([
      [
        14,
        expect.stringMatching(
          /no alerts of its own: correlation "many_failed" \(.*rules\.yml:4:1\) names it and did not load/,
        ),
      ],
    ]);
    // With generate: true it would not have silenced them: neither does it when it does not load.
    await writeFile(
      path.join(dir, 'rules.yml'),
      [typo.replace('correlation:', 'generate: true\ncorrelation:'), FAILED].join('---\n'),
    );
    const generating = await loadRuleSet({ paths: [dir], builtins: false });
    expect(generating.rules.map((r) => r.id)).toEqual(['53ba33fd-3a50-4468-a5ef-c583635cfa92']);
  });

  it('keeps them silent too when the correlation is refused for its sequor: attribute, a YAML error elsewhere in its file, or a bad item beside the names', async () => {
    const counting = correlation('many_failed', OUTER, 'event_count', ['failed_login'], ['host.id'], COUNT);
    const silentWith = async (...documents: string[]) => {
      await writeFile(path.join(dir, 'a.yml'), documents.join('---\n'));
      await writeFile(path.join(dir, 'b.yml'), FAILED);
      const loaded = await loadRuleSet({ paths: [dir], builtins: false });
      expect(loaded.errors).not.toEqual([]);
      return {
        ids: loaded.rules.map((r) => r.id),
        warned: loaded.warnings.map((w) => `${path.basename(w.file)}:${w.line}:${w.column}`),
      };
    };
    // Refused by Sequor (a list no folder holds), not by the Sigma reader.
    const listed = counting.replace(
      'correlation:',
      'sequor:\n  exceptions:\n    - { field: user.name, operator: in_list, list: admins }\ncorrelation:',
    );
    expect(await silentWith(listed)).toEqual({ ids: [], warned: ['b.yml:3:7'] });
    // A YAML error in another document of the same file refuses the whole file.
    expect(await silentWith(counting, 'title: broken\ndetection: { selection: { EventID: [4624 }')).toEqual({
      ids: [],
      warned: ['b.yml:3:7'],
    });
    // A YAML error in the correlation's own document, after its names.
    expect(await silentWith(`${counting}bad: [unclosed\n`)).toEqual({ ids: [], warned: ['b.yml:3:7'] });
    // One unreadable item beside the names, by id this time.
    const byId = correlation(
      'many_failed',
      OUTER,
      'event_count',
      ['53ba33fd-3a50-4468-a5ef-c583635cfa92', '~'],
      ['host.id'],
      COUNT,
    );
    expect(await silentWith(byId)).toEqual({ ids: [], warned: ['b.yml:2:5'] });
    // An inner correlation whose outer does not load stays silent too, and says so at its name, as does
    // successful_login, the outer's other building block.
    const outer = correlation(
      'brute_then_success',
      OUTER,
      'temporal_orderd',
      ['many_failed', 'successful_login'],
      ['host.id'],
    );
    const inner = correlation('many_failed', INNER, 'event_count', ['failed_login'], ['host.id'], COUNT);
    expect(await silentWith(outer, inner, SUCCESS)).toEqual({
      ids: [],
      warned: ['a.yml:23:7', 'a.yml:12:7'],
    });
  });

  it('warns of tuning that does not do what it says, where it is written (the rules still load)', async () => {
    const tuned = (sequor: string) =>
      FAILED.replace('detection:', `sequor:\n${sequor.replace(/^/gm, '  ')}\ndetection:`);
    await writeFile(
      path.join(dir, 'rules.yml'),
      [
        correlation('many_failed', OUTER, 'event_count', ['failed_login'], ['host.id'], COUNT),
        tuned(
          'suppress: { by: [user.name], window: 1h }\nexceptions:\n  - field: user.name\n    operator: is\n    values: admin',
        ),
      ].join('---\n'),
    );
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((r) => r.id)).toEqual([OUTER]);
    // At the nested keys (line 19: `  suppress: { by: [user.name], ... }`), not at the `sequor:` line.
    expect(loaded.warnings.map((w) => [w.code, w.line, w.column, w.detail])).toEqual([
      [
        'invalid-field',
        19,
        13,
        expect.stringMatching(/raises no alerts of its own .* its suppression never applies/),
      ],
      [
        'incompatible-partition-key',
        19,
        19,
        expect.stringMatching(/kept per partition .* by \[user\.name\] does not include host\.id/),
      ],
    ]);
  });

  describe("a rule's exceptions inside the correlations that name it", () => {
    const EXCEPT_ADMIN = 'exceptions:\n  - field: user.name\n    operator: is\n    values: admin';
    const withSequor = (text: string, sequor: string, before: string) =>
      text.replace(before, `sequor:\n${sequor.replace(/^/gm, '  ')}\n${before}`);
    // Failed logons on one host, a minute apart: two by admin, then three by bob.
    const failed = ['admin', 'admin', 'bob', 'bob', 'bob'].map((user, i) =>
      securityEvent(`f${i}`, '4625', user, i * 60_000),
    );

    const chain = correlation(
      'brute_then_success',
      OUTER,
      'temporal_ordered',
      ['many_failed', 'successful_login'],
      ['host.id'],
    );
    const inner = correlation('many_failed', INNER, 'event_count', ['failed_login'], ['host.id'], COUNT);

    /** The ids of each alert's evidence events when `events` run through the one alerting correlation. */
    const alertsOver = async (documents: string[], events: readonly SequorEvent[]) => {
      await writeFile(path.join(dir, 'rules.yml'), documents.join('---\n'));
      const loaded = await loadRuleSet({ paths: [dir], builtins: false });
      expect(loaded.errors).toEqual([]);
      expect(loaded.warnings).toEqual([]);
      const [rule] = loaded.rules.filter((r) => r.type === 'sigma-correlation');
      const compiled = compileRule(rule!);
      return matchesOf(compiled, events).map((match) =>
        compiled.toAlert(match, { detectedAt: 1 }).evidence.map((e) => e.event_id),
      );
    };

    it('keeps the events a named rule excepts out of the count, as out of its own alerts', async () => {
      const counting = correlation('many_failed', OUTER, 'event_count', ['failed_login'], ['host.id'], COUNT);
      // Without exceptions the window's third failed logon is admin's second and bob's first.
      expect(await alertsOver([counting, FAILED], failed)).toEqual([['f0', 'f1', 'f2']]);
      const excepted = await alertsOver([counting, withSequor(FAILED, EXCEPT_ADMIN, 'detection:')], failed);
      expect(excepted).toEqual([['f2', 'f3', 'f4']]);
    });

    it('reads the fields those exceptions test (a projected decoder keeps them)', async () => {
      const exceptDomain = EXCEPT_ADMIN.replace('user.name', 'user.domain');
      await writeFile(
        path.join(dir, 'rules.yml'),
        [
          chain,
          withSequor(inner, EXCEPT_ADMIN.replace('user.name', 'host.name'), 'correlation:'),
          withSequor(FAILED, exceptDomain, 'detection:'),
          SUCCESS,
        ].join('---\n'),
      );
      const loaded = await loadRuleSet({ paths: [dir], builtins: false });
      expect(loaded.errors).toEqual([]);
      const fields = compileRule(loaded.rules.find((r) => r.id === OUTER)!).compiled.fieldsUsed;
      expect(fields).toEqual(expect.arrayContaining(['user.domain', 'host.name']));
    });

    it('keeps the events an inner correlation excepts out of it inside a chain', async () => {
      const success = securityEvent('s0', '4624', 'bob', 4.5 * 60_000);
      const events = [...failed.slice(0, 4), success];
      // Three failed logons before the success: the chain alerts, unless admin's do not count.
      expect(await alertsOver([chain, inner, FAILED, SUCCESS], events)).toHaveLength(1);
      expect(
        await alertsOver([chain, withSequor(inner, EXCEPT_ADMIN, 'correlation:'), FAILED, SUCCESS], events),
      ).toEqual([]);
    });
  });
});

/** A Security event of `eventId` by `user` on host h1, `offsetMs` into 2024. */
function securityEvent(id: string, eventId: string, user: string, offsetMs: number): SequorEvent {
  return {
    timestamp: Date.UTC(2024, 0, 1) + offsetMs,
    event: { id, code: eventId, dataset: null },
    host: { id: 'h1', name: 'H1' },
    user: { name: user },
    winlog: { channel: 'Security', event_id: eventId, event_data: { TargetUserName: user } },
    origin: { format: 'test', topic: null, partition: null, offset: null },
  } as unknown as SequorEvent;
}
