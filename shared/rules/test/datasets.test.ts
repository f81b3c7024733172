/**
 * The built-in rules over real third-party data (OTRF Security-Datasets, read from ../shared/datasets and
 * never copied into the repo), decoded by the `flat-windows` format. Expected results are those in the
 * datasets' PROVENANCE.md: 3 service-creation alerts in 2 files, nothing else anywhere.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCorrelation } from '@sequor/engine';
import { getFormat } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { describe, expect, it } from 'vitest';
import { loadBuiltinRules } from '../src/builtin.js';
import { compileRule } from '../src/compile.js';
import { ruleIds } from './helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const datasets = path.resolve(repoRoot, '../shared/datasets/security-datasets');

function decodeFile(name: string): SequorEvent[] {
  const decoder = getFormat('flat-windows').createDecoder();
  const encoder = new TextEncoder();
  const lines = readFileSync(path.join(datasets, name), 'utf8').split('\n');
  const events: SequorEvent[] = [];
  lines.forEach((line, offset) => {
    if (line.trim() === '') return;
    try {
      events.push(...decoder.decode(encoder.encode(line), { topic: name, partition: 0, offset }));
    } catch {
      // Records the format refuses (PowerShell script blocks without a model field) are the format's tests' concern.
    }
  });
  return events;
}

const compiled = (await loadBuiltinRules()).map((r) => compileRule(r));

/** rule id -> evidence of each alert: [timestamp, host.name, registry.path, data, process GUID]. */
function detect(events: readonly SequorEvent[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const c of compiled) {
    const matches = runCorrelation(
      c.compiled.spec,
      c.compiled.eventTime,
      { allowedLatenessMs: 60_000 },
      events,
    );
    if (matches.length === 0) continue;
    out[c.rule.id] = matches.map((m) =>
      m.events.map((e) => [
        new Date(e.timestamp).toISOString(),
        e.host?.name,
        e.registry?.path,
        e.registry?.data?.strings?.[0],
        e.process?.entity_id,
      ]),
    );
  }
  return out;
}

const expected: Record<string, Record<string, unknown[]>> = {
  'cmd_service_mod_fax.json': {
    [ruleIds.serviceCreation]: [
      [
        [
          '2020-10-21T08:45:33.693Z',
          'WORKSTATION5',
          'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
          'C:\\windows\\system32\\WindowsPowerShell\\v1.0\\powershell.exe -noexit -c "write-host \'T1543.003 Test\'"',
          '{39e4a257-f131-5f8b-0b00-000000000700}',
        ],
      ],
      [
        [
          '2020-10-21T08:45:41.343Z',
          'WORKSTATION5',
          'HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath',
          'C:\\WINDOWS\\system32\\fxssvc.exe',
          '{39e4a257-f131-5f8b-0b00-000000000700}',
        ],
      ],
    ],
  },
  'empire_psexec_dcerpc_tcp_svcctl.json': {
    [ruleIds.serviceCreation]: [
      [
        [
          '2020-09-20T16:16:57.112Z',
          'WORKSTATION6.theshire.local',
          'HKLM\\System\\CurrentControlSet\\Services\\Updater\\ImagePath',
          expect.stringMatching(
            /^%%COMSPEC%% \/C start \/b C:\\Windows\\System32\\WindowsPowershell\\v1\.0\\pow/,
          ),
          '{d273d0f0-e865-5f64-0b00-000000000800}',
        ],
      ],
    ],
  },
  'empire_shell_dcerpc_smb_service_dll_hijack.json': {},
  'reg_disable_eventlog_service_startuptype_modification_via_registry.json': {},
  'empire_shell_reg_dump_sam.json': {},
};

describe('built-in rules on Security-Datasets (PROVENANCE.md expected results)', () => {
  it.each(Object.keys(expected))(
    '%s',
    (name) => {
      const events = decodeFile(name);
      expect(events.length).toBeGreaterThan(400);
      expect(detect(events)).toEqual(expected[name]);
    },
    60_000,
  );
});
