/**
 * The two SigmaHQ rules that read System numbers (`Keywords`, `Level`), on normalized events: they match
 * the events they match on the evtx JSON itself, on the normalizer's object and on the detector's
 * projected Avro decode (`sigmaRuleEventFields`). Before the model kept these numbers, the
 * LsaRegisterLogonProcess rule never matched a normalized event and the AV rule's `Level: 4` filter never
 * applied.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getFormat } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec, createProjectedEventCodec, EVENT_CORE_FIELDS } from '@sequor/model';
import type { CompiledSigmaRule } from '../src/index.js';
import {
  compileSigmaRule,
  defaultPipeline,
  evtxFieldSource,
  loadSigmaText,
  match,
  SequorEventFields,
  sigmaRuleEventFields,
  splitJsonDocuments,
} from '../src/index.js';

const SIGMA =
  process.env['SEQUOR_SIGMA_DIR'] ?? path.resolve(import.meta.dirname, '../../../../shared/sigma');
const LSA_RULE =
  'rules/windows/builtin/security/win_security_user_couldnt_call_priv_service_lsaregisterlogonprocess.yml';
const AV_RULE = 'rules/windows/builtin/application/Other/win_av_relevant_match.yml';

function sigmaHqRule(file: string): CompiledSigmaRule {
  const loaded = loadSigmaText(readFileSync(path.join(SIGMA, file), 'utf8'), file);
  if (loaded.rule === null) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  return compileSigmaRule(loaded.rule, defaultPipeline);
}

const encoder = new TextEncoder();
const full = createEventCodec();

function normalize(format: string, doc: unknown): SequorEvent {
  const [event] = getFormat(format)
    .createDecoder()
    .decode(encoder.encode(JSON.stringify(doc)), { topic: 't', partition: 0, offset: 0 });
  return event!;
}

/**
 * Whether `rule` matches: on the evtx document (when there is one), on the normalized object, and on the
 * detector's projected decode of its Avro record. All must agree; returns the answer.
 */
function matches(rule: CompiledSigmaRule, event: SequorEvent, evtx?: unknown): boolean {
  const fields = new SequorEventFields();
  const onObject = match(rule, fields.bind(event));
  const projected = createProjectedEventCodec([...EVENT_CORE_FIELDS, ...sigmaRuleEventFields(rule.rule)]);
  const decoded = projected.decode(full.encodeSingleObject(event));
  expect(match(rule, fields.bind(decoded))).toBe(onObject);
  if (evtx !== undefined) expect(match(rule, evtxFieldSource(evtx))).toBe(onObject);
  return onObject;
}

/** A Security 4673 (a privileged service called) as the evtx crate renders it. */
function evtx4673(keywords: string, service = 'LsaRegisterLogonProcess()'): unknown {
  return {
    Event: {
      System: {
        Provider: {
          '#attributes': {
            Name: 'Microsoft-Windows-Security-Auditing',
            Guid: '54849625-5478-4994-A5BA-3E3B0328C30D',
          },
        },
        EventID: 4673,
        Version: 0,
        Level: 0,
        Task: 13056,
        Opcode: 0,
        Keywords: keywords,
        TimeCreated: { '#attributes': { SystemTime: '2019-10-24T10:00:00.000000Z' } },
        EventRecordID: 5512,
        Correlation: null,
        Execution: { '#attributes': { ProcessID: 652, ThreadID: 700 } },
        Channel: 'Security',
        Computer: 'WS1.acme.local',
        Security: null,
      },
      EventData: {
        SubjectUserSid: 'S-1-5-21-1-2-3-1104',
        SubjectUserName: 'pgustavo',
        SubjectDomainName: 'ACME',
        SubjectLogonId: '0x3e7',
        ObjectServer: 'NT Local Security Authority / Authentication Service',
        Service: service,
        PrivilegeList: 'SeTcbPrivilege',
        ProcessId: '0x1a4',
        ProcessName: 'C:\\Users\\pgustavo\\Rubeus.exe',
      },
    },
  };
}

/** An antivirus detection in the Application log (unnamed <Data>, as Symantec writes it). */
function evtxAvDetection(level: number): unknown {
  return {
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Symantec AntiVirus' } },
        EventID: 51,
        Level: level,
        Task: 2,
        Keywords: '0x80000000000000',
        TimeCreated: { '#attributes': { SystemTime: '2023-03-01T12:00:00.000000Z' } },
        EventRecordID: 9001,
        Channel: 'Application',
        Computer: 'WS1.acme.local',
      },
      EventData: {
        Data: [
          'Security Risk Found!HackTool.Mimikatz in File: C:\\Users\\pgustavo\\m.exe by: Auto-Protect scan.',
        ],
      },
    },
  };
}

describe("SigmaHQ's LsaRegisterLogonProcess rule (Keywords: audit failure) on normalized events", () => {
  const rule = sigmaHqRule(LSA_RULE);

  it('matches the audit failure from evtx JSON, and not the same event with success keywords', () => {
    const failure = evtx4673('0x8010000000000000');
    expect(matches(rule, normalize('evtx-json', failure), failure)).toBe(true);
    const success = evtx4673('0x8020000000000000');
    expect(matches(rule, normalize('evtx-json', success), success)).toBe(false);
    const other = evtx4673('0x8010000000000000', 'NtSetSystemInformation()');
    expect(matches(rule, normalize('evtx-json', other), other)).toBe(false);
  });

  it('matches it from NXLog flat JSON (the signed mask) and from Winlogbeat (the audit keyword name)', () => {
    const nxlogLine = (keywords: string): string =>
      JSON.stringify({
        EventID: 4673,
        Channel: 'Security',
        Hostname: 'WS1.acme.local',
        '@timestamp': '2019-10-24T10:00:00.000Z',
        SourceName: 'Microsoft-Windows-Security-Auditing',
        Keywords: 0,
        Task: 13056,
        OpcodeValue: 0,
        Service: 'LsaRegisterLogonProcess()',
      }).replace('"Keywords":0', `"Keywords":${keywords}`);
    const flat = (keywords: string): SequorEvent =>
      getFormat('flat-windows')
        .createDecoder()
        .decode(encoder.encode(nxlogLine(keywords)), { topic: 't', partition: 0, offset: 0 })[0]!;
    expect(matches(rule, flat('-9218868437227405312'))).toBe(true);
    expect(matches(rule, flat('-9214364837600034816'))).toBe(false);

    const winlogbeat = (keyword: string): SequorEvent =>
      normalize('winlogbeat', {
        '@timestamp': '2019-10-24T10:00:00.000Z',
        log: { level: 'information' },
        winlog: {
          channel: 'Security',
          event_id: '4673',
          computer_name: 'WS1.acme.local',
          record_id: 5512,
          provider_name: 'Microsoft-Windows-Security-Auditing',
          keywords: [keyword],
          task: 'Sensitive Privilege Use',
          opcode: 'Info',
          event_data: { Service: 'LsaRegisterLogonProcess()' },
        },
      });
    expect(matches(rule, winlogbeat('Audit Failure'))).toBe(true);
    expect(matches(rule, winlogbeat('Audit Success'))).toBe(false);
  });
});

describe("SigmaHQ's AV rule (its Level: 4 filter) on normalized events", () => {
  const rule = sigmaHqRule(AV_RULE);

  it('the filter keeps an informational detection out, an error-level one alerts', () => {
    const info = evtxAvDetection(4);
    expect(matches(rule, normalize('evtx-json', info), info)).toBe(false);
    const error = evtxAvDetection(2);
    expect(matches(rule, normalize('evtx-json', error), error)).toBe(true);
  });

  it('from flat Windows JSON too (Level as text)', () => {
    const flat = (level: string): SequorEvent =>
      normalize('flat-windows', {
        EventID: 51,
        Channel: 'Application',
        Hostname: 'WS1.acme.local',
        '@timestamp': '2023-03-01T12:00:00.000Z',
        SourceName: 'Symantec AntiVirus',
        Level: level,
        Keywords: '0x80000000000000',
        Data: 'Security Risk Found!HackTool.Mimikatz in File: C:\\Users\\pgustavo\\m.exe',
      });
    expect(matches(rule, flat('4'))).toBe(false);
    expect(matches(rule, flat('2'))).toBe(true);
  });
});

describe("every SigmaHQ regression event's System numbers", () => {
  it('read the same normalized (object and Avro decode) as on the evtx JSON itself', () => {
    const files = readdirSync(path.join(SIGMA, 'regression_data'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.json'))
      .map((d) => path.join(d.parentPath, d.name));
    const fields = new SequorEventFields();
    const names = ['Level', 'Keywords', 'Task', 'Opcode'];
    let compared = 0;
    const differences: string[] = [];
    for (const file of files)
      for (const { value } of splitJsonDocuments(readFileSync(file, 'utf8'))) {
        const theirs = evtxFieldSource(value);
        const event = full.decode(full.encodeSingleObject(normalize('evtx-json', value)));
        fields.bind(event);
        for (const name of names) {
          if (theirs.get(name) !== undefined) compared += 1;
          if (fields.get(name) !== theirs.get(name) && differences.length < 10)
            differences.push(
              `${path.basename(file)} ${name}: ${String(fields.get(name))} vs ${String(theirs.get(name))}`,
            );
        }
      }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(400);
  });
});
