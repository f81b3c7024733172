import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { alertId, createRuleSetPipeline } from '@sequor/engine';
import type { Match } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import type { Alert } from '@sequor/model';
import { buildAlert, compileRule } from '../src/compile.js';
import { builtinRule, caseEvents, compile, matchesOf, ruleIds } from './helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const alertSchema = JSON.parse(
  readFileSync(path.join(repoRoot, 'schemas/alert.avsc'), 'utf8'),
) as avro.Schema;
const alertType = avro.Type.forSchema(alertSchema);

const detectedAt = Date.UTC(2024, 4, 6, 12, 0, 31);

async function elasticAlert(): Promise<{ alert: Alert; match: Match<SequorEvent> }> {
  const rule = await builtinRule(ruleIds.elastic);
  const compiled = compile(rule);
  const [match] = matchesOf(compiled, caseEvents(rule, 0));
  if (match === undefined) throw new Error('the positive case did not match');
  return {
    alert: compiled.toAlert(match, { detectedAt, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    match,
  };
}

describe('buildAlert', () => {
  it('a rule compiled with a revision carries it and makes other ids than the same version without', async () => {
    const rule = await builtinRule(ruleIds.elastic);
    const [match] = matchesOf(compile(rule), caseEvents(rule, 0));
    if (match === undefined) throw new Error('the positive case did not match');
    const plain = compileRule(rule).toAlert(match, { detectedAt });
    const revised = compileRule(rule, { revision: 'abc123' }).toAlert(match, { detectedAt });
    const other = compileRule(rule, { revision: 'def456' }).toAlert(match, { detectedAt });
    expect(plain.rule.revision).toBeNull();
    expect(revised.rule.revision).toBe('abc123');
    expect(revised.rule.version).toBe(plain.rule.version);
    expect(new Set([plain.alert.id, revised.alert.id, other.alert.id]).size).toBe(3);
    expect(revised.alert.id).toBe(
      alertId(ruleIds.elastic, `${rule.version}:abc123`, ['sam-logon', 'sam-hive']),
    );
    expect(alertType.isValid(revised)).toBe(true);
  });

  it('builds the alert of a sequence: deterministic id, rule, ATT&CK rows, keys, entity, evidence, message', async () => {
    const { alert, match } = await elasticAlert();
    expect(alert.alert.id).toBe(alertId(ruleIds.elastic, 1, ['sam-logon', 'sam-hive']));
    expect(alert.timestamp).toBe(detectedAt);
    expect(alert.rule).toEqual({
      id: ruleIds.elastic,
      name: 'Potential Remote Credential Access via Registry',
      version: 1,
      type: 'eql',
      severity: 'high',
      risk_score: 73,
      references: ['https://github.com/SecureAuthCorp/impacket/blob/master/examples/secretsdump.py'],
      revision: null,
      level: null,
      tags: ['Elastic', 'Host', 'Windows', 'Threat Detection', 'Lateral Movement', 'Credential Access'],
      author: ['Elastic'],
    });
    expect(alert.threat).toEqual([
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0006', name: 'Credential Access' },
        technique: { id: 'T1003', name: 'OS Credential Dumping' },
        subtechnique: { id: 'T1003.002', name: 'Security Account Manager' },
      },
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0008', name: 'Lateral Movement' },
        technique: { id: 'T1021', name: 'Remote Services' },
        subtechnique: null,
      },
    ]);
    expect(alert.keys).toEqual([
      { field: 'host.id', value: 'name:dc01' },
      { field: 'user.id', value: 'S-1-5-21-1111111111-2222222222-3333333333-1104' },
    ]);
    expect(alert.entity).toEqual({
      host: { id: 'name:dc01', name: 'DC01' },
      user: { id: 'S-1-5-21-1111111111-2222222222-3333333333-1104', name: 'pgustavo' },
    });
    expect(alert.event).toEqual({
      first_time: Date.parse('2024-05-06T12:00:00Z'),
      last_time: Date.parse('2024-05-06T12:00:30Z'),
      count: 2,
    });
    expect(alert.evidence.map((e) => [e.event_id, e.timestamp, e.origin.format, e.origin.offset])).toEqual([
      ['sam-logon', Date.parse('2024-05-06T12:00:00Z'), 'ecs', 0],
      ['sam-hive', Date.parse('2024-05-06T12:00:30Z'), 'ecs', 1],
    ]);
    const hiveFields = Object.fromEntries(alert.evidence[1]?.fields.map((f) => [f.name, f.value]) ?? []);
    expect(hiveFields).toMatchObject({
      'file.Ext.header_bytes': '72656766e1000000e1000000',
      'file.size': '65536',
      'process.name': 'svchost.exe',
    });
    expect(hiveFields).not.toHaveProperty('source.ip'); // null on the file event: left out
    expect(alert.message).toBe(
      'Registry hive C:\\Windows\\System32\\wn5qgAbc.tmp written by svchost.exe on DC01 after a network logon by pgustavo from 172.18.39.5',
    );
    expect(alert.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    // Same rule, same match: same alert, whatever the detection time.
    const rule = await builtinRule(ruleIds.elastic);
    const again = buildAlert(rule, match, { detectedAt: detectedAt + 1000 });
    expect(again.alert.id).toBe(alert.alert.id);
    expect(again.trace_id).toBeNull();
  });

  it('resolves placeholders from the key first, then the evidence in order', async () => {
    const rule = await builtinRule(ruleIds.remcos);
    const [proc, reg] = caseEvents(rule, 0);
    if (proc === undefined || reg === undefined) throw new Error('missing events');
    const match: Match<SequorEvent> = {
      kind: 'join',
      events: [proc, reg],
      keyValues: ['name:override', '{11111111-aaaa-0000-0000-000000000001}'],
      firstTime: proc.timestamp,
      lastTime: reg.timestamp,
    };
    const alert = buildAlert(rule, match, { detectedAt });
    expect(alert.entity.host).toEqual({ id: 'name:override', name: 'WS7' });
    expect(alert.message).toBe(
      'A registry entry HKU\\S-1-5-21-1-2-3-1001\\Software\\Remcos-ABC123\\licence with registry keyname S-1-5-21-1-2-3-1001\\Software\\Remcos-ABC123 related to Remcos RAT in host WS7',
    );
    expect(alert.entity.user).toEqual({ id: 'name:alice', name: 'alice' });
    // The evidence ids, in order, make the id: another order is another alert.
    expect(buildAlert(rule, { ...match, events: [reg, proc] }, { detectedAt }).alert.id).not.toBe(
      alert.alert.id,
    );
  });

  it('runs in the rule-set pipeline the detector uses, with the caller clock', async () => {
    const rule = await builtinRule(ruleIds.car);
    const compiled = compile(rule);
    const detection = createRuleSetPipeline(
      [{ rule: compiled, spec: compiled.compiled.spec }],
      compiled.compiled.eventTime,
    );
    const clock = (): number => Date.UTC(2024, 0, 1);
    const alerts = await lastValueFrom(
      from(caseEvents(rule, 0)).pipe(
        detection.operator,
        map(({ rule: matched, match }) => matched.toAlert(match, { detectedAt: clock() })),
        toArray(),
      ),
    );
    expect(alerts.map((a) => [a.evidence[0]?.event_id, a.timestamp, a.keys])).toEqual([
      ['car-set', Date.UTC(2024, 0, 1), []],
      ['car-create', Date.UTC(2024, 0, 1), []],
    ]);
    expect(alerts[0]?.message).toBe(
      'Remote registry BaseRegSetValue on 10.0.0.20 from 10.0.0.5 over SMB (WINREG)',
    );
    expect(alerts[0]?.evidence[0]?.fields).toContainEqual({ name: 'destination.port', value: '445' });
  });
});

describe('schemas/alert.avsc', () => {
  async function sampleAlerts(): Promise<Alert[]> {
    const out: Alert[] = [(await elasticAlert()).alert];
    for (const id of [ruleIds.serviceCreation, ruleIds.remcos, ruleIds.car]) {
      const rule = await builtinRule(id);
      const compiled = compile(rule);
      for (const m of matchesOf(compiled, caseEvents(rule, 0))) out.push(compiled.toAlert(m, { detectedAt }));
    }
    return out;
  }

  it('encodes and decodes every sample alert unchanged (the TS type and the schema agree)', async () => {
    const alerts = await sampleAlerts();
    expect(alerts).toHaveLength(1 + 2 + 2 + 2);
    for (const alert of alerts) {
      const errors: string[] = [];
      const valid = alertType.isValid(alert, { errorHook: (p) => errors.push(p.join('.')) });
      expect(errors).toEqual([]);
      expect(valid).toBe(true);
      expect(alertType.fromBuffer(alertType.toBuffer(alert))).toEqual(JSON.parse(JSON.stringify(alert)));
    }
    // The span aggregation's multi-valued group field travels as an array.
    const svc = alerts[1];
    expect(svc?.rule.type).toBe('span_aggregation');
    expect(svc?.evidence[0]?.fields).toContainEqual({
      name: 'registry.data.strings',
      value: [
        'C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c "write-host \'T1543.003 Test\'"',
      ],
    });
    expect(svc?.event.count).toBe(1);
    expect(svc?.message).toBe(
      'A Windows Service was created on a endpoint from WORKSTATION5 using a registry entry',
    );
  });

  it('rejects an alert that drifts from the schema', async () => {
    const { alert } = await elasticAlert();
    expect(alertType.isValid({ ...alert, rule: { ...alert.rule, risk_score: '73' } })).toBe(false);
    const { message: _dropped, ...withoutMessage } = alert;
    expect(alertType.isValid(withoutMessage)).toBe(false);
    expect(
      alertType.isValid({
        ...alert,
        evidence: [{ ...alert.evidence[0], fields: [{ name: 'file.size', value: 65536 }] }],
      }),
    ).toBe(false);
  });
});
