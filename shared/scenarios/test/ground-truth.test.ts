/**
 * Ground truth is exact: a brute-force evaluation of the four analytics over the generated lines (test/
 * support/oracle.ts, which knows nothing of the generator) finds exactly the alerts ground truth lists,
 * evidence lines included, under every knob (jitter, late events, tiny and larger worlds).
 */
import { describe, expect, it } from 'vitest';
import type { GeneratedScenario, GroundTruth, ScenarioOptions } from '@sequor/scenarios';
import { generateScenario, RULE_SLUGS } from '@sequor/scenarios';
import type { FileRecord, Parsed, ParsedScenario, WinRecord, ZeekRecord } from './support/oracle.js';
import {
  evaluate,
  groundTruthKeys,
  isQualifyingHiveWrite,
  isQualifyingLogon,
  isRemcosWrite,
  isRemoteRegistryWrite,
  isServiceImagePath,
  oracleKeys,
  parseScenario,
} from './support/oracle.js';

const cache = new Map<string, { gen: GeneratedScenario; parsed: ParsedScenario }>();
function run(options: ScenarioOptions): { gen: GeneratedScenario; gt: GroundTruth; parsed: ParsedScenario } {
  const key = JSON.stringify(options);
  let hit = cache.get(key);
  if (hit === undefined) {
    const gen = generateScenario(options);
    hit = { gen, parsed: parseScenario(gen.files) };
    cache.set(key, hit);
  }
  return { gen: hit.gen, gt: hit.gen.groundTruth, parsed: hit.parsed };
}

const CONFIGS: readonly [string, ScenarioOptions][] = [
  ['defaults, 20k events', { events: 20_000, seed: 1 }],
  [
    'three instances per rule, jitter and late events',
    { events: 40_000, seed: 99, scenarios: 3, outOfOrder: 4_000, late: 0.02, lateByMs: 120_000 },
  ],
  [
    'tiny world, crowded scenarios',
    { events: 8_000, seed: 'tiny', hosts: 4, users: 4, scenarios: 4, rate: 5 },
  ],
  [
    'fast event rate, many hosts',
    { events: 20_000, seed: 5, hosts: 300, users: 1_000, rate: 400, scenarios: 2 },
  ],
];

function at(p: ParsedScenario, ref: { file: string; line: number }): Parsed {
  const r = p.byLine.get(ref.file)?.get(ref.line);
  if (r === undefined) throw new Error(`no event at ${ref.file}:${ref.line}`);
  return r;
}

// Generation is not timed here (benchmarks measure speed); a loaded CI machine gets room.
describe.each(CONFIGS)('ground truth (%s)', { timeout: 120_000 }, (_name, options) => {
  it('lists exactly the alerts a reference evaluation of the four analytics finds', () => {
    const { gt, parsed } = run(options);
    expect(oracleKeys(evaluate(parsed))).toEqual(groundTruthKeys(gt));
  });

  it('has at least the requested instances of every rule', () => {
    const { gt } = run(options);
    const n = typeof options.scenarios === 'number' ? options.scenarios : 1;
    for (const slug of RULE_SLUGS) expect(gt.counts.alerts_by_rule[slug]).toBeGreaterThanOrEqual(n);
  });

  it('points every alert at lines that are the events the rule describes', () => {
    const { gt, parsed } = run(options);
    for (const a of gt.alerts) {
      const ev = a.evidence.map((e) => at(parsed, e));
      const times = ev.map((e) => e.ts);
      expect(Date.parse(a.first_time)).toBe(Math.floor(Math.min(...times)));
      expect(Date.parse(a.last_time)).toBe(Math.floor(Math.max(...times)));
      switch (a.rule) {
        case 'car-2014-11-005-remote-registry': {
          const z = ev[0] as ZeekRecord;
          expect(ev).toHaveLength(1);
          expect(isRemoteRegistryWrite(z)).toBe(true);
          expect(a.entity.host?.ip).toBe(z.respH);
          expect(a.entity.source?.ip).toBe(z.origH);
          break;
        }
        case 'splunk-windows-service-creation-using-registry-entry': {
          const w = ev[0] as WinRecord;
          expect(ev).toHaveLength(1);
          expect(isServiceImagePath(w)).toBe(true);
          expect(w.data['TargetObject']).toMatch(/\\ImagePath$/);
          expect(a.entity.process?.guid).toBe(w.data['ProcessGuid']);
          break;
        }
        case 'elastic-potential-remote-credential-access-via-registry': {
          const [logon, hive] = ev as [WinRecord, FileRecord];
          expect(ev).toHaveLength(2);
          expect(logon.data['LogonType']).toBe('3');
          expect(isQualifyingLogon(logon)).toBe(true);
          expect(hive.header).toMatch(/^72656766/);
          expect(isQualifyingHiveWrite(hive)).toBe(true);
          expect(hive.ts - logon.ts).toBeGreaterThan(0);
          expect(hive.ts - logon.ts).toBeLessThanOrEqual(60_000);
          expect(logon.hostId).toBe(hive.hostId);
          expect(logon.data['TargetUserSid']).toBe(hive.userId);
          expect(a.entity).toMatchObject({ host: { id: hive.hostId }, user: { id: hive.userId } });
          break;
        }
        case 'splunk-remcos-client-registry-install-entry': {
          const [create, write] = ev as [WinRecord, WinRecord];
          expect(ev).toHaveLength(2);
          expect(create.eventId).toBe(1);
          expect(isRemcosWrite(write)).toBe(true);
          expect(create.data['ProcessGuid']).toBe(write.data['ProcessGuid']);
          expect(create.hostKey).toBe(write.hostKey);
          expect(write.ts - create.ts).toBeGreaterThan(0);
          expect(write.ts - create.ts).toBeLessThanOrEqual(3_600_000);
          break;
        }
      }
    }
  });

  it('keeps near-miss evidence out of every alert', () => {
    const { gt } = run(options);
    const alertLines = new Set(gt.alerts.flatMap((a) => a.evidence.map((e) => `${e.file}:${e.line}`)));
    for (const n of gt.near_misses) {
      // The distinguishing event of a near-miss (its last) is never an alert's evidence.
      const last = n.evidence[n.evidence.length - 1] as { file: string; line: number };
      expect(alertLines.has(`${last.file}:${last.line}`), `${n.rule} ${n.kind}`).toBe(false);
    }
  });

  it('sorts alerts and near-misses deterministically', () => {
    const { gt } = run(options);
    const alertOrder = gt.alerts.map(
      (a) =>
        `${a.rule}\u0000${a.first_time}\u0000${a.evidence[0]?.file}\u0000${String(a.evidence[0]?.line).padStart(9, '0')}`,
    );
    expect(alertOrder).toEqual([...alertOrder].sort());
    const nmOrder = gt.near_misses.map(
      (n) => `${n.rule}\u0000${n.evidence[0]?.file}\u0000${String(n.evidence[0]?.line).padStart(9, '0')}`,
    );
    expect(nmOrder).toEqual([...nmOrder].sort());
  });
});

describe('near-misses', { timeout: 120_000 }, () => {
  const { gt, parsed } = run(CONFIGS[1]?.[1] as ScenarioOptions);
  const kinds = (rule: string): Set<string> =>
    new Set(gt.near_misses.filter((n) => n.rule === rule).map((n) => n.kind));
  const of = (kind: string): Parsed[][] =>
    gt.near_misses.filter((n) => n.kind === kind).map((n) => n.evidence.map((e) => at(parsed, e)));

  it('cover every look-alike the task names, for every rule', () => {
    expect(kinds('car-2014-11-005-remote-registry')).toEqual(
      new Set([
        'winreg-read-only',
        'winreg-over-tcp',
        'svcctl-interface',
        'svcctl-create-service',
        'drsuapi-interface',
        'winreg-delete-value',
        'winreg-save-key',
      ]),
    );
    expect(kinds('splunk-windows-service-creation-using-registry-entry')).toEqual(
      new Set([
        'registry-create-key',
        'services-start-value',
        'services-other-value',
        'services-description-value',
        'repeat-same-bucket',
        'imagepath-outside-services',
      ]),
    );
    expect(kinds('elastic-potential-remote-credential-access-via-registry')).toEqual(
      new Set([
        'hive-write-after-maxspan',
        'hive-write-other-user',
        'non-hive-file',
        'hive-too-small',
        'anonymous-logon',
        'interactive-logon',
        'loopback-source',
        'hive-by-reg-exe',
        'hive-after-completed-sequence',
      ]),
    );
    expect(kinds('splunk-remcos-client-registry-install-entry')).toEqual(
      new Set([
        'remcos-write-without-process-create',
        'same-guid-unrelated-registry-write',
        'second-remcos-value-same-guid',
      ]),
    );
  });

  it('remote registry look-alikes fail exactly one condition each', () => {
    for (const rows of of('winreg-read-only'))
      for (const z of rows as ZeekRecord[])
        expect([z.respP, z.endpoint, /^BaseReg(Create|Set)/.test(z.operation)]).toEqual([
          445,
          'winreg',
          false,
        ]);
    for (const rows of of('winreg-over-tcp'))
      for (const z of rows as ZeekRecord[])
        expect([z.respP === 445, z.endpoint, /^BaseReg(CreateKey|SetValue)$/.test(z.operation)]).toEqual([
          false,
          'winreg',
          true,
        ]);
    for (const rows of [...of('svcctl-interface'), ...of('drsuapi-interface')])
      for (const z of rows as ZeekRecord[]) expect(z.endpoint).not.toBe('winreg');
    for (const rows of of('winreg-save-key'))
      for (const z of rows as ZeekRecord[])
        expect([z.respP, z.endpoint, z.operation]).toEqual([445, 'winreg', 'BaseRegSaveKey']);
  });

  it('credential-access look-alikes fail exactly the condition they are named for', () => {
    const pair = (kind: string): [WinRecord, FileRecord][] =>
      of(kind).map((e) => [e[0] as WinRecord, e[e.length - 1] as FileRecord]);
    for (const [logon, hive] of pair('hive-write-after-maxspan')) {
      expect(isQualifyingLogon(logon) && isQualifyingHiveWrite(hive)).toBe(true);
      expect(hive.ts - logon.ts).toBeGreaterThan(60_000);
      expect(hive.ts - logon.ts).toBeLessThan(63_000);
    }
    for (const [logon, hive] of pair('hive-write-other-user')) {
      expect(isQualifyingLogon(logon) && isQualifyingHiveWrite(hive)).toBe(true);
      expect(hive.userId).not.toBe(logon.data['TargetUserSid']);
      expect(hive.ts - logon.ts).toBeLessThan(60_000);
    }
    for (const [logon, file] of pair('non-hive-file')) {
      expect(isQualifyingLogon(logon)).toBe(true);
      expect(file.header).not.toMatch(/^72656766/);
      expect([file.processName, file.action, (file.size ?? 0) >= 30_000]).toEqual([
        'svchost.exe',
        'creation',
        true,
      ]);
    }
    for (const [logon, hive] of pair('hive-too-small')) {
      expect(isQualifyingLogon(logon)).toBe(true);
      expect(hive.header).toMatch(/^72656766/);
      expect(hive.size).toBeLessThan(30_000);
    }
    for (const [logon] of pair('anonymous-logon'))
      expect([logon.data['TargetUserName'], logon.data['LogonType']]).toEqual(['ANONYMOUS LOGON', '3']);
    for (const [logon, hive] of pair('interactive-logon')) {
      expect(logon.data['LogonType']).toBe('2');
      expect(isQualifyingHiveWrite(hive)).toBe(true);
      expect(hive.userId).toBe(logon.data['TargetUserSid']);
    }
    for (const [logon, hive] of pair('loopback-source')) {
      expect(['127.0.0.1', '::1']).toContain(logon.data['IpAddress']);
      expect(isQualifyingHiveWrite(hive)).toBe(true);
    }
    for (const [logon, hive] of pair('hive-by-reg-exe')) {
      expect(isQualifyingLogon(logon)).toBe(true);
      expect([hive.processName, hive.header?.slice(0, 8)]).toEqual(['reg.exe', '72656766']);
    }
    for (const ev of of('hive-after-completed-sequence')) {
      for (const hive of ev.slice(1) as FileRecord[]) expect(isQualifyingHiveWrite(hive)).toBe(true);
      expect((ev[ev.length - 1] as FileRecord).ts - (ev[0] as WinRecord).ts).toBeLessThan(60_000);
    }
  });

  it('service-creation look-alikes are Services writes of other values, or ImagePath elsewhere', () => {
    for (const [w] of of('services-start-value') as WinRecord[][])
      expect(w?.data['TargetObject']).toMatch(/\\Services\\[^\\]+\\Start$/);
    for (const [w] of of('registry-create-key') as WinRecord[][])
      expect([w?.eventId, w?.data['EventType']]).toEqual([12, 'CreateKey']);
    for (const [w] of of('imagepath-outside-services') as WinRecord[][]) {
      expect(w?.data['TargetObject']).toMatch(/\\ImagePath$/);
      expect(w?.data['TargetObject']).not.toMatch(/\\CurrentControlSet\\Services/i);
    }
    for (const [w] of of('repeat-same-bucket') as WinRecord[][])
      expect(isServiceImagePath(w as WinRecord)).toBe(true);
  });

  it('the repeated ImagePath write is one alert per hour bucket', () => {
    const byAgent = new Map<string, number[]>();
    for (const a of gt.alerts.filter((x) => x.scenario === 'configuration-agent-reassert')) {
      const guid = a.entity.process?.guid ?? '';
      byAgent.set(guid, [...(byAgent.get(guid) ?? []), Math.floor(Date.parse(a.first_time) / 3_600_000)]);
    }
    expect(byAgent.size).toBe(3);
    for (const buckets of byAgent.values()) {
      expect(buckets).toHaveLength(2);
      expect((buckets[1] as number) - (buckets[0] as number)).toBe(1);
    }
  });

  it('labels the legitimate installers and the configuration agent benign', () => {
    const benign = new Set(gt.alerts.filter((a) => a.benign).map((a) => a.scenario));
    expect(benign).toEqual(new Set(['legitimate-installer', 'configuration-agent-reassert']));
  });

  it('the Remcos look-alikes fail the join', () => {
    const creates = new Set(parsed.win.filter((w) => w.eventId === 1).map((w) => w.data['ProcessGuid']));
    for (const [w] of of('remcos-write-without-process-create') as WinRecord[][]) {
      expect(isRemcosWrite(w as WinRecord)).toBe(true);
      expect(creates.has(w?.data['ProcessGuid'])).toBe(false);
    }
    for (const [c, w] of of('same-guid-unrelated-registry-write') as WinRecord[][]) {
      expect(c?.data['ProcessGuid']).toBe(w?.data['ProcessGuid']);
      expect(isRemcosWrite(w as WinRecord)).toBe(false);
    }
  });
});
