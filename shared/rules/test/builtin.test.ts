import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRulesDir, loadBuiltinRuleSet } from '../src/builtin.js';
import { compileRule } from '../src/compile.js';
import { checkPartitionCompatibility } from '../src/lint.js';
import { describeFailures, runRuleTests } from '../src/test-runner.js';
import { builtinRule, compile, decode, matchesOf, ruleIds } from './helpers.js';

const loaded = await loadBuiltinRuleSet();
const results = runRuleTests(loaded.rules);

describe('built-in rules', () => {
  it('load from the package with no error or warning, one file per rule named by slug', () => {
    expect(loaded.errors.map((e) => e.format())).toEqual([]);
    expect(loaded.warnings.map((e) => e.format())).toEqual([]);
    expect(loaded.rules.map((r) => path.relative(builtinRulesDir, r.location.file)).sort()).toEqual([
      'car-2014-11-005-remote-registry.yaml',
      'elastic-potential-remote-credential-access-via-registry.yaml',
      'splunk-remcos-client-registry-install-entry.yaml',
      'splunk-windows-service-creation-using-registry-entry.yaml',
    ]);
  });

  it('carry the published metadata', () => {
    const meta = Object.fromEntries(
      loaded.rules.map((r) => [
        r.id,
        {
          type: r.type,
          version: r.version,
          severity: r.severity,
          risk: r.riskScore,
          source: r.source?.id,
          attack: r.threat.flatMap((t) =>
            t.technique.flatMap((tech) => [t.tactic.id, tech.id, ...tech.subtechnique.map((s) => s.id)]),
          ),
        },
      ]),
    );
    expect(meta).toEqual({
      [ruleIds.car]: {
        type: 'eql',
        version: 1,
        severity: 'medium',
        risk: 47,
        source: 'CAR-2014-11-005',
        attack: ['TA0005', 'T1112'],
      },
      [ruleIds.serviceCreation]: {
        type: 'span_aggregation',
        version: 3,
        severity: 'high',
        risk: 64,
        source: ruleIds.serviceCreation,
        attack: [
          'TA0003',
          'T1574',
          'T1574.011',
          'TA0004',
          'T1574',
          'T1574.011',
          'TA0005',
          'T1574',
          'T1574.011',
        ],
      },
      [ruleIds.elastic]: {
        type: 'eql',
        version: 1,
        severity: 'high',
        risk: 73,
        source: ruleIds.elastic,
        attack: ['TA0006', 'T1003', 'T1003.002', 'TA0008', 'T1021'],
      },
      [ruleIds.remcos]: {
        type: 'eql',
        version: 3,
        severity: 'critical',
        risk: 90,
        source: ruleIds.remcos,
        attack: ['TA0005', 'T1112'],
      },
    });
  });

  it('keep the published queries and messages', async () => {
    const elastic = await builtinRule(ruleIds.elastic);
    expect(elastic.query).toContain('sequence by host.id, user.id with maxspan=1m');
    expect(elastic.query).toContain(
      'file.Ext.header_bytes : "72656766*" and user.id : "S-1-5-21-*" and file.size >= 30000]',
    );
    const svc = await builtinRule(ruleIds.serviceCreation);
    expect(svc.span?.ms).toBe(3_600_000);
    expect(svc.groupBy).toEqual([
      'host.id',
      'host.name',
      'user.name',
      'registry.path',
      'registry.key',
      'registry.value',
      'registry.data.strings',
      'process.entity_id',
    ]);
    expect(svc.message).toBe(
      'A Windows Service was created on a endpoint from $host.name$ using a registry entry',
    );
    expect((await builtinRule(ruleIds.remcos)).message).toBe(
      'A registry entry $registry.path$ with registry keyname $registry.key$ related to Remcos RAT in host $host.name$',
    );
  });

  it('are compatible with the default partitioning by host.id and compile', () => {
    for (const rule of loaded.rules) {
      expect(checkPartitionCompatibility(rule)).toBeNull();
      expect(() => compileRule(rule)).not.toThrow();
    }
  });

  it('each have positive and must-not-fire embedded tests', () => {
    for (const rule of loaded.rules) {
      expect(rule.tests.some((t) => t.expect.length > 0)).toBe(true);
      expect(rule.tests.some((t) => t.expect.length === 0)).toBe(true);
    }
  });

  it.each(results.map((r) => [`${r.ruleName}: ${r.testName}`, r] as const))(
    'embedded test passes: %s',
    (_name, result) => {
      expect(describeFailures([result])).toEqual([]);
      expect(result.passed).toBe(true);
    },
  );
});

const winreg = (id: string, operation: string, extra: Record<string, unknown> = {}) => ({
  '@timestamp': '2024-03-04T10:00:00.000Z',
  event: { id, category: ['network'] },
  source: { ip: '10.0.0.5', port: 50123 },
  destination: { ip: '10.0.0.20', port: 445 },
  dce_rpc: { named_pipe: '\\PIPE\\winreg', endpoint: 'winreg', operation },
  ...extra,
});

describe('CAR-2014-11-005 Remote Registry', () => {
  it('refuses every read-only MS-RRP operation and fires on creates and sets only', async () => {
    const rule = await builtinRule(ruleIds.car);
    const compiled = compile(rule);
    const readOnly = [
      'OpenLocalMachine',
      'OpenClassesRoot',
      'BaseRegOpenKey',
      'BaseRegQueryValue',
      'BaseRegQueryInfoKey',
      'BaseRegEnumKey',
      'BaseRegEnumValue',
      'BaseRegGetVersion',
      'BaseRegCloseKey',
      'BaseRegGetKeySecurity',
      'BaseRegSaveKey',
    ];
    expect(
      matchesOf(
        compiled,
        decode(
          rule,
          readOnly.map((op, i) => winreg(`ro-${i}`, op)),
        ),
      ),
    ).toEqual([]);
    const writes = ['BaseRegCreateKey', 'BaseRegSetValue', 'baseregsetvalue', 'BASEREGCREATEKEY'];
    expect(
      matchesOf(
        compiled,
        decode(
          rule,
          writes.map((op, i) => winreg(`w-${i}`, op)),
        ),
      ).map((m) => m.events[0]?.event.id),
    ).toEqual(['w-0', 'w-1', 'w-2', 'w-3']);
  });

  it('needs SMB port 445 and the winreg interface or pipe', async () => {
    const rule = await builtinRule(ruleIds.car);
    const compiled = compile(rule);
    const events = decode(rule, [
      winreg('pipe-only', 'BaseRegSetValue', {
        dce_rpc: { named_pipe: '\\pipe\\WINREG', endpoint: null, operation: 'BaseRegSetValue' },
      }),
      winreg('port-139', 'BaseRegSetValue', { destination: { ip: '10.0.0.20', port: 139 } }),
      winreg('svcctl', 'BaseRegSetValue', {
        dce_rpc: { named_pipe: '\\PIPE\\svcctl', endpoint: 'svcctl', operation: 'BaseRegSetValue' },
      }),
    ]);
    expect(matchesOf(compiled, events).map((m) => m.events[0]?.event.id)).toEqual(['pipe-only']);
  });
});

describe('near-miss boundaries of the correlation rules', () => {
  it('Elastic: a hive 59 s after the logon fires, 61 s after does not', async () => {
    const rule = await builtinRule(ruleIds.elastic);
    const compiled = compile(rule);
    const [logon, hive] = rule.tests[0]?.events ?? [];
    const at = (iso: string) => ({ ...hive, '@timestamp': iso });
    expect(matchesOf(compiled, decode(rule, [logon ?? {}, at('2024-05-06T12:00:59.000Z')]))).toHaveLength(1);
    expect(matchesOf(compiled, decode(rule, [logon ?? {}, at('2024-05-06T12:01:01.000Z')]))).toHaveLength(0);
  });

  it('Remcos: the key write joins its own process GUID on its own host only', async () => {
    const rule = await builtinRule(ruleIds.remcos);
    const compiled = compile(rule);
    const [proc, reg] = rule.tests[0]?.events ?? [];
    const regBy = (guid: string, host: string) => ({
      ...reg,
      process: { entity_id: guid },
      host: { id: host, name: host },
    });
    expect(
      matchesOf(
        compiled,
        decode(rule, [proc ?? {}, regBy('{11111111-aaaa-0000-0000-000000000001}', 'name:ws7')]),
      ),
    ).toHaveLength(1);
    expect(
      matchesOf(
        compiled,
        decode(rule, [proc ?? {}, regBy('{99999999-aaaa-0000-0000-000000000009}', 'name:ws7')]),
      ),
    ).toHaveLength(0);
    expect(
      matchesOf(
        compiled,
        decode(rule, [proc ?? {}, regBy('{11111111-aaaa-0000-0000-000000000001}', 'name:ws8')]),
      ),
    ).toHaveLength(0);
  });

  it('Splunk service creation: a write with no user still raises an alert (null group value, documented divergence)', async () => {
    const rule = await builtinRule(ruleIds.serviceCreation);
    const compiled = compile(rule);
    const [write] = rule.tests[0]?.events ?? [];
    const events = decode(rule, [{ ...write, user: { name: null } }]);
    const matches = matchesOf(compiled, events);
    expect(matches).toHaveLength(1);
    expect(matches[0]?.keyValues[2]).toBeNull();
    expect(matches.map((m) => compiled.toAlert(m, { detectedAt: 0 }).keys[2])).toEqual([
      { field: 'user.name', value: null },
    ]);
  });
});
