/**
 * One alert with every optional part filled (a Sigma rule's references, level, tags, authors; a threat; an
 * entity; evidence with a list, a null and a string field): encoders, decoders and their fuzzers start from
 * it. A fresh object per call, so a test may change its copy.
 */
import type { Alert } from '../alert.generated.js';

export function sampleAlert(): Alert {
  return {
    alert: { id: '0123456789abcdef0123456789abcdef' },
    timestamp: 1_700_000_000_000,
    rule: {
      id: 'r-1',
      name: 'Rule',
      version: 2,
      type: 'sigma',
      severity: 'high',
      risk_score: 73,
      references: ['https://example.org'],
      revision: 'abc',
      level: 'high',
      tags: ['attack.t1003'],
      author: ['someone'],
    },
    threat: [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0006', name: 'Credential Access' },
        technique: { id: 'T1003', name: 'OS Credential Dumping' },
        subtechnique: null,
      },
    ],
    entity: { host: { id: 'name:ws1', name: 'WS1' }, user: { id: 'S-1-5-21-1', name: 'alice' } },
    keys: [{ field: 'host.id', value: 'name:ws1' }],
    event: { first_time: 1_699_999_990_000, last_time: 1_699_999_999_000, count: 2 },
    evidence: [
      {
        event_id: 'e1',
        timestamp: 1_699_999_990_000,
        origin: { format: 'winlogbeat', topic: 'raw', partition: 0, offset: 42 },
        fields: [
          { name: 'registry.data.strings', value: ['a', 'b'] },
          { name: 'user.name', value: null },
          { name: 'host.name', value: 'WS1' },
        ],
      },
    ],
    message: 'hello',
    trace_id: null,
  };
}
