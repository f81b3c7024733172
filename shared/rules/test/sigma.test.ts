import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { from } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuleSetPipeline, type FilterDispatch } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { builtinRulesDir } from '../src/builtin.js';
import { compileRule } from '../src/compile.js';
import { loadRuleSet } from '../src/rule-set.js';
import { sigmaFilterDispatch, sniffRuleLanguage } from '../src/sigma.js';
import type { CompiledRule } from '../src/compile.js';

const sigmaRule = (id: string, image: string, extra = ''): string => `title: Suspicious ${image}
id: ${id}
status: test
level: informational
author: Jane Doe, John Roe
tags:
  - attack.execution
  - attack.t1059
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\${image}'
  condition: selection
${extra}`;

const filterDoc = `title: Not from the admin tools folder
logsource:
  product: windows
  category: process_creation
filter:
  rules: any
  selection:
    CurrentDirectory|startswith: 'C:\\Admin\\'
  condition: not selection
`;

/** A Sysmon process creation as the normalizer gives it (the event's own data by its Windows names). */
function sysmon(id: string, image: string, directory = 'C:\\Users\\x\\', at = 0): SequorEvent {
  return {
    timestamp: Date.UTC(2024, 0, 1) + at,
    event: { id, code: '1', dataset: null },
    host: { id: 'h1', name: 'H1' },
    winlog: {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: '1',
      event_data: { Image: image, CurrentDirectory: directory },
    },
    origin: { format: 'test', topic: null, partition: null, offset: null },
  } as unknown as SequorEvent;
}

const ID_A = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a6b';
const ID_B = '1b6e1d3f-7e4c-4b5f-8b8f-2d3e4f5a6b7c';

describe('Sigma files in the rule set', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-rules-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sniffs each file: Sigma by detection + logsource, or a correlation/filter document', () => {
    expect(sniffRuleLanguage(sigmaRule(ID_A, 'x.exe'))).toBe('sigma');
    expect(sniffRuleLanguage(filterDoc)).toBe('sigma');
    expect(sniffRuleLanguage('title: t\ncorrelation:\n  type: event_count\n')).toBe('sigma');
    expect(sniffRuleLanguage('id: x\ntype: eql\nquery: |\n  process where true\n')).toBe('sequor');
    expect(sniffRuleLanguage('not: a rule\n')).toBe('sequor');
    // One flow mapping or JSON per document: the keys are read from the parsed document.
    expect(
      sniffRuleLanguage('{title: t, logsource: {product: windows}, detection: {s: {A: x}, condition: s}}\n'),
    ).toBe('sigma');
    expect(
      sniffRuleLanguage(
        '# a comment\n{"title": "t", "logsource": {"product": "windows"}, "detection": {"condition": "s"}}',
      ),
    ).toBe('sigma');
    expect(sniffRuleLanguage('{id: x, type: eql, query: "process where true"}\n')).toBe('sequor');
  });

  it('loads Sigma (.yml) beside Sequor YAML and the built-ins, with its metadata', async () => {
    await writeFile(path.join(dir, 'a.yml'), sigmaRule(ID_A, 'evil.exe'));
    const loaded = await loadRuleSet({ paths: [dir] });
    expect(loaded.errors).toEqual([]);
    const rule = loaded.rules.find((r) => r.id === ID_A);
    expect(rule).toMatchObject({
      type: 'sigma',
      name: 'Suspicious evil.exe',
      severity: 'low',
      level: 'informational',
      status: 'test',
      author: ['Jane Doe', 'John Roe'],
      tags: ['attack.execution', 'attack.t1059'],
    });
    expect(loaded.rules.filter((r) => r.type !== 'sigma').length).toBeGreaterThan(0); // the built-ins
  });

  it('refuses a duplicate id across languages, at the second file, naming the first', async () => {
    const builtinId = (await loadRuleSet({})).rules[0]!.id;
    await writeFile(path.join(dir, 'a.yml'), sigmaRule(builtinId, 'evil.exe'));
    const loaded = await loadRuleSet({ paths: [dir] });
    const dup = loaded.errors.find((e) => e.code === 'duplicate-id');
    expect(dup?.file).toBe(path.join(dir, 'a.yml'));
    expect(dup?.line).toBe(2);
    expect(dup?.detail).toContain(builtinRulesDir);
  });

  it('reports a Sigma rule the pipeline cannot run as refused, with the reason and position', async () => {
    await writeFile(
      path.join(dir, 'a.yml'),
      sigmaRule(ID_A, 'evil.exe').replace('process_creation', 'file_access'),
    );
    await writeFile(path.join(dir, 'b.yml'), sigmaRule(ID_B, 'x.exe').replace('endswith', 'endswithh'));
    await writeFile(path.join(dir, 'c.yml'), sigmaRule(ID_B, 'good.exe'));
    const loaded = await loadRuleSet({ paths: [dir] });
    const [a, b] = [path.join(dir, 'a.yml'), path.join(dir, 'b.yml')].map((f) =>
      loaded.errors.find((e) => e.file === f),
    );
    expect(a).toMatchObject({ code: 'sigma-logsource' });
    expect(a?.message).toMatch(/a\.yml:\d+:\d+: .*file_access/);
    expect(b).toMatchObject({ code: 'sigma-modifier', line: 14 });
    expect(loaded.rules.some((r) => r.id === ID_B)).toBe(true); // the good rule still loads
  });

  it('compiles a Sigma rule to a filter over SequorEvent, with the meta filters of the paths joined', async () => {
    await writeFile(path.join(dir, 'a.yml'), sigmaRule(ID_A, 'evil.exe'));
    await writeFile(path.join(dir, 'filter.yml'), filterDoc);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.files.find((f) => f.file.endsWith('filter.yml'))?.sigmaFilter?.title).toBe(
      'Not from the admin tools folder',
    );
    const compiled = compileRule(loaded.rules[0]!);
    expect(compiled.compiled.spec.kind).toBe('filter');
    const spec = compiled.compiled.spec as { predicate: (e: SequorEvent) => boolean };
    expect(spec.predicate(sysmon('e1', 'C:\\Temp\\evil.exe'))).toBe(true);
    expect(spec.predicate(sysmon('e2', 'C:\\Temp\\good.exe'))).toBe(false);
    expect(spec.predicate(sysmon('e3', 'C:\\Temp\\evil.exe', 'C:\\Admin\\tools\\'))).toBe(false);
  });

  it('joins a meta filter to the rules it names by id or by name, and warns of a name no rule has', async () => {
    await writeFile(path.join(dir, 'a.yml'), sigmaRule(ID_A, 'evil.exe', 'name: evil_start\n'));
    await writeFile(path.join(dir, 'b.yml'), sigmaRule(ID_B, 'evil.exe'));
    const named = (rules: string) => filterDoc.replace('  rules: any', `  rules: [${rules}]`);
    const admin = sysmon('e1', 'C:\\Temp\\evil.exe', 'C:\\Admin\\tools\\');
    const matchesAdmin = async (rules: string) => {
      await writeFile(path.join(dir, 'filter.yml'), named(rules));
      const loaded = await loadRuleSet({ paths: [dir], builtins: false });
      expect(loaded.errors).toEqual([]);
      const compiled = loaded.rules.map((r) => compileRule(r));
      const matches = compiled.filter((c) =>
        (c.compiled.spec as { predicate: (e: SequorEvent) => boolean }).predicate(admin),
      );
      // What `rules lint` prints of each (its snippet), not only the message.
      return { ids: matches.map((c) => c.rule.id), warnings: loaded.warnings.map((w) => w.format()) };
    };
    // By name (pySigma's rule references), as by id: only the named rule is excepted.
    expect(await matchesAdmin('evil_start')).toEqual({ ids: [ID_B], warnings: [] });
    expect(await matchesAdmin(ID_B)).toEqual({ ids: [ID_A], warnings: [] });
    const typo = await matchesAdmin('evil_strat');
    expect(typo.ids).toEqual([ID_A, ID_B]);
    expect(typo.warnings).toEqual([
      expect.stringMatching(
        /filter\.yml:5:1: warning: filter "Not from the admin tools folder" names "evil_strat", which no loaded Sigma detection rule has/,
      ),
    ]);
    // Loaded alone (no Sigma rule at all), it is said too.
    const alone = await loadRuleSet({ paths: [path.join(dir, 'filter.yml')], builtins: false });
    expect(alone.warnings.map((w) => w.detail)).toEqual([expect.stringMatching(/names "evil_strat"/)]);
    // A loaded rule its logsource does not cover (the filter is for process_creation, the rule a
    // registry one), and `rules: any` covering no loaded rule: each excepts nothing, and says so.
    const registry = (doc: string) => doc.replace('category: process_creation', 'category: registry_set');
    await writeFile(path.join(dir, 'a.yml'), registry(sigmaRule(ID_A, 'evil.exe', 'name: evil_start\n')));
    await writeFile(path.join(dir, 'b.yml'), registry(sigmaRule(ID_B, 'evil.exe')));
    const uncovered = await matchesAdmin('evil_start');
    expect(uncovered.warnings).toEqual([
      expect.stringMatching(/names "evil_start", whose logsource its own does not cover/),
    ]);
    await writeFile(path.join(dir, 'filter.yml'), filterDoc);
    const any = await loadRuleSet({ paths: [dir], builtins: false });
    expect(any.warnings.map((w) => w.detail)).toEqual([
      expect.stringMatching(/its logsource covers no loaded Sigma detection rule/),
    ]);
  });

  it('gives the same matches through the Sigma dispatch as through every predicate', async () => {
    await writeFile(path.join(dir, 'a.yml'), sigmaRule(ID_A, 'evil.exe'));
    await writeFile(path.join(dir, 'b.yml'), sigmaRule(ID_B, 'bad.exe'));
    const loaded = await loadRuleSet({ paths: [dir] });
    expect(loaded.errors).toEqual([]);
    const rules = loaded.rules.map((r) => compileRule(r));
    const events = ['evil.exe', 'bad.exe', 'fine.exe', 'BAD.EXE', 'evil.exe'].map((name, i) =>
      sysmon(`e${i}`, `C:\\Windows\\${name}`, 'C:\\Users\\x\\', i * 1000),
    );
    const run = (dispatch: FilterDispatch<SequorEvent> | undefined): string[] => {
      const out: string[] = [];
      const entries = rules.map((rule) => ({ rule, spec: rule.compiled.spec }));
      from(events)
        .pipe(
          createRuleSetPipeline<SequorEvent, CompiledRule>(entries, rules[0]!.compiled.eventTime, {
            allowedLatenessMs: 0,
            ...(dispatch ? { filterDispatch: dispatch } : {}),
          }).operator,
        )
        .subscribe(({ rule, match }) => out.push(`${rule.rule.id}:${match.events[0]!.event.id}`));
      return out;
    };
    const dispatch = sigmaFilterDispatch(rules);
    expect(dispatch?.covers).toHaveLength(2);
    const plain = run(undefined);
    expect(plain).toEqual([`${ID_A}:e0`, `${ID_B}:e1`, `${ID_B}:e3`, `${ID_A}:e4`]);
    expect(run(dispatch)).toEqual(plain);
  });
});

describe('the alert of a Sigma rule', () => {
  it("carries the rule's id, title, level, tags and authors; informational is severity low", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sigma-alert-'));
    try {
      await writeFile(path.join(dir, 'a.yml'), sigmaRule(ID_A, 'evil.exe'));
      const loaded = await loadRuleSet({ paths: [dir], builtins: false });
      const compiled = compileRule(loaded.rules[0]!);
      const event = sysmon('e1', 'C:\\Temp\\evil.exe');
      const alert = compiled.toAlert(
        { kind: 'filter', events: [event], keyValues: [], firstTime: 0, lastTime: 0 },
        { detectedAt: 1 },
      );
      expect(alert.rule).toEqual({
        id: ID_A,
        name: 'Suspicious evil.exe',
        version: 1,
        type: 'sigma',
        severity: 'low',
        risk_score: 21,
        references: [],
        revision: null,
        level: 'informational',
        tags: ['attack.execution', 'attack.t1059'],
        author: ['Jane Doe', 'John Roe'],
      });
      expect(alert.message).toBe('Suspicious evil.exe');
      expect(alert.entity.host).toEqual({ id: 'h1', name: 'H1' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Sigma correlations in the rule set', () => {
  const correlationFile = (
    groupBy: string,
    generate = false,
  ): string => `${sigmaRule(ID_A, 'evil.exe')}name: evil_start
---
title: Many evil starts
id: 2c7f2e4a-8f5d-4c6a-9c9a-3e4f5a6b7c8d
status: test
level: high
correlation:
  type: event_count
  rules:
    - evil_start
  group-by:
    - ${groupBy}
  timespan: 1h
  condition:
    gte: 2
  generate: ${generate}
`;

  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-correlations-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a correlation beside its rule, compiles it to a stateful spec; generate: false silences the rule', async () => {
    await writeFile(path.join(dir, 'c.yml'), correlationFile('host.id'));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((r) => [r.type, r.name])).toEqual([['sigma-correlation', 'Many evil starts']]);
    expect(loaded.files.filter((f) => f.silenced === true).map((f) => f.rule?.id)).toEqual([ID_A]);
    const compiled = compileRule(loaded.rules[0]!);
    expect(compiled.compiled.spec.kind).toBe('slidingAggregate');
    expect(compiled.keyFields).toEqual(['host.id']);
    const events = [0, 1000, 2000].map((at, i) => sysmon(`e${i}`, 'C:\\Temp\\evil.exe', 'C:\\x\\', at));
    const out: string[][] = [];
    from(events)
      .pipe(
        createRuleSetPipeline(
          [{ rule: compiled, spec: compiled.compiled.spec }],
          compiled.compiled.eventTime,
          {
            allowedLatenessMs: 0,
          },
        ).operator,
      )
      .subscribe(({ match }) => out.push(match.events.map((e) => e.event.id)));
    expect(out.length).toBeGreaterThan(0);
    expect(out[0]).toEqual(['e0', 'e1']);
  });

  it('generate: true keeps the rule alerting on its own', async () => {
    await writeFile(path.join(dir, 'c.yml'), correlationFile('host.id', true));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.rules.map((r) => r.type)).toEqual(['sigma', 'sigma-correlation']);
  });

  it("refuses a group-by that does not hold the partition key, at the correlation's group-by", async () => {
    await writeFile(path.join(dir, 'c.yml'), correlationFile('Image'));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    const error = loaded.errors.find((e) => e.code === 'incompatible-partition-key');
    expect(error?.line).toBe(27); // the `- Image` under group-by
    expect(error?.detail).toMatch(/group-by \[Image\] .* does not include host\.id/);
    expect(loaded.rules).toEqual([]);
  });

  it('refuses a correlation naming a rule the set does not hold, with the reason and position', async () => {
    await writeFile(path.join(dir, 'c.yml'), correlationFile('host.id').replace('- evil_start', '- nobody'));
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors.map((e) => [e.line, e.detail])).toEqual([[25, expect.stringContaining('"nobody"')]]);
    expect(loaded.rules.map((r) => r.type)).toEqual(['sigma']); // not silenced by a correlation that failed
  });
});

describe("a Sigma rule's sequor: attribute (Sequor's suppress and exceptions; Sigma allows custom attributes)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-sequor-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const withSequor = (attribute: string): string =>
    `${sigmaRule(ID_A, 'evil.exe')}sequor:\n${attribute
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}\n`;

  it('takes exceptions over event-model fields and a suppression, as Sequor YAML writes them', async () => {
    await writeFile(
      path.join(dir, 'a.yml'),
      withSequor(
        "exceptions:\n  - field: winlog.event_data.CurrentDirectory\n    operator: matches\n    values: 'C:\\Admin\\*'\nsuppress:\n  by: [host.id]\n  window: 1h",
      ),
    );
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    const compiled = compileRule(loaded.rules[0]!);
    expect(compiled.suppress).not.toBeNull();
    const spec = compiled.compiled.spec as { predicate: (e: SequorEvent) => boolean };
    expect(spec.predicate(sysmon('e1', 'C:\\Temp\\evil.exe'))).toBe(true);
    expect(spec.predicate(sysmon('e2', 'C:\\Temp\\evil.exe', 'C:\\Admin\\tools\\'))).toBe(false);
  });

  it('reads each document of a file on its own when a separator carries a comment (`--- # ...`)', async () => {
    const second = withSequor(
      'exceptions:\n  - field: user.name\n    operator: is\n    values: [bob]',
    ).replace(ID_A, ID_B);
    await writeFile(path.join(dir, 'a.yml'), `${sigmaRule(ID_A, 'cmd.exe')}--- # the second rule\n${second}`);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((r) => r.id).sort()).toEqual([ID_A, ID_B].sort());
  });

  it('reads it in a rule written as one flow mapping, and under an explicit key (`? sequor`)', async () => {
    const flow = `{title: Flow, id: ${ID_A}, logsource: {product: windows, category: process_creation}, detection: {s: {Image|endswith: '\\evil.exe'}, condition: s}, sequor: {exceptions: [{field: winlog.event_data.CurrentDirectory, operator: matches, values: 'C:\\Admin\\*'}]}}\n`;
    const explicit = `${sigmaRule(ID_B, 'evil.exe')}? sequor\n: {exceptions: [{field: winlog.event_data.CurrentDirectory, operator: matches, values: 'C:\\Admin\\*'}]}\n`;
    await writeFile(path.join(dir, 'a.yml'), flow);
    await writeFile(path.join(dir, 'b.yml'), explicit);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules).toHaveLength(2);
    for (const rule of loaded.rules) {
      const spec = compileRule(rule).compiled.spec as { predicate: (e: SequorEvent) => boolean };
      expect(spec.predicate(sysmon('e1', 'C:\\Temp\\evil.exe')), rule.id).toBe(true);
      expect(spec.predicate(sysmon('e2', 'C:\\Temp\\evil.exe', 'C:\\Admin\\tools\\')), rule.id).toBe(false);
    }
    await writeFile(path.join(dir, 'a.yml'), flow.replace('sequor: {', 'sequor: {bogus: 1, '));
    const bad = await loadRuleSet({ paths: [dir], builtins: false });
    expect(bad.errors.map((e) => e.detail)).toEqual([expect.stringMatching(/unknown key `bogus`/)]);
  });

  it('refuses an unknown key or field inside it at its file:line:column', async () => {
    await writeFile(path.join(dir, 'a.yml'), withSequor('suppres:\n  by: [host.id]'));
    await writeFile(
      path.join(dir, 'b.yml'),
      withSequor('suppress:\n  by: [host.nope]\n  window: 1h').replace(ID_A, ID_B),
    );
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.rules).toEqual([]);
    expect(loaded.errors.map((e) => [path.basename(e.file), e.code, e.line, e.column])).toEqual([
      ['a.yml', 'unknown-key', 17, 3],
      ['b.yml', 'eql-semantic', 18, 10],
    ]);
  });

  it('resolves YAML aliases inside it, as everywhere else in the document', async () => {
    await writeFile(
      path.join(dir, 'a.yml'),
      withSequor(
        "exceptions:\n  - { field: winlog.event_data.CurrentDirectory, operator: matches, values: &admin ['C:\\Admin\\*'] }\n  - { field: winlog.event_data.User, operator: matches, values: *admin }",
      ),
    );
    await writeFile(
      path.join(dir, 'b.yml'),
      `${sigmaRule(ID_B, 'other.exe')}x-tuning: &e\n  - { field: user.name, operator: is, values: [admin] }\nsequor:\n  exceptions: *e\n`,
    );
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(
      loaded.rules.map((r) => r.exceptions?.flatMap((i) => i.entries.map((e) => [e.field, e.values]))),
    ).toEqual([
      [
        ['winlog.event_data.CurrentDirectory', ['C:\\Admin\\*']],
        ['winlog.event_data.User', ['C:\\Admin\\*']],
      ],
      [['user.name', ['admin']]],
    ]);
  });

  it('reads the whole attribute given by an alias', async () => {
    await writeFile(
      path.join(dir, 'a.yml'),
      `${sigmaRule(ID_A, 'evil.exe')}x-tuning: &t\n  suppress: { by: [host.id], window: 1h }\nsequor: *t\n`,
    );
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules[0]?.suppress?.window.text).toBe('1h');
  });

  it('warns of tuning written where it is not read: at the top level, or sequor: inside logsource', async () => {
    await writeFile(
      path.join(dir, 'a.yml'),
      `${sigmaRule(ID_A, 'evil.exe')}exceptions:\n  - { field: user.name, operator: is, values: [admin] }\n"suppress": { by: [host.id], window: 1h }\n`,
    );
    await writeFile(
      path.join(dir, 'b.yml'),
      sigmaRule(ID_B, 'other.exe').replace(
        '  category: process_creation\n',
        '  category: process_creation\n  sequor:\n    suppress: { by: [host.id], window: 1h }\n',
      ),
    );
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules).toHaveLength(2);
    expect(loaded.warnings.map((w) => [path.basename(w.file), w.line, w.column, w.detail])).toEqual([
      ['a.yml', 16, 1, expect.stringMatching(/^`exceptions` at the top level of a Sigma rule is not read/)],
      ['a.yml', 18, 1, expect.stringMatching(/^`suppress` at the top level/)],
      ['b.yml', 12, 3, '`sequor` inside `logsource` is not read: it goes at the top level of the rule'],
    ]);
  });

  it('reads a quoted "sequor" key as the same key, and refuses one on a meta filter (no rule) at its line', async () => {
    const quoted = withSequor(
      "exceptions:\n  - field: winlog.event_data.CurrentDirectory\n    operator: matches\n    values: 'C:\\Admin\\*'",
    ).replace('\nsequor:', '\n"sequor":');
    await writeFile(path.join(dir, 'a.yml'), quoted);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    const spec = compileRule(loaded.rules[0]!).compiled.spec as { predicate: (e: SequorEvent) => boolean };
    expect(spec.predicate(sysmon('e2', 'C:\\Temp\\evil.exe', 'C:\\Admin\\tools\\'))).toBe(false);
    await writeFile(
      path.join(dir, 'filter.yml'),
      `${filterDoc}sequor:\n  exceptions:\n    - field: user.name\n      operator: is\n      values: bob\n`,
    );
    const withFilter = await loadRuleSet({ paths: [dir], builtins: false });
    expect(withFilter.errors.map((e) => [path.basename(e.file), e.line, e.detail])).toEqual([
      ['filter.yml', 10, expect.stringMatching(/a Sigma meta filter takes no `sequor` attribute/)],
    ]);
  });
});

describe('a selection (--min-level, --status, --tags) at load', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-selection-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the other rules uncompiled, but keeps what a kept correlation reads', async () => {
    // ID_A: informational, named by a high correlation (generate: false); ID_B: informational, alone.
    await writeFile(
      path.join(dir, 'c.yml'),
      `${sigmaRule(ID_A, 'evil.exe')}name: evil_start
---
title: Many evil starts
id: 2c7f2e4a-8f5d-4c6a-9c9a-3e4f5a6b7c8d
level: high
correlation:
  type: event_count
  rules: [evil_start]
  group-by: [host.id]
  timespan: 1h
  condition: { gte: 2 }
`,
    );
    await writeFile(path.join(dir, 'b.yml'), sigmaRule(ID_B, 'bad.exe'));
    const loaded = await loadRuleSet({ paths: [dir] }, { selection: { minLevel: 'high' } });
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules.map((r) => r.name).sort()).toEqual([
      'Many evil starts',
      'Potential Remote Credential Access via Registry', // the built-ins at high or above
      'Remcos client registry install entry',
      'Windows Service Creation Using Registry Entry',
    ]);
    const b = loaded.files.find((f) => f.rule?.id === ID_B);
    expect(b?.deselected).toBe(true);
    const a = loaded.files.find((f) => f.rule?.id === ID_A);
    expect(a?.deselected).toBeUndefined();
    expect(a?.rule?.type === 'sigma' && a.rule.binding?.set.rules.map((r) => r.rule.id)).toEqual([ID_A]);
  });
});
