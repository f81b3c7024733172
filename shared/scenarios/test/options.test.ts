import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sequor/model';
import type { ScenarioOptions } from '@sequor/scenarios';
import { DEFAULT_START, generateScenario, resolveOptions } from '@sequor/scenarios';

function lines(text: string | undefined): string[] {
  const out = (text ?? '').split('\n');
  out.pop();
  return out;
}

describe('options', () => {
  it('fills the defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({
      seed: 1,
      events: 100_000,
      hosts: 50,
      users: 200,
      start: DEFAULT_START,
      rate: 20,
      outOfOrder: 0,
      late: 0,
      lateByMs: 300_000,
      zeekJson: false,
    });
    expect(Object.values(o.scenarios)).toEqual([2, 2, 2, 2]);
    expect(Object.values(resolveOptions({ events: 1_000_000 }).scenarios)).toEqual([20, 20, 20, 20]);
    expect(Object.values(resolveOptions({ events: 1_000 }).scenarios)).toEqual([1, 1, 1, 1]);
  });

  it.each<[string, ScenarioOptions]>([
    ['events', { events: 0 }],
    ['events', { events: 1.5 }],
    ['hosts', { hosts: 3 }],
    ['users', { users: 2 }],
    ['start', { start: '2024-03-04 08:00:00' }],
    ['start', { start: 'yesterday' }],
    ['rate', { rate: 0 }],
    ['outOfOrder', { outOfOrder: 120_000 }],
    ['late', { late: 0.9 }],
    ['lateByMs', { late: 0.01, outOfOrder: 5_000, lateByMs: 4_000 }],
    ['seed', { seed: -1 }],
    ['scenarios.car-2014-11-005-remote-registry', { scenarios: { 'car-2014-11-005-remote-registry': -1 } }],
    [
      'scenarios.no-such-rule',
      { scenarios: { 'no-such-rule': 1 } as unknown as ScenarioOptions['scenarios'] },
    ],
  ])('rejects a bad %s with a ConfigError naming it', (variable, options) => {
    try {
      resolveOptions(options);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe(variable);
      expect((e as ConfigError).retriable).toBe(false);
    }
  });
});

describe('counts follow the options', { timeout: 120_000 }, () => {
  const options = {
    events: 10_000,
    seed: 8,
    hosts: 24,
    users: 70,
    rate: 50,
    start: '2025-01-06T22:30:00Z',
    scenarios: {
      'car-2014-11-005-remote-registry': 2,
      'splunk-windows-service-creation-using-registry-entry': 1,
      'elastic-potential-remote-credential-access-via-registry': 2,
      'splunk-remcos-client-registry-install-entry': 3,
    },
  } as const;
  const gen = generateScenario(options);
  const gt = gen.groundTruth;

  it('writes exactly the requested number of events', () => {
    expect(gt.counts.events).toBe(10_000);
    expect(gt.counts.noise_events + gt.counts.scenario_events).toBe(10_000);
    const data =
      ['winlogbeat.ndjson', 'endpoint.ndjson', 'flat-windows.ndjson'].reduce(
        (n, p) => n + lines(gen.files.get(p)).length,
        0,
      ) +
      lines(gen.files.get('zeek/dce_rpc.log')).length -
      9;
    expect(data).toBe(10_000);
    for (const f of gt.files) expect(lines(gen.files.get(f.path)).length, f.path).toBe(f.lines);
  });

  it('uses every host and stays within the user population', () => {
    const hosts = new Set<string>();
    const sids = new Set<string>();
    for (const l of lines(gen.files.get('winlogbeat.ndjson'))) {
      const e = JSON.parse(l) as { host: { id: string }; winlog: { event_data: Record<string, string> } };
      hosts.add(e.host.id);
      const sid = e.winlog.event_data['TargetUserSid'];
      if (sid?.startsWith('S-1-5-21-') && !/-5\d{3}$/.test(sid)) sids.add(sid);
    }
    for (const l of lines(gen.files.get('flat-windows.ndjson')))
      hosts.add((JSON.parse(l) as { Hostname: string }).Hostname);
    expect(hosts.size).toBe(24);
    expect(gt.counts.hosts).toEqual({
      total: 24,
      agent: hosts.size - gt.counts.hosts.flat,
      flat: gt.counts.hosts.flat,
    });
    expect(sids.size).toBeGreaterThan(20);
    expect(sids.size).toBeLessThanOrEqual(70);
  });

  it('spaces events by the rate from the start time', () => {
    const ts = lines(gen.files.get('winlogbeat.ndjson')).map((l) =>
      Date.parse((JSON.parse(l) as { '@timestamp': string })['@timestamp']),
    );
    const first = Math.min(...ts);
    expect(first).toBeGreaterThanOrEqual(Date.parse(options.start));
    expect(first - Date.parse(options.start)).toBeLessThan(5_000);
    const spanS = (Math.max(...ts) - first) / 1000;
    // 10,000 events at 50/s: about 200 s of noise; scenarios may run past it (an hour boundary for the 1h buckets).
    const noiseEnd = ts.sort((a, b) => a - b)[Math.floor(ts.length * 0.98)] as number;
    expect((noiseEnd - first) / 1000).toBeGreaterThan(180);
    expect((noiseEnd - first) / 1000).toBeLessThan(230);
    expect(spanS).toBeLessThan(3_700);
  });

  it('injects the requested instances of each rule', () => {
    // Remote registry: 2 or 3 rows per instance; service creation: 6 per instance, plus one per even
    // remote-registry instance; credential access: 1, or 2 when the attacker re-authenticates (k % 3 == 1);
    // Remcos: 1 per instance.
    expect(gt.counts.alerts_by_rule).toEqual({
      'car-2014-11-005-remote-registry': 2 + 3,
      'splunk-windows-service-creation-using-registry-entry': 6 + 1,
      'elastic-potential-remote-credential-access-via-registry': 1 + 2,
      'splunk-remcos-client-registry-install-entry': 3,
    });
    expect(gt.counts.near_misses_by_rule['splunk-remcos-client-registry-install-entry']).toBe(9);
    expect(gt.counts.near_misses_by_rule['elastic-potential-remote-credential-access-via-registry']).toBe(18);
  });

  it('leaves a rule out when asked for zero instances', () => {
    const none = generateScenario({
      events: 3_000,
      seed: 8,
      hosts: 8,
      users: 10,
      scenarios: { 'splunk-remcos-client-registry-install-entry': 0 },
    }).groundTruth;
    expect(none.counts.alerts_by_rule['splunk-remcos-client-registry-install-entry']).toBe(0);
    expect(none.counts.near_misses_by_rule['splunk-remcos-client-registry-install-entry']).toBe(0);
    expect(none.counts.alerts_by_rule['car-2014-11-005-remote-registry']).toBeGreaterThan(0);
  });
});
