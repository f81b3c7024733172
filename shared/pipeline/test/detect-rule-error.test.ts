/**
 * `onRuleError`: a rule that throws on one event (a Sigma rule through the set's dispatch, or a plain
 * filter's own predicate) is reported with the rule and event; the other rules still alert on that event
 * and the processor stays open. Without the option the processor closes, as before.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FilterSpec } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadRuleSet } from '@sequor/rules';
import { eventCountRuleOf, sigmaSecurityRuleText } from '@sequor/rules/testing';
import type { DetectionProcessor } from '../src/index.js';
import { createDetectionProcessor, DetectionProcessorError } from '../src/index.js';

const IDS = ['0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a01', '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a02'] as const;
const [OK_ID, BOOM_ID] = IDS;

const sigmaRule = (id: string): string => `title: whoami ${id}
id: ${id}
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
`;

/** `sigmaRule(id)` with a suppression window per host. */
const suppressedSigmaRule = (id: string): string =>
  `${sigmaRule(id)}sequor:\n  suppress: { by: [host.id], window: 1h }\n`;

/** Rule files (by id), loaded as a RULES_DIR is and compiled; none may be refused. */
async function compiledRules(files: Readonly<Record<string, string>>): Promise<CompiledRule[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rule-error-'));
  try {
    for (const [id, text] of Object.entries(files)) await writeFile(path.join(dir, `${id}.yml`), text);
    const loaded = await loadRuleSet({ paths: [dir], builtins: false });
    expect(loaded.errors).toEqual([]);
    return loaded.rules.map((rule) => compileRule(rule));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sysmon(id: string): SequorEvent {
  return {
    timestamp: Date.UTC(2024, 0, 1) + Number(id.slice(1)) * 1_000,
    event: { id, code: '1', dataset: null },
    host: { id: 'h1', name: 'H1' },
    winlog: {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: '1',
      event_data: { Image: 'C:\\Windows\\whoami.exe' },
    },
    origin: { format: 'test', topic: null, partition: null, offset: null },
  } as unknown as SequorEvent;
}

const bug = new Error('detection bug');
/** Set while the event that the rules choke on is pushed. */
let armed = false;

describe('DetectionProcessor: onRuleError', () => {
  let rules: CompiledRule[];

  beforeAll(async () => {
    const compiled = await compiledRules(Object.fromEntries(IDS.map((id) => [id, sigmaRule(id)])));
    const boom = compiled.find((r) => r.rule.id === BOOM_ID)!;
    // The Sigma rule's detection throws on one event (a bug in one rule).
    const binding = boom.rule.type === 'sigma' ? boom.rule.binding! : null;
    for (const variant of binding!.compiled.variants) {
      const detects = variant.detects;
      (variant as { detects: typeof detects }).detects = (view) => {
        if (armed) throw bug;
        return detects(view);
      };
    }
    // A plain filter outside the dispatch (as an EQL event rule runs) that throws on the same event.
    const spec = boom.compiled.spec as FilterSpec<SequorEvent>;
    const plain: CompiledRule = {
      ...boom,
      rule: { ...boom.rule, id: 'plain', binding: undefined } as CompiledRule['rule'],
      compiled: {
        ...boom.compiled,
        spec: {
          ...spec,
          predicate: () => {
            if (armed) throw bug;
            return true;
          },
        },
      },
    };
    rules = [...compiled, plain];
  });

  const events = [sysmon('e1'), sysmon('e2'), sysmon('e3')];
  /** Pushes the events, the rules armed for `e2`. */
  const pushAll = (processor: DetectionProcessor): void => {
    for (const event of events) {
      armed = event.event.id === 'e2';
      try {
        processor.push(event);
      } finally {
        armed = false;
      }
    }
  };

  it('reports each throwing rule once, and every other rule still alerts on that event and after', () => {
    const alerts: string[] = [];
    const errors: string[] = [];
    const processor = createDetectionProcessor({
      rules,
      clock: () => 0,
      onAlert: (_alert, rule, evidence) => alerts.push(`${rule.rule.id}:${evidence[0]!.event.id}`),
      onRuleError: (rule, event, error) =>
        errors.push(`${rule.rule.id}:${event.event.id}:${(error as Error).message}`),
    });
    pushAll(processor);
    processor.flush();
    expect(errors).toEqual([`${BOOM_ID}:e2:detection bug`, 'plain:e2:detection bug']);
    expect(alerts.filter((a) => a.endsWith(':e2'))).toEqual([`${OK_ID}:e2`]);
    expect(alerts.filter((a) => a.endsWith(':e3'))).toEqual([`${OK_ID}:e3`, `${BOOM_ID}:e3`, 'plain:e3']);
    expect(processor.stats().eventsIn).toBe(3);
  });

  it('closes the processor without onRuleError, as before', () => {
    const processor = createDetectionProcessor({ rules, clock: () => 0, onAlert: () => {} });
    expect(() => pushAll(processor)).toThrow(DetectionProcessorError);
    expect(processor.state).toBe('closed');
  });

  it('closes it too when only a Sigma rule throws (found by the dispatch, not by its own predicate)', () => {
    const sigmaOnly = rules.filter((r) => r.rule.id !== 'plain');
    const processor = createDetectionProcessor({ rules: sigmaOnly, clock: () => 0, onAlert: () => {} });
    expect(() => pushAll(processor)).toThrow(DetectionProcessorError);
    expect(processor.state).toBe('closed');
  });

  it('surfaces a throwing onRuleError from push, unchanged', () => {
    const sinkError = new Error('dead-letter sink down');
    const processor = createDetectionProcessor({
      rules,
      clock: () => 0,
      onAlert: () => {},
      onRuleError: () => {
        throw sinkError;
      },
    });
    expect(() => pushAll(processor)).toThrow(sinkError);
  });
});

describe('DetectionProcessor: a suppressed Sigma rule that throws', () => {
  // With a plain Sigma rule beside it the set's dispatch runs at record time and meets the throw first;
  // alone, no dispatch runs. Either way the rule runs on the reordered stream, where its own detection
  // throws when the event is released (e2 by the push of e9, 5 s of lateness later): reported once, then.
  it.each([
    ['beside a plain Sigma rule', true],
    ['alone', false],
  ])(
    'is reported once, with the event, when it is released (%s); the partition goes on',
    async (_, beside) => {
      const rules = await compiledRules({
        ...(beside ? { [OK_ID]: sigmaRule(OK_ID) } : {}),
        [BOOM_ID]: suppressedSigmaRule(BOOM_ID),
      });
      const boom = rules.find((r) => r.rule.id === BOOM_ID)!;
      expect(boom.suppress).toBeDefined();
      // Throws on e2 whenever it is asked, at record time (the dispatch) and on release (its own predicate).
      const binding = boom.rule.type === 'sigma' ? boom.rule.binding! : null;
      for (const variant of binding!.compiled.variants) {
        const detects = variant.detects;
        (variant as { detects: typeof detects }).detects = (view) => {
          if (view.raw('event.id') === 'e2') throw bug;
          return detects(view);
        };
      }
      const alerts: string[] = [];
      const errors: string[] = [];
      let pushing = '';
      const processor = createDetectionProcessor({
        rules,
        clock: () => 0,
        allowedLatenessMs: 5_000,
        onAlert: (_alert, rule, evidence) => alerts.push(`${rule.rule.id}:${evidence[0]!.event.id}`),
        onRuleError: (rule, event, error) =>
          errors.push(`${rule.rule.id}:${event.event.id}:${(error as Error).message} (pushing ${pushing})`),
      });
      for (const id of ['e1', 'e2', 'e3', 'e9']) {
        pushing = id;
        processor.push(sysmon(id));
      }
      processor.flush();
      expect(processor.state).toBe('flushed');
      expect(errors).toEqual([`${BOOM_ID}:e2:detection bug (pushing e9)`]);
      expect(alerts.filter((a) => a.startsWith(OK_ID))).toEqual(
        beside ? ['e1', 'e2', 'e3', 'e9'].map((e) => `${OK_ID}:${e}`) : [],
      );
      expect(alerts.filter((a) => a.startsWith(BOOM_ID))).toEqual([`${BOOM_ID}:e1`]);
    },
  );

  it('answers for itself on an event the set threw on and released within its push (a late event, processed)', async () => {
    const rules = await compiledRules({ [OK_ID]: sigmaRule(OK_ID), [BOOM_ID]: suppressedSigmaRule(BOOM_ID) });
    const set = rules[0]!.rule.type === 'sigma' ? rules[0]!.rule.binding!.set : null;
    // A bug in the set's own code on e1; the suppressed rule's own detection is sound.
    const match = set!.match.bind(set);
    set!.match = (source) => {
      if (source.get('event.id') === 'e1') throw bug;
      return match(source);
    };
    const alerts: string[] = [];
    const errors: string[] = [];
    const processor = createDetectionProcessor({
      rules,
      clock: () => 0,
      allowedLatenessMs: 5_000,
      latePolicy: 'process',
      onAlert: (_alert, rule, evidence) => alerts.push(`${rule.rule.id}:${evidence[0]!.event.id}`),
      onRuleError: (rule, event) => errors.push(`${rule.rule.id}:${event.event.id}`),
    });
    processor.push(sysmon('e9'));
    // e1 is late (8 s behind, 5 s of grace) and passed on within its own push, right after the set threw
    // on it: the suppressed rule (another host: its own window) decides it by its own detection.
    processor.push({ ...sysmon('e1'), host: { id: 'h2', name: 'H2' } } as SequorEvent);
    processor.flush();
    // Only the plain rule, which took the set's answer, is reported.
    expect(errors).toEqual([`${OK_ID}:e1`]);
    expect(alerts.sort()).toEqual([`${OK_ID}:e9`, `${BOOM_ID}:e1`, `${BOOM_ID}:e9`]);
  });
});

describe('DetectionProcessor: a stateful rule that throws on a released event', () => {
  it('is reported with that event during the later push that released it; the processor goes on', async () => {
    const [ok] = await compiledRules({ [OK_ID]: sigmaRule(OK_ID) });
    // Two process creations on a host within a minute (as a Sigma event_count correlation runs),
    // whose input's predicate throws on e2.
    const count = eventCountRuleOf(ok!, 'count', (e) => {
      if (e.event.id === 'e2') throw bug;
      return e.winlog?.event_id === '1';
    });
    const run = (onRuleError?: (rule: CompiledRule, event: SequorEvent, error: unknown) => void) => {
      const alerts: string[] = [];
      const processor = createDetectionProcessor({
        rules: [ok!, count],
        clock: () => 0,
        allowedLatenessMs: 5_000,
        onAlert: (_alert, rule, evidence) =>
          alerts.push(`${rule.rule.id}:${evidence.map((e) => e.event.id).join(',')}`),
        ...(onRuleError === undefined ? {} : { onRuleError }),
      });
      for (const id of ['e1', 'e2', 'e3', 'e4', 'e9']) {
        pushing = id;
        processor.push(sysmon(id));
      }
      pushing = 'flush';
      processor.flush();
      return { alerts, processor };
    };
    let pushing = '';
    const errors: string[] = [];
    const guarded = run((rule, event, error) =>
      errors.push(`${rule.rule.id}:${event.event.id}:${(error as Error).message} (pushing ${pushing})`),
    );
    // e2 is released (its time + 5 s passed) by the push of e9, not by its own.
    expect(errors).toEqual(['count:e2:detection bug (pushing e9)']);
    expect(guarded.processor.state).toBe('flushed');
    // The Sigma rule alerts on every event; the count goes on as if e2 were not there: it reaches two at e3.
    expect(guarded.alerts.filter((a) => a.startsWith(OK_ID))).toHaveLength(5);
    expect(guarded.alerts.filter((a) => a.startsWith('count:'))).toEqual(['count:e1,e3']);
    // Without onRuleError the processor closes, as before.
    expect(() => run()).toThrow(DetectionProcessorError);
  });
});

describe('DetectionProcessor: a Sigma correlation of correlations whose rule throws', () => {
  // The specification's example: 3 failed logons of a user on a host, then a success, within 10 minutes.
  const chain = [
    `title: brute force then success
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [User, host.id]
  timespan: 10m
`,
    `title: multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [User, host.id]
  timespan: 10m
  condition:
    gte: 3
`,
    sigmaSecurityRuleText('failed_login', '53ba33fd-3a50-4468-a5ef-c583635cfa92', 4625),
    sigmaSecurityRuleText('successful_login', '4d0a2c83-c62c-4ed4-b475-c7e23a9269b8', 4624),
  ].join('---\n');
  const security = (id: string, second: number, eventId: number): SequorEvent =>
    ({
      timestamp: Date.UTC(2024, 0, 1) + second * 1_000,
      event: { id, code: String(eventId), dataset: null },
      host: { id: 'h1', name: 'H1' },
      winlog: { channel: 'Security', event_id: String(eventId), event_data: { User: 'admin' } },
      origin: { format: 'test', topic: null, partition: null, offset: null },
    }) as unknown as SequorEvent;

  it('loads with no error, reports the throw once, alerts with that event as evidence and goes on', async () => {
    // Loading: the inner correlation runs only inside the outer one (no error of its own, no rule).
    const rules = await compiledRules({ chain });
    expect(rules.map((r) => r.rule.id)).toEqual(['b180ead8-d58f-40b2-ae54-c8940995b9b6']);
    const correlation = rules[0]!.rule;
    const failedLogin = (correlation.type === 'sigma-correlation' ? correlation.compiled!.rules : []).find(
      (r) => r.rule.name === 'failed_login',
    )!;
    // failed_login throws on s4 (a success): the inner count is as if s4 had not come, the outer step
    // `successful_login` takes it, and the alert's evidence reader meets the throw again on s4.
    for (const variant of failedLogin.variants) {
      const detects = variant.detects;
      (variant as { detects: typeof detects }).detects = (view) => {
        if (view.raw('event.id') === 's4') throw bug;
        return detects(view);
      };
    }
    const alerts: string[] = [];
    const errors: string[] = [];
    const processor = createDetectionProcessor({
      rules,
      clock: () => 0,
      allowedLatenessMs: 2_000,
      onAlert: (_alert, _rule, evidence) => alerts.push(evidence.map((e) => e.event.id).join(',')),
      onRuleError: (rule, event) => errors.push(`${rule.rule.id}:${event.event.id}`),
    });
    for (const [id, second, eventId] of [
      ['f1', 1, 4625],
      ['f2', 2, 4625],
      ['f3', 3, 4625],
      ['s4', 4, 4624],
      ['f5', 30, 4625],
    ] as const)
      processor.push(security(id, second, eventId));
    processor.flush();
    expect(processor.state).toBe('flushed');
    expect(errors).toEqual(['b180ead8-d58f-40b2-ae54-c8940995b9b6:s4']);
    expect(alerts).toEqual(['f1,f2,f3,s4']);
  });
});

describe('DetectionProcessor: the Sigma rule set itself throws', () => {
  it('counts every plain rule of the set as not matched on that event, reports each, and goes on', async () => {
    // A suppressed rule of the same set: it runs its own detection on the reordered stream, so the
    // set's exception does not decide it and it is not reported.
    const SUPPRESSED_ID = '0a5f0c2e-6d3b-4a4e-9a7e-1c2d3e4f5a03';
    const rules = await compiledRules({
      [OK_ID]: sigmaRule(OK_ID),
      [BOOM_ID]: sigmaRule(BOOM_ID),
      [SUPPRESSED_ID]: suppressedSigmaRule(SUPPRESSED_ID),
    });
    const set = rules[0]!.rule.type === 'sigma' ? rules[0]!.rule.binding!.set : null;
    // A bug in the set's own code (its index, gates, memo), outside any one rule.
    const match = set!.match.bind(set);
    set!.match = (source) => {
      if (source.get('event.id') === 'e2') throw bug;
      return match(source);
    };
    const alerts: string[] = [];
    const errors: string[] = [];
    const processor = createDetectionProcessor({
      rules,
      clock: () => 0,
      onAlert: (_alert, rule, evidence) => alerts.push(`${rule.rule.id}:${evidence[0]!.event.id}`),
      onRuleError: (rule, event, error) =>
        errors.push(`${rule.rule.id}:${event.event.id}:${(error as Error).message}`),
    });
    for (const id of ['e1', 'e2', 'e3']) processor.push(sysmon(id));
    processor.flush();
    expect(errors.sort()).toEqual([`${OK_ID}:e2:detection bug`, `${BOOM_ID}:e2:detection bug`]);
    expect(alerts.filter((a) => !a.startsWith(SUPPRESSED_ID)).sort()).toEqual([
      `${OK_ID}:e1`,
      `${OK_ID}:e3`,
      `${BOOM_ID}:e1`,
      `${BOOM_ID}:e3`,
    ]);
    expect(alerts.filter((a) => a.startsWith(SUPPRESSED_ID))).toEqual([`${SUPPRESSED_ID}:e1`]);
    expect(processor.state).toBe('flushed');
    // Without onRuleError the processor closes on it, as on any rule's exception.
    const strict = createDetectionProcessor({ rules, clock: () => 0, onAlert: () => {} });
    strict.push(sysmon('e1'));
    expect(() => strict.push(sysmon('e2'))).toThrow(DetectionProcessorError);
    expect(strict.state).toBe('closed');
  });
});
