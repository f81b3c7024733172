/**
 * The events of the Sigma differential oracle (sigma-differential.test.ts): every event both engines see,
 * as the evtx crate's JSON document (what Sequor's evtx adapter reads) and as the flat object pySigma's
 * SQLite table holds (what test/oracle/sigma_oracle.py reads, one per line). The flattening is defined
 * here and only here.
 *
 * Four sources, in this order:
 * 1. SigmaHQ's regression events (`../shared/sigma/regression_data/**\/*.json`: pretty-printed documents
 *    one after another), in file path order.
 * 2. Seeded variants of each regression event, made to exercise what a differential test is for: the
 *    same event with every ASCII letter of its data's values case-swapped (Sigma matches ignore case), and
 *    the same event with one character of each value dropped (near misses of rules written for it).
 * 3. Security logons and Sysmon connections from addresses in the spellings Windows writes (IPv4-mapped
 *    IPv6, upper case, uncompressed), for the rules' `|cidr` filters.
 * 4. The Windows events of a seeded `@sequor/scenarios` run (its Winlogbeat file: Security logons and
 *    Sysmon process, network, file and registry events of many hosts; benign noise plus the seed
 *    analytics' attacks), rewritten as evtx documents.
 *
 * Flattening of `{"Event": {...}}` into field -> string:
 * - `Event.System`: each child under its own name (`EventID`, `Channel`, `Computer`, `Level`, ...). An element
 *   with XML attributes gives `<Element>_<Attribute>` (`Provider_Name`, `Provider_Guid`,
 *   `TimeCreated_SystemTime`, `Execution_ProcessID`, `Security_UserID`, `Correlation_ActivityID`), and its
 *   text (`#text`, e.g. an `EventID` with `Qualifiers`) the element's own name. Prefixing keeps
 *   `Execution_ProcessID` apart from Sysmon's `ProcessId` (SQLite column names ignore case).
 * - `Event.EventData`: each child under its own name; the attributes of the EventData element itself are not
 *   fields (TaskScheduler's `Name="TaskDisabled"`). `Event.UserData`: the children of its one element under
 *   their own names (that element's attributes, an `xmlns`, are not fields).
 * - Nested objects below that use the System rule (`<name>_<attribute>`, `#text` as `<name>`).
 * - Values: strings as they are, numbers as their JSON text, booleans `true`/`false`, arrays one value per
 *   line; `null` (an empty element) is no field at all.
 * - Two fields whose names differ only in case are an error (the SQLite table could not tell them apart).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateScenario } from '@sequor/scenarios';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sigmaMaterial = path.resolve(repoRoot, '../shared/sigma');

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One Windows event as the evtx crate renders it: `{"Event": {"System": ..., "EventData": ...}}`. */
export type EvtxDocument = JsonObject & { Event: JsonObject & { System: JsonObject } };

export type FlatEvent = Readonly<Record<string, string>>;

export interface OracleEvent {
  /** Where the event comes from: `regression:<path>#<n>`, `case-swap:<...>`, `drop-char:<...>`, `scenario:<file>:<line>`. */
  readonly origin: string;
  readonly document: EvtxDocument;
  readonly fields: FlatEvent;
}

export class SigmaEventError extends Error {
  constructor(
    message: string,
    readonly origin: string,
  ) {
    super(`${origin}: ${message}`);
    this.name = 'SigmaEventError';
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading the evtx crate's JSON: documents one after another, pretty-printed or one per line.

/** The top-level JSON values of `text`, in order (split by bracket depth outside strings). */
export function splitJsonDocuments(text: string, file: string): Json[] {
  const documents: Json[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (depth++ === 0) start = i;
    } else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) documents.push(JSON.parse(text.slice(start, i + 1)) as Json);
      else if (depth < 0) throw new SigmaEventError(`unbalanced bracket at offset ${i}`, file);
    } else if (depth === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)
      throw new SigmaEventError(`text between documents at offset ${i}`, file);
  }
  if (depth !== 0) throw new SigmaEventError('truncated document at end of file', file);
  return documents;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asDocument(value: Json, origin: string): EvtxDocument {
  if (!isObject(value) || !isObject(value['Event']) || !isObject(value['Event']['System']))
    throw new SigmaEventError('not an evtx document ({"Event": {"System": ...}})', origin);
  return value as EvtxDocument;
}

// ---------------------------------------------------------------------------------------------------
// The flattening (see the header).

function scalarText(value: Json, origin: string, name: string): string | undefined {
  if (value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const parts = value.map((v) => scalarText(v, origin, name));
    return parts.filter((p): p is string => p !== undefined).join('\n');
  }
  throw new SigmaEventError(`field ${name} is an object`, origin);
}

class Flattener {
  readonly fields: Record<string, string> = {};
  private readonly lowerNames = new Set<string>();
  constructor(private readonly origin: string) {}

  set(name: string, value: string | undefined): void {
    if (value === undefined) return;
    const lower = name.toLowerCase();
    if (this.lowerNames.has(lower))
      throw new SigmaEventError(`two fields named ${name} (ignoring case)`, this.origin);
    this.lowerNames.add(lower);
    this.fields[name] = value;
  }

  /** An element: `#text` under its name, attributes as `<name>_<attribute>`, children likewise. */
  element(name: string, value: Json): void {
    if (!isObject(value)) {
      this.set(name, scalarText(value, this.origin, name));
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === '#text') this.set(name, scalarText(child, this.origin, name));
      else if (key === '#attributes' && isObject(child))
        for (const [attribute, v] of Object.entries(child)) this.element(`${name}_${attribute}`, v);
      else this.element(`${name}_${key}`, child);
    }
  }

  /** The children of a data element under their own names; the element's own attributes are not fields. */
  children(value: Json | undefined): void {
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) if (key !== '#attributes') this.element(key, child);
  }
}

export function flattenEvtx(document: EvtxDocument, origin: string): FlatEvent {
  const flat = new Flattener(origin);
  const event = document.Event;
  for (const [key, value] of Object.entries(event.System)) flat.element(key, value);
  flat.children(event['EventData']);
  const userData = event['UserData'];
  if (isObject(userData))
    for (const [key, element] of Object.entries(userData)) if (key !== '#attributes') flat.children(element);
  return flat.fields;
}

// ---------------------------------------------------------------------------------------------------
// The three sources.

function jsonFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...jsonFilesUnder(full));
    else if (entry.isFile() && entry.name.endsWith('.json')) found.push(full);
  }
  return found.sort();
}

/** SigmaHQ's regression events, in file path order. */
export function regressionEvents(root = path.join(sigmaMaterial, 'regression_data')): OracleEvent[] {
  const events: OracleEvent[] = [];
  for (const file of jsonFilesUnder(root)) {
    const relative = path.relative(root, file);
    splitJsonDocuments(readFileSync(file, 'utf8'), relative).forEach((value, n) => {
      const origin = `regression:${relative}#${n}`;
      const document = asDocument(value, origin);
      events.push({ origin, document, fields: flattenEvtx(document, origin) });
    });
  }
  return events;
}

/** mulberry32: a small seeded generator, so the variants are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The document with every string value of its EventData/UserData rewritten (System is kept). */
function rewriteData(document: EvtxDocument, rewrite: (value: string) => string): EvtxDocument {
  const walk = (value: Json, key: string): Json => {
    if (key === '#attributes') return value;
    if (typeof value === 'string') return rewrite(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, ''));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return value;
  };
  const { EventData, UserData, ...rest } = document.Event;
  const event: JsonObject = { ...rest };
  if (EventData !== undefined) event['EventData'] = walk(EventData, 'EventData');
  if (UserData !== undefined) event['UserData'] = walk(UserData, 'UserData');
  return { ...document, Event: event as EvtxDocument['Event'] };
}

const swapAsciiCase = (s: string): string =>
  s.replace(/[A-Za-z]/g, (c) => (c <= 'Z' ? c.toLowerCase() : c.toUpperCase()));

/** Per event: its data case-swapped, and its data with one seeded character of each value dropped. */
export function variantEvents(events: readonly OracleEvent[], seed: number): OracleEvent[] {
  const random = seededRandom(seed);
  const dropOne = (s: string): string => {
    if (s.length < 2) return s;
    const at = Math.floor(random() * s.length);
    return s.slice(0, at) + s.slice(at + 1);
  };
  const out: OracleEvent[] = [];
  for (const e of events) {
    for (const [kind, rewrite] of [
      ['case-swap', swapAsciiCase],
      ['drop-char', dropOne],
    ] as const) {
      const origin = `${kind}:${e.origin}`;
      const document = rewriteData(e.document, rewrite);
      out.push({ origin, document, fields: flattenEvtx(document, origin) });
    }
  }
  return out;
}

interface WinlogbeatLine {
  readonly '@timestamp': string;
  readonly winlog: {
    readonly channel: string;
    readonly computer_name: string;
    readonly event_id: string;
    readonly event_data?: Record<string, string>;
    readonly provider_name: string;
    readonly provider_guid: string;
    readonly record_id: number;
    readonly version?: number;
    readonly process?: { readonly pid: number; readonly thread: { readonly id: number } };
    readonly user?: { readonly identifier: string };
  };
}

/** A Winlogbeat record back in the evtx crate's shape (the fields Winlogbeat keeps; Task/Opcode as 0). */
function winlogbeatToEvtx(line: WinlogbeatLine): EvtxDocument {
  const w = line.winlog;
  const security = w.channel.toLowerCase() === 'security';
  const system: JsonObject = {
    Provider: {
      '#attributes': { Name: w.provider_name, Guid: w.provider_guid.replace(/[{}]/g, '').toUpperCase() },
    },
    EventID: Number(w.event_id),
    Version: w.version ?? 0,
    Level: security ? 0 : 4,
    Task: 0,
    Opcode: 0,
    Keywords: security ? '0x8020000000000000' : '0x8000000000000000',
    TimeCreated: { '#attributes': { SystemTime: line['@timestamp'].replace(/Z$/, '000Z') } },
    EventRecordID: w.record_id,
    Correlation: null,
    Execution: { '#attributes': { ProcessID: w.process?.pid ?? 0, ThreadID: w.process?.thread.id ?? 0 } },
    Channel: w.channel,
    Computer: w.computer_name,
    Security: w.user === undefined ? null : { '#attributes': { UserID: w.user.identifier } },
  };
  return {
    Event: {
      '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
      System: system,
      EventData: { ...(w.event_data ?? {}) },
    },
  };
}

/** The Windows events of a seeded scenario run, as evtx documents. */
export function scenarioEvents(seed: number, events: number): OracleEvent[] {
  const file = 'winlogbeat.ndjson';
  const text = generateScenario({ seed, events }).files.get(file);
  if (text === undefined)
    throw new SigmaEventError('the scenario wrote no Winlogbeat file', `scenario:${seed}`);
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, i) => {
      const origin = `scenario:${file}:${i + 1}`;
      const document = winlogbeatToEvtx(JSON.parse(l) as WinlogbeatLine);
      return { origin, document, fields: flattenEvtx(document, origin) };
    });
}

/**
 * How Windows writes addresses that a `|cidr` match has to read: IPv4-mapped IPv6 (Security 4624's
 * IpAddress on a dual-stack host), upper case and uncompressed IPv6, loopback in its long form.
 */
const ADDRESS_SPELLINGS = [
  '::ffff:10.1.2.3',
  '::ffff:93.184.216.34',
  'FE80::1',
  'fe80:0:0:0:0:0:0:1',
  'FC00::5',
  '0:0:0:0:0:0:0:1',
  '::1',
  '127.0.0.1',
  '93.184.216.34',
  '2001:db8::1',
];

/** Security 4624 (remote interactive and network logons) and Sysmon 3 (script hosts) from each address. */
export function addressEvents(): OracleEvent[] {
  const system = (channel: string, provider: string, eventId: number): JsonObject => ({
    Provider: { '#attributes': { Name: provider } },
    EventID: eventId,
    Channel: channel,
    Computer: 'edge-host.acme.corp',
  });
  const out: OracleEvent[] = [];
  ADDRESS_SPELLINGS.forEach((address) => {
    const documents: [string, EvtxDocument][] = [
      ...['10', '3'].map((logonType): [string, EvtxDocument] => [
        `logon-${logonType}`,
        {
          Event: {
            System: system('Security', 'Microsoft-Windows-Security-Auditing', 4624),
            EventData: {
              LogonType: logonType,
              IpAddress: address,
              TargetUserName: 'admin',
              AuthenticationPackageName: 'NTLM',
            },
          },
        },
      ]),
      ...[
        'C:\\Windows\\System32\\cscript.exe',
        'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE',
      ].map((image): [string, EvtxDocument] => [
        `connect-${path.win32.basename(image)}`,
        {
          Event: {
            System: system('Microsoft-Windows-Sysmon/Operational', 'Microsoft-Windows-Sysmon', 3),
            EventData: {
              Image: image,
              Initiated: 'true',
              DestinationIp: address,
              DestinationPort: '443',
              Protocol: 'tcp',
            },
          },
        },
      ]),
    ];
    for (const [kind, document] of documents) {
      const origin = `address:${kind}:${address}`;
      out.push({ origin, document, fields: flattenEvtx(document, origin) });
    }
  });
  return out;
}

export interface OracleEventOptions {
  readonly seed?: number;
  /** Events of the scenario run (its Winlogbeat file holds about 60 % of them). */
  readonly scenarioEvents?: number;
}

/** All four sources, in order: an event's index here is its index in both engines' results. */
export function oracleEvents(options: OracleEventOptions = {}): OracleEvent[] {
  const seed = options.seed ?? 13;
  const regression = regressionEvents();
  return [
    ...regression,
    ...variantEvents(regression, seed),
    ...addressEvents(),
    ...scenarioEvents(seed, options.scenarioEvents ?? 2000),
  ];
}

/** The oracle's input file: one flat event per line. */
export function toJsonLines(events: readonly OracleEvent[]): string {
  return events.map((e) => JSON.stringify(e.fields)).join('\n') + '\n';
}
