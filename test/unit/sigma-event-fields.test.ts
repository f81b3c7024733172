// The event's own data, the same in embedded mode and through Kafka (issue 13 item 2). Real events
// (the Security-Datasets through flat-windows; SigmaHQ's regression events as Winlogbeat would ship them;
// the demo scenario's Winlogbeat, ECS, flat Windows and Zeek TSV/JSON) are normalized, then every name a
// SigmaHQ Windows or Zeek rule reads is asked of `SequorEventFields` over three forms of each event: the
// normalizer's object (embedded mode), its full Avro decode, and the detector's projected decode with
// the fields Sigma rules need. All three must answer alike. The regression events are also checked
// against the evtx adapter the Sigma regression tests use: the same answer for every name a rule reads.
// Last, the coverage count: SigmaHQ Windows rules whose every field is present in these events.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RecordDecoder } from '@sequor/formats';
import { getFormat, NormalizeError } from '@sequor/formats';
import type { SequorEvent } from '@sequor/model';
import {
  createEventCodec,
  createProjectedEventCodec,
  EVENT_CORE_FIELDS,
  eventFieldCatalog,
} from '@sequor/model';
import { parse } from '@sequor/eql';
import { compileQuery } from '@sequor/engine';
import { compileRule, loadRuleFile } from '@sequor/rules';
import { generateScenario, SCENARIO_FILES } from '@sequor/scenarios';
import type { FieldSource, FieldValue, SigmaRule } from '@sequor/sigma';
import {
  defaultPipeline,
  evtxFieldSource,
  loadSigmaPath,
  SEQUOR_EVENT_SIGMA_FIELDS,
  SequorEventFields,
  splitJsonDocuments,
} from '@sequor/sigma';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(repoRoot, '../shared');
const DATASETS = path.join(SHARED, 'datasets/security-datasets');
const SIGMA_RULES = path.join(SHARED, 'sigma/rules');
const REGRESSION = path.join(SHARED, 'sigma/regression_data');

const encoder = new TextEncoder();

interface Normalized {
  readonly where: string;
  readonly event: SequorEvent;
  /** The evtx document it came from (regression data only). */
  readonly evtx?: unknown;
}

interface Corpus {
  readonly events: Normalized[];
  /** Records a format refused, by reason (kept to report, not an error of this test). */
  readonly refused: Map<string, number>;
}

function decodeLines(
  corpus: Corpus,
  format: string,
  where: string,
  lines: readonly string[],
  evtx?: readonly unknown[],
): void {
  const decoder: RecordDecoder = getFormat(format).createDecoder();
  lines.forEach((line, offset) => {
    try {
      for (const event of decoder.decode(encoder.encode(line), { topic: where, partition: 0, offset }))
        corpus.events.push({ where: `${where}:${offset + 1}`, event, evtx: evtx?.[offset] });
    } catch (error) {
      if (!(error instanceof NormalizeError)) throw error;
      const key = `${format} ${error.reason}`;
      corpus.refused.set(key, (corpus.refused.get(key) ?? 0) + 1);
    }
  });
}

const nonEmpty = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(suffix))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const attr = (system: Json, element: string, name: string): unknown =>
  obj(obj(system[element])?.['#attributes'])?.[name];

/** One evtx-JSON event as Winlogbeat ships it: System in `winlog.*`, EventData (or UserData's element) as is. */
function asWinlogbeat(document: unknown): string {
  const event = obj(obj(document)?.['Event']) ?? {};
  const system = obj(event['System']) ?? {};
  const userData = obj(event['UserData']);
  const inner =
    userData === undefined ? undefined : Object.entries(userData).find(([k]) => k !== '#attributes');
  return JSON.stringify({
    '@timestamp': attr(system, 'TimeCreated', 'SystemTime'),
    winlog: {
      channel: system['Channel'],
      event_id: system['EventID'],
      computer_name: system['Computer'],
      record_id: system['EventRecordID'],
      provider_name: attr(system, 'Provider', 'Name'),
      ...(obj(event['EventData']) !== undefined
        ? { event_data: event['EventData'] }
        : inner !== undefined
          ? { user_data: inner[1] }
          : {}),
    },
  });
}

function buildCorpus(): Corpus {
  const corpus: Corpus = { events: [], refused: new Map() };
  for (const file of filesUnder(DATASETS, '.json'))
    decodeLines(corpus, 'flat-windows', path.basename(file), nonEmpty(readFileSync(file, 'utf8')));
  for (const file of filesUnder(REGRESSION, '.json')) {
    const docs = splitJsonDocuments(readFileSync(file, 'utf8')).map((d) => d.value);
    decodeLines(corpus, 'winlogbeat', path.relative(REGRESSION, file), docs.map(asWinlogbeat), docs);
  }
  const scenario = generateScenario({ seed: 11, events: 3_000 });
  const formats: [string, string][] = [
    [SCENARIO_FILES.winlogbeat, 'winlogbeat'],
    [SCENARIO_FILES.endpoint, 'ecs'],
    [SCENARIO_FILES.flatWindows, 'flat-windows'],
    [SCENARIO_FILES.zeek, 'zeek-dce-rpc'],
  ];
  for (const [file, format] of formats)
    decodeLines(corpus, format, file, nonEmpty(scenario.files.get(file) ?? ''));
  // Any Zeek log through the zeek format: the scenario's dce_rpc, and the logs SigmaHQ's other Zeek rules
  // read (dns, http, kerberos, x509), TSV and JSON.
  decodeLines(corpus, 'zeek', SCENARIO_FILES.zeek, nonEmpty(scenario.files.get(SCENARIO_FILES.zeek) ?? ''));
  decodeLines(corpus, 'zeek', 'zeek-logs', ZEEK_LOG_LINES);
  return corpus;
}

const ZEEK_LOG_LINES: readonly string[] = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  '#path\tdns',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\tZ\tanswers\trejected',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tcount\tvector[string]\tbool',
  '1709287200.500000\tC1\t10.0.0.23\t53412\t10.0.0.2\t53\tudp\tseed3.nkn.org\tA\t1\t104.16.1.1,104.16.2.1\tF',
  '#separator \\x09',
  '#path\tx509',
  '#fields\tts\tfingerprint\tcertificate.serial\tcertificate.subject',
  '#types\ttime\tstring\tstring\tstring',
  '1709287201.000000\ta1b2c3\t8BB00EE\tCN=Major Cobalt Strike',
  JSON.stringify({
    _path: 'http',
    ts: 1709287202.25,
    uid: 'C2',
    'id.orig_h': '10.0.0.23',
    'id.orig_p': 49711,
    'id.resp_h': '198.51.100.7',
    'id.resp_p': 80,
    method: 'PUT',
    host: 'files.example.top',
    uri: '/webdav/a.exe',
    user_agent: 'Microsoft-WebDAV-MiniRedir/10.0.19045',
    resp_mime_types: ['application/x-dosexec'],
  }),
  JSON.stringify({
    _path: 'kerberos',
    ts: 1709287203,
    uid: 'C3',
    'id.orig_h': '10.0.0.23',
    'id.orig_p': 49712,
    'id.resp_h': '10.0.0.2',
    'id.resp_p': 88,
    request_type: 'TGS',
    cipher: 'rc4-hmac',
    service: 'MSSQLSvc/db.acme.local',
    success: true,
  }),
];

/** Every field name a rule reads, per logsource variant: its conditions and its detection, renamed. */
function fieldsRead(rule: SigmaRule): string[][] {
  const variants = defaultPipeline.resolve(rule.logsource);
  if (typeof variants === 'string') return [];
  const detection = new Set<string>();
  const walk = (node: SigmaRule['searches'] extends ReadonlyMap<string, infer N> ? N : never): void => {
    if (node.kind === 'anyOf') {
      for (const m of node.maps) walk(m);
      return;
    }
    for (const item of node.items) if (item.field !== null) detection.add(item.field);
  };
  for (const node of rule.searches.values()) walk(node);
  return variants.map((v) => [
    ...Object.keys(v.conditions),
    ...[...detection].map((f) => v.fieldMap[f] ?? f),
  ]);
}

/**
 * System names not compared: the model does not keep `Version`, `Provider_Guid` and the `Execution`/
 * `Security` attributes, and the regression events are shipped here as Winlogbeat, which gives no `Level`,
 * `Task` or `Opcode` number and `Keywords` only for Security audits (`shared/sigma/test/system-fields.test.ts`
 * compares those four through evtx JSON).
 */
const SYSTEM_NOT_KEPT = new Set([
  'Level',
  'Keywords',
  'Task',
  'Opcode',
  'Version',
  'Provider_Guid',
  'Security_UserID',
  'Execution_ProcessID',
  'Execution_ThreadID',
  'TimeCreated_SystemTime',
]);

const text = (v: FieldValue): string | undefined => (v === undefined || v === null ? undefined : String(v));

describe('SequorEventFields, the same in embedded mode and through Kafka', async () => {
  const load = await loadSigmaPath(SIGMA_RULES);
  const rules = load.rules;
  const names = new Set<string>(['_path']);
  for (const rule of rules) for (const variant of fieldsRead(rule)) for (const n of variant) names.add(n);
  const corpus = buildCorpus();
  const full = createEventCodec();
  const projected = createProjectedEventCodec(SEQUOR_EVENT_SIGMA_FIELDS);

  it('normalizes the real events of every source', () => {
    const byFormat = new Map<string, number>();
    for (const { event } of corpus.events)
      byFormat.set(event.origin.format, (byFormat.get(event.origin.format) ?? 0) + 1);
    console.log(
      `events: ${[...byFormat].map(([f, n]) => `${f} ${n}`).join(', ')}; refused: ` +
        `${[...corpus.refused].map(([r, n]) => `${r} ${n}`).join(', ')}; ${names.size} field names`,
    );
    expect(byFormat.get('flat-windows')).toBeGreaterThan(15_000);
    expect(byFormat.get('winlogbeat')).toBeGreaterThan(100);
    expect(byFormat.get('zeek-dce-rpc')).toBeGreaterThan(0);
    expect(byFormat.get('zeek')).toBeGreaterThan(4);
    expect(byFormat.get('ecs')).toBeGreaterThan(0);
  });

  it(
    'answers every rule field alike on the object, the full decode and the projected decode',
    { timeout: 120_000 },
    () => {
      const inMemory = new SequorEventFields();
      const decoded = new SequorEventFields();
      const cut = new SequorEventFields();
      let answered = 0;
      const differences: string[] = [];
      for (const { where, event } of corpus.events) {
        const bytes = full.encodeSingleObject(event);
        inMemory.bind(event);
        decoded.bind(full.decode(bytes));
        cut.bind(projected.decode(bytes));
        for (const name of names) {
          const a = inMemory.get(name);
          if (a !== undefined) answered += 1;
          for (const [form, source] of [
            ['full', decoded],
            ['projected', cut],
          ] as [string, FieldSource][]) {
            const b = source.get(name);
            if (a !== b && differences.length < 20)
              differences.push(`${where} ${name}: ${String(a)} vs ${form} ${String(b)}`);
          }
        }
        const values = (s: FieldSource): FieldValue[] => [...s.values()];
        expect(values(decoded)).toEqual(values(inMemory));
        expect(values(cut)).toEqual(values(inMemory));
      }
      expect(differences).toEqual([]);
      expect(answered).toBeGreaterThan(100_000);
    },
  );

  it(
    'answers the regression events as the evtx adapter does, for every name a rule reads',
    { timeout: 120_000 },
    () => {
      const ours = new SequorEventFields();
      const differences: string[] = [];
      let compared = 0;
      for (const { where, event, evtx } of corpus.events) {
        if (evtx === undefined) continue;
        const theirs = evtxFieldSource(evtx);
        ours.bind(event);
        for (const name of names) {
          if (SYSTEM_NOT_KEPT.has(name)) continue;
          const expected = text(theirs.get(name));
          if (expected === undefined) continue;
          compared += 1;
          const got = text(ours.get(name));
          if (got !== expected && differences.length < 20)
            differences.push(`${where} ${name}: ${got} vs evtx ${expected}`);
        }
      }
      expect(differences).toEqual([]);
      expect(compared).toBeGreaterThan(2_000);
    },
  );

  it(
    'EQL reads the event data by name, on the object and on the projected decode alike',
    { timeout: 120_000 },
    () => {
      const query = compileQuery<SequorEvent>(
        parse(
          'any where winlog.event_data.TargetUserName == "pgustavo" and winlog.event_data.LogonType == "3"',
        ),
        eventFieldCatalog,
      );
      if (query.spec.kind !== 'filter') throw new Error('expected an event query');
      const { predicate } = query.spec;
      const reader = createProjectedEventCodec(query.fieldsUsed);
      const onObjects = corpus.events.filter(({ event }) => predicate(event));
      const onDecoded = corpus.events.filter(({ event }) =>
        predicate(reader.decode(full.encodeSingleObject(event))),
      );
      expect(onObjects.length).toBeGreaterThan(0);
      expect(onDecoded.map((e) => e.where)).toEqual(onObjects.map((e) => e.where));
      expect(new Set(onObjects.map(({ event }) => event.winlog?.event_data?.['TargetUserName']))).toEqual(
        new Set(['pgustavo']),
      );
    },
  );

  it(
    "a SigmaHQ rule compiled by the rule set matches the same events on the detector's projected decode",
    { timeout: 300_000 },
    async () => {
      // The rules of the regression folders, over every event of the corpus: the detector decodes what
      // the compiled rule's fieldsUsed asks for (plus the core fields), nothing else.
      const stems = new Set(filesUnder(REGRESSION, 'info.yml').map((f) => path.basename(path.dirname(f))));
      const ruleFiles = filesUnder(SIGMA_RULES, '.yml').filter((f) => stems.has(path.basename(f, '.yml')));
      let matched = 0;
      const differences: string[] = [];
      const bytes = corpus.events.map(({ event }) => full.encodeSingleObject(event));
      // Most rules ask for the same fields: each projection decodes the corpus once.
      const decodedBy = new Map<string, SequorEvent[]>();
      for (const file of ruleFiles) {
        const loaded = await loadRuleFile(file);
        if (loaded.rule === null) continue;
        let compiled;
        try {
          compiled = compileRule(loaded.rule).compiled;
        } catch {
          continue; // refused rules are the rule set's tests' business
        }
        if (compiled.spec.kind !== 'filter') continue;
        const { predicate } = compiled.spec;
        const fields = [...EVENT_CORE_FIELDS, ...compiled.fieldsUsed];
        const projectionKey = [...new Set(fields)].sort().join(',');
        let decoded = decodedBy.get(projectionKey);
        if (decoded === undefined) {
          const reader = createProjectedEventCodec(fields);
          decodedBy.set(projectionKey, (decoded = bytes.map((b) => reader.decode(b))));
        }
        for (let i = 0; i < corpus.events.length; i++) {
          const { where, event } = corpus.events[i]!;
          const onObject = predicate(event);
          if (onObject) matched += 1;
          if (predicate(decoded[i]!) !== onObject && differences.length < 20)
            differences.push(`${path.basename(file)} on ${where}: ${String(onObject)} on the object`);
        }
      }
      expect(differences).toEqual([]);
      expect(matched).toBeGreaterThan(100);
    },
  );

  it(
    'counts the SigmaHQ Windows rules whose every field is present in the events of their logsource',
    { timeout: 120_000 },
    () => {
      // Names present per kind of event (channel and EventID, or Zeek log), with the event data and with
      // only what the model carried before it (the ECS fields, through the fallbacks).
      const withData = new Map<string, Set<string>>();
      const ecsOnly = new Map<string, Set<string>>();
      const fields = new SequorEventFields();
      for (const { event } of corpus.events) {
        const kind = `${String(fields.bind(event).get('Channel') ?? '')}|${String(fields.get('EventID') ?? '')}`;
        for (const [seen, form] of [
          [withData, event],
          [ecsOnly, { ...event, winlog: event.winlog && { ...event.winlog, event_data: null }, zeek: null }],
        ] as [Map<string, Set<string>>, SequorEvent][]) {
          let names_ = seen.get(kind);
          if (names_ === undefined) seen.set(kind, (names_ = new Set()));
          fields.bind(form);
          for (const name of names) if (fields.get(name) !== undefined) names_.add(name);
        }
      }
      const lower = (v: unknown): string => String(v).toLowerCase();
      /** The names present in the events a variant selects by channel and EventID (its other conditions aside). */
      const presentFor = (
        seen: Map<string, Set<string>>,
        conditions: Readonly<Record<string, readonly unknown[]>>,
      ) => {
        const channels = conditions['Channel']?.map(lower);
        const ids = conditions['EventID']?.map(lower);
        let any = false;
        const out = new Set<string>();
        for (const [kind, present] of seen) {
          const [channel, id] = kind.split('|') as [string, string];
          if (channel === '' || (channels !== undefined && !channels.includes(channel.toLowerCase())))
            continue;
          if (ids !== undefined && !ids.includes(id)) continue;
          any = true;
          for (const n of present) out.add(n);
        }
        return any ? out : null;
      };
      let windows = 0;
      let mapped = 0;
      let withEvents = 0;
      let covered = 0;
      let coveredBefore = 0;
      const missing = new Map<string, number>();
      for (const rule of rules) {
        if (rule.logsource.product !== 'windows') continue;
        windows += 1;
        const variants = defaultPipeline.resolve(rule.logsource);
        if (typeof variants === 'string') continue;
        mapped += 1;
        const read = fieldsRead(rule);
        let hasEvents = false;
        let ok = false;
        let okBefore = false;
        const absent = new Set<string>();
        variants.forEach((variant, v) => {
          const present = presentFor(withData, variant.conditions);
          if (present === null) return;
          hasEvents = true;
          const need = read[v] ?? [];
          if (need.every((n) => present.has(n))) ok = true;
          else for (const n of need) if (!present.has(n)) absent.add(n);
          const before = presentFor(ecsOnly, variant.conditions) ?? new Set();
          if (need.every((n) => before.has(n))) okBefore = true;
        });
        if (!hasEvents) continue;
        withEvents += 1;
        if (ok) covered += 1;
        else for (const n of absent) missing.set(n, (missing.get(n) ?? 0) + 1);
        if (okBefore) coveredBefore += 1;
      }
      const top = [...missing].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      console.log(
        `SigmaHQ Windows rules: ${windows} loaded, ${mapped} with a mapped logsource, ${withEvents} with events ` +
          `of their logsource in the corpus; of those, ${covered} have every field they read present in ` +
          `those events (${coveredBefore} with the ECS fields alone, before winlog.event_data). ` +
          `Never present (rules reading it): ${top.map(([n, c]) => `${n} (${c})`).join(', ')}`,
      );
      expect(covered).toBeGreaterThan(coveredBefore);
    },
  );
});

// Classic PowerShell (channel `Windows PowerShell`) logs its details in unnamed <Data> elements: the evtx
// crate gives them as one `Data` list (what hayabusa reads as Data[2] for 400/600), Winlogbeat as
// param1..param3. SigmaHQ's 13 powershell-classic rules read `Data`. The real 400/600 events of the
// Security-Datasets (NXLog kept only their Message: "<summary>\r\n\r\nDetails: \r\n<Data[2]>", the two
// states in the summary) are written back in both shapes, read by their formats, and matched; each also
// as a downgrade (`powershell -version 2` logs EngineVersion=2.0), which SigmaHQ's downgrade rule flags.
describe('classic PowerShell Data: the evtx list and Winlogbeat param1..N read alike', () => {
  const SUMMARY = [
    /^Engine state is changed from (\w+) to (\w+)\. \r\n\r\nDetails: \r\n/,
    /^Provider "([^"]+)" is (\w+)\. \r\n\r\nDetails: \r\n/,
  ];

  interface ClassicEvent {
    readonly evtx: Json;
    readonly winlogbeat: Json;
    readonly data: readonly string[];
  }

  function classicEvents(): ClassicEvent[] {
    const out: ClassicEvent[] = [];
    for (const file of filesUnder(DATASETS, '.json'))
      for (const line of nonEmpty(readFileSync(file, 'utf8'))) {
        const d = JSON.parse(line) as Json;
        if (d['Channel'] !== 'Windows PowerShell' || (d['EventID'] !== 400 && d['EventID'] !== 600)) continue;
        const message = d['Message'] as string;
        const m = SUMMARY[d['EventID'] === 400 ? 0 : 1]?.exec(message);
        expect(m, message.slice(0, 80)).not.toBeNull();
        const match = m as RegExpExecArray;
        // 400 says "from <previous> to <new>"; its Data is [new, previous, details].
        const [first, second] = d['EventID'] === 400 ? [match[2], match[1]] : [match[1], match[2]];
        const details = message.slice(match[0].length);
        expect(details).toMatch(/\tEngineVersion=[\d.]*\r\n/);
        for (const text of [details, details.replace(/EngineVersion=[\d.]*/, 'EngineVersion=2.0')]) {
          const data = [first as string, second as string, text];
          const system = {
            Provider: { '#attributes': { Name: 'PowerShell' } },
            EventID: d['EventID'],
            Channel: 'Windows PowerShell',
            Computer: d['Hostname'],
            EventRecordID: d['RecordNumber'],
            TimeCreated: { '#attributes': { SystemTime: d['@timestamp'] } },
          };
          out.push({
            data,
            evtx: { Event: { System: system, EventData: { Data: data } } },
            winlogbeat: {
              '@timestamp': d['@timestamp'],
              winlog: {
                channel: 'Windows PowerShell',
                event_id: d['EventID'],
                computer_name: d['Hostname'],
                record_id: d['RecordNumber'],
                provider_name: 'PowerShell',
                event_data: { param1: data[0], param2: data[1], param3: data[2] },
              },
            },
          });
        }
      }
    return out;
  }

  function read(format: string, doc: Json): SequorEvent {
    const events = getFormat(format)
      .createDecoder()
      .decode(encoder.encode(JSON.stringify(doc)), { topic: format, partition: 0, offset: 0 });
    expect(events).toHaveLength(1);
    return events[0] as SequorEvent;
  }

  it('gives Data the same text from both shapes, and the same SigmaHQ rules match', async () => {
    const { SigmaRuleSet } = await import('@sequor/sigma');
    const load = await loadSigmaPath(path.join(SIGMA_RULES, 'windows/powershell/powershell_classic'));
    expect(load.rules).toHaveLength(13);
    const ruleSet = new SigmaRuleSet(load.rules, defaultPipeline);
    const events = classicEvents();
    expect(events).toHaveLength(50);
    const fields = new SequorEventFields();
    const matched = { evtx: 0, adapter: 0, winlogbeat: 0, winlogbeatWithoutData: 0 };
    const titles = (source: FieldSource): string[] => ruleSet.match(source).map((r) => r.rule.title);
    for (const e of events) {
      const fromEvtx = read('evtx-json', e.evtx);
      const fromWinlogbeat = read('winlogbeat', e.winlogbeat);
      const text = e.data.join('\n');
      expect(fields.bind(fromEvtx).get('Data')).toBe(text);
      expect(evtxFieldSource(e.evtx).get('Data')).toBe(text);
      expect(fields.bind(fromWinlogbeat).get('Data')).toBe(text);
      expect(fields.bind(fromWinlogbeat).get('param3')).toBe(e.data[2]);
      const expected = titles(evtxFieldSource(e.evtx));
      expect(titles(fields.bind(fromEvtx))).toEqual(expected);
      expect(titles(fields.bind(fromWinlogbeat))).toEqual(expected);
      matched.adapter += expected.length;
      matched.evtx += titles(fields.bind(fromEvtx)).length;
      matched.winlogbeat += titles(fields.bind(fromWinlogbeat)).length;
      // What Winlogbeat's events gave before `Data` was added: the params alone.
      const { Data: _data, ...params } = fromWinlogbeat.winlog?.event_data ?? {};
      const before = { ...fromWinlogbeat, winlog: { ...fromWinlogbeat.winlog!, event_data: params } };
      matched.winlogbeatWithoutData += titles(fields.bind(before)).length;
    }
    console.log(
      `classic PowerShell: ${events.length} 400/600 events (25 real, 25 downgrades of them), (rule, event) matches of SigmaHQ's 13 ` +
        `powershell-classic rules: ${JSON.stringify(matched)}`,
    );
    // The downgrade rule reads 400 (engine start): the 3 real 400 events' downgrades.
    expect(matched.winlogbeat).toBe(3);
    expect(matched.winlogbeatWithoutData).toBe(0);
  });
});
