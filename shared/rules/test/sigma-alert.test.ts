/**
 * What a Sigma rule's alert tells an analyst: ATT&CK rows from its tags, and the fields its detection read
 * in each evidence entry.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { from } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuleSetPipeline } from '@sequor/engine';
import type { Alert, SequorEvent } from '@sequor/model';
import { threatFromSigmaTags } from '../src/attack.js';
import { compileRule } from '../src/compile.js';
import { loadRuleSet } from '../src/rule-set.js';
import { MAX_SIGMA_EVIDENCE_FIELDS, SIGMA_OMITTED_FIELDS } from '../src/sigma-evidence.js';

const ID = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a6b';

function event(id: string, channel: string, eventId: string, data: Record<string, string>): SequorEvent {
  return {
    timestamp: Date.UTC(2024, 0, 1),
    event: { id, code: eventId, dataset: null },
    host: { id: 'h1', name: 'H1' },
    winlog: { channel, event_id: eventId, event_data: data },
    origin: { format: 'test', topic: null, partition: null, offset: null },
  } as unknown as SequorEvent;
}
const sysmon = (id: string, data: Record<string, string>): SequorEvent =>
  event(id, 'Microsoft-Windows-Sysmon/Operational', '1', data);
const security4688 = (id: string, data: Record<string, string>): SequorEvent =>
  event(id, 'Security', '4688', data);

describe('ATT&CK rows from Sigma tags', () => {
  it('maps tactic names to ids (v19: stealth is TA0005, defense-impairment TA0112), techniques under each tactic', () => {
    const threat = threatFromSigmaTags([
      'attack.execution',
      'attack.t1059.001',
      'attack.T1059',
      'attack.defense-impairment',
      'attack.g0016',
      'attack.s0002',
      'attack.t1685',
      'cve.2021-44228',
    ]);
    expect(threat.map((t) => [t.framework, t.tactic.id, t.tactic.name])).toEqual([
      ['MITRE ATT&CK', 'TA0002', 'Execution'],
      ['MITRE ATT&CK', 'TA0112', 'Defense Impairment'],
    ]);
    // No technique names in a rule: the id stands for the name.
    expect(threat[0]!.technique).toEqual([
      {
        id: 'T1059',
        name: 'T1059',
        reference: 'https://attack.mitre.org/techniques/T1059/',
        subtechnique: [
          {
            id: 'T1059.001',
            name: 'T1059.001',
            reference: 'https://attack.mitre.org/techniques/T1059/001/',
          },
        ],
      },
      {
        id: 'T1685',
        name: 'T1685',
        reference: 'https://attack.mitre.org/techniques/T1685/',
        subtechnique: [],
      },
    ]);
    expect(threatFromSigmaTags(['attack.stealth', 'attack.defense-evasion']).map((t) => t.tactic)).toEqual([
      { id: 'TA0005', name: 'Stealth', reference: 'https://attack.mitre.org/tactics/TA0005/' },
      { id: 'TA0005', name: 'Defense Evasion', reference: 'https://attack.mitre.org/tactics/TA0005/' },
    ]);
  });

  it("reads Sigma 1's underscored tactic tags (attack.defense_evasion) as the hyphenated ones", () => {
    expect(
      threatFromSigmaTags(['attack.defense_evasion', 'attack.credential_access', 'attack.t1003']).map(
        (t) => t.tactic.name,
      ),
    ).toEqual(['Defense Evasion', 'Credential Access']);
    expect(threatFromSigmaTags(['attack.credential_access'])).toEqual(
      threatFromSigmaTags(['attack.credential-access']),
    );
  });

  it('gives no row for a technique without a tactic, nor for group, software or unknown tags', () => {
    expect(threatFromSigmaTags(['attack.t1059.001'])).toEqual([]);
    expect(threatFromSigmaTags(['attack.g0016', 'attack.s0002', 'attack.ds0005', 'attack.nonsense'])).toEqual(
      [],
    );
  });
});

describe('the alert of a Sigma rule', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sigma-alert-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function alertOf(rule: string, matched: SequorEvent): Promise<Alert> {
    await writeFile(path.join(dir, 'r.yml'), rule);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    const compiled = compileRule(loaded.rules[0]!);
    expect(compiled.compiled.spec.kind === 'filter' && compiled.compiled.spec.predicate(matched)).toBe(true);
    return compiled.toAlert(
      { kind: 'filter', events: [matched], keyValues: [], firstTime: 0, lastTime: 0 },
      { detectedAt: 1 },
    );
  }

  const processRule = `title: Encoded PowerShell
id: ${ID}
level: high
tags:
  - attack.execution
  - attack.persistence
  - attack.t1059.001
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\powershell.exe'
    CommandLine|contains: ' -enc '
  filter:
    ParentImage|endswith: '\\explorer.exe'
    User: 'SYSTEM'
  condition: selection and not filter
`;

  it('carries one threat row per tactic and sub-technique, as built-in rules do', async () => {
    const alert = await alertOf(
      processRule,
      sysmon('e1', { Image: 'C:\\x\\powershell.exe', CommandLine: 'powershell -enc AAA' }),
    );
    const technique = { id: 'T1059', name: 'T1059' };
    const subtechnique = { id: 'T1059.001', name: 'T1059.001' };
    expect(alert.threat).toEqual([
      { framework: 'MITRE ATT&CK', tactic: { id: 'TA0002', name: 'Execution' }, technique, subtechnique },
      { framework: 'MITRE ATT&CK', tactic: { id: 'TA0003', name: 'Persistence' }, technique, subtechnique },
    ]);
  });

  it('lists the fields the detection read that the event has, by their Sigma names', async () => {
    const alert = await alertOf(
      processRule,
      sysmon('e1', {
        Image: 'C:\\x\\powershell.exe',
        CommandLine: 'powershell -enc AAA',
        ParentImage: 'C:\\Windows\\cmd.exe',
        CurrentDirectory: 'C:\\',
      }),
    );
    // User is read but absent; CurrentDirectory is present but not read.
    expect(alert.evidence[0]!.fields).toEqual([
      { name: 'Image', value: 'C:\\x\\powershell.exe' },
      { name: 'CommandLine', value: 'powershell -enc AAA' },
      { name: 'ParentImage', value: 'C:\\Windows\\cmd.exe' },
    ]);
  });

  it("reads a field under the name the event's logsource gives it (Security 4688: NewProcessName for Image)", async () => {
    const alert = await alertOf(
      processRule,
      security4688('e2', {
        NewProcessName: 'C:\\x\\powershell.exe',
        CommandLine: 'powershell -enc AAA',
        ParentProcessName: 'C:\\Windows\\cmd.exe',
      }),
    );
    expect(alert.evidence[0]!.fields).toEqual([
      { name: 'Image', value: 'C:\\x\\powershell.exe' },
      { name: 'CommandLine', value: 'powershell -enc AAA' },
      { name: 'ParentImage', value: 'C:\\Windows\\cmd.exe' },
    ]);
  });

  it('caps the fields per evidence entry and names the ones left out', async () => {
    const names = Array.from({ length: MAX_SIGMA_EVIDENCE_FIELDS + 4 }, (_, i) => `Field${i}`);
    const rule = `title: Many fields
id: ${ID}
logsource:
  product: windows
  category: process_creation
detection:
  selection:
${names.map((n) => `    ${n}: 'v'`).join('\n')}
  condition: selection
`;
    const alert = await alertOf(rule, sysmon('e3', Object.fromEntries(names.map((n) => [n, 'v']))));
    const fields = alert.evidence[0]!.fields;
    expect(fields.slice(0, -1)).toEqual(
      names.slice(0, MAX_SIGMA_EVIDENCE_FIELDS).map((name) => ({ name, value: 'v' })),
    );
    expect(fields.at(-1)).toEqual({
      name: SIGMA_OMITTED_FIELDS,
      value: names.slice(MAX_SIGMA_EVIDENCE_FIELDS),
    });
  });

  it("lists each correlation evidence event's fields by the rule it matched", async () => {
    const rules = `title: Office spawns a shell
id: 1b6e1d3f-7e4c-4b5f-8b8f-2d3e4f5a6b7c
name: office_shell
logsource: { product: windows, category: process_creation }
detection:
  selection:
    ParentImage|endswith: '\\winword.exe'
    Image|endswith: '\\cmd.exe'
  condition: selection
---
title: Registry run key set
id: 2c7f2e4a-8f5d-4c6a-9c9a-3e4f5a6b7c8e
name: run_key
logsource: { product: windows, category: registry_set }
detection:
  selection:
    TargetObject|contains: '\\CurrentVersion\\Run\\'
  condition: selection
---
title: Office shell then run key
id: ${ID}
level: high
correlation:
  type: temporal_ordered
  rules: [office_shell, run_key]
  group-by: [host.id]
  timespan: 1h
`;
    await writeFile(path.join(dir, 'c.yml'), rules);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    const compiled = compileRule(loaded.rules.find((r) => r.type === 'sigma-correlation')!);
    const shell = sysmon('e1', { ParentImage: 'C:\\o\\winword.exe', Image: 'C:\\w\\cmd.exe', User: 'u' });
    const runKey = event('e2', 'Microsoft-Windows-Sysmon/Operational', '13', {
      EventType: 'SetValue',
      TargetObject: 'HKU\\x\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\evil',
      Details: 'C:\\evil.exe',
    });
    const alerts: Alert[] = [];
    from([shell, { ...runKey, timestamp: shell.timestamp + 1000 }])
      .pipe(
        createRuleSetPipeline(
          [{ rule: compiled, spec: compiled.compiled.spec }],
          compiled.compiled.eventTime,
          {
            allowedLatenessMs: 0,
          },
        ).operator,
      )
      .subscribe(({ match }) => alerts.push(compiled.toAlert(match, { detectedAt: 1 })));
    expect(alerts).toHaveLength(1);
    // The correlation's own level, as a Sigma rule's.
    expect(alerts[0]!.rule.level).toBe('high');
    expect(alerts[0]!.evidence.map((e) => e.fields)).toEqual([
      [
        { name: 'host.id', value: 'h1' },
        { name: 'ParentImage', value: 'C:\\o\\winword.exe' },
        { name: 'Image', value: 'C:\\w\\cmd.exe' },
      ],
      [
        { name: 'host.id', value: 'h1' },
        { name: 'TargetObject', value: 'HKU\\x\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\evil' },
      ],
    ]);
  });
});
