/**
 * Differential test: the compiled ECS reader (`overlayEcsFields`) against the generic overlay it
 * replaced (`reference-ecs-overlay.ts`), over generated documents (nested, dotted at every depth, both at
 * once, wrong types, nulls, non-objects on the path) and real ones (the seeded scenario's Winlogbeat
 * and Elastic Endpoint lines, and every Security-Datasets record rewritten as an ECS document, nested
 * and partly dotted). Both must leave the same event, copy the same count and refuse with the same error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SequorEvent } from '@sequor/model';
import { eventFieldCatalog } from '@sequor/model';
import { generateScenario } from '@sequor/scenarios';
import { getFormat } from '../../src/index.js';
import { blank, blankEvent } from '../../src/windows/blank.js';
import { overlayEcsFields } from '../../src/windows/ecs-fields.js';
import { RecordProblem } from '../../src/windows/problem.js';
import type { Json } from '../../src/windows/values.js';
import { decodeOne, datasetLines } from './helpers.js';
import { referenceOverlayEcsFields } from './reference-ecs-overlay.js';

const enc = new TextEncoder();

type Overlay = (ev: SequorEvent, doc: Json) => number;
type Outcome =
  | { readonly event: SequorEvent; readonly copied: number }
  | { readonly problem: string; readonly reason: string };

/** `base` as JSON text: a fresh copy for each run is one JSON.parse (structuredClone is far slower). */
function outcome(overlay: Overlay, base: string, doc: Json): Outcome {
  const ev = JSON.parse(base) as SequorEvent;
  try {
    return { event: ev, copied: overlay(ev, doc) };
  } catch (e) {
    if (e instanceof RecordProblem) return { problem: e.message, reason: e.reason };
    throw e;
  }
}

/** Exact text of an outcome (-0 told from 0), so 60,000 comparisons stay fast; expect() shows a difference. */
const exact = (o: Outcome): string =>
  JSON.stringify(o, (_k, v: unknown) => (Object.is(v, -0) ? '-0' : v === undefined ? '(undefined)' : v));

function expectSame(baseEvent: SequorEvent, doc: Json): Outcome {
  const base = JSON.stringify(baseEvent);
  const want = outcome(referenceOverlayEcsFields, base, doc);
  const got = outcome(overlayEcsFields, base, doc);
  if (exact(got) !== exact(want)) expect(got).toEqual(want);
  return want;
}

/** What mapEcs starts from. */
function ecsStart(): SequorEvent {
  const ev = blankEvent();
  ev.timestamp = 0;
  ev.event = blank('event');
  ev.event.id = 'x';
  ev.origin = { format: 'ecs', topic: null, partition: null, offset: null };
  return ev;
}

const catalogNames = [...eventFieldCatalog.fields()].map((f) => f.name).filter((n) => n !== '@timestamp');
/** Names near the model's: groups as leaves, unknown leaves, deeper paths. */
const otherNames = [
  'event',
  'process.parent',
  'process.parent.pid.x',
  'agent.name',
  'winlog.event_data.Image',
  'winlog.user.name',
  'host.os.family',
  'file.Ext',
  'registry.data',
];

const leafValue = fc.oneof(
  fc.constantFrom('', '-', '4624', '12', 'x', '2024-01-01T00:00:00Z', '10.0.0.1', '99999999999'),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, 2 ** 53, -(2 ** 31) - 1, 2 ** 31),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom('a', 'b', '10.0.0.2'), { maxLength: 3 }),
  fc.constant([1, 'a']),
  fc.constant({ nested: 'object' }),
);

/** One field written as `split` nested levels, then the dotted rest: `process.parent.pid` at split 1 is `{process: {"parent.pid": v}}`. */
const written = fc.record({
  name: fc.oneof(fc.constantFrom(...catalogNames), fc.constantFrom(...otherNames)),
  split: fc.nat(3),
  value: leafValue,
});

function buildDoc(entries: readonly { name: string; split: number; value: unknown }[]): Json {
  const doc: Record<string, unknown> = {};
  for (const { name, split, value } of entries) {
    const segments = name.split('.');
    const nested = Math.min(split, segments.length - 1);
    let node = doc;
    for (let i = 0; i < nested; i++) {
      const key = segments[i] as string;
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[segments.slice(nested).join('.')] = value;
  }
  return doc;
}

/** A decoded event written back as an ECS document (what an ECS shipper would send for it). */
function asEcsDocument(ev: SequorEvent): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = strip(x);
    return out;
  };
  const { timestamp, origin: _origin, ...rest } = ev;
  return { '@timestamp': new Date(timestamp).toISOString(), ...(strip(rest) as object) };
}

/** Rewrites some nested keys as dotted ones (deterministically by `seed`), as flattening shippers do. */
function partlyDotted(doc: Record<string, unknown>, seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = seed;
  for (const [k, v] of Object.entries(doc)) {
    n = (n * 1103515245 + 12345) & 0x7fffffff;
    if (n % 3 === 0 && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
    } else out[k] = v;
  }
  return out;
}

describe('compiled ECS reader vs the generic overlay', () => {
  it('agree on generated documents (nested, dotted, both, wrong types)', () => {
    const bases = [
      ecsStart(),
      decodeOne('flat-windows', datasetLines('cmd_service_mod_fax.json')[1] as string),
    ];
    fc.assert(
      fc.property(fc.array(written, { maxLength: 12 }), fc.nat(1), (entries, b) => {
        expectSame(bases[b] as SequorEvent, buildDoc(entries));
      }),
      { numRuns: 3000, seed: 1207 },
    );
  });

  it('agree on the seeded scenario: Winlogbeat and Elastic Endpoint documents', () => {
    const { files } = generateScenario({ seed: 7, events: 3000 });
    let copiedSome = 0;
    for (const file of ['winlogbeat.ndjson', 'endpoint.ndjson']) {
      const lines = (files.get(file) ?? '').split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThan(100);
      for (const line of lines) {
        const r = expectSame(ecsStart(), JSON.parse(line) as Json);
        if ('copied' in r && r.copied > 0) copiedSome++;
      }
    }
    expect(copiedSome).toBeGreaterThan(200);
  });

  it('agree on every Security-Datasets record, as a nested and as a partly dotted ECS document', () => {
    const files = [
      'cmd_service_mod_fax.json',
      'empire_psexec_dcerpc_tcp_svcctl.json',
      'empire_shell_dcerpc_smb_service_dll_hijack.json',
      'empire_shell_reg_dump_sam.json',
      'reg_disable_eventlog_service_startuptype_modification_via_registry.json',
    ];
    let n = 0;
    let refused = 0;
    const decoder = getFormat('flat-windows').createDecoder();
    const origin = { topic: 't', partition: 0, offset: 0 };
    for (const file of files) {
      for (const line of datasetLines(file)) {
        let ev: SequorEvent;
        try {
          ev = decoder.decode(enc.encode(line), origin)[0] as SequorEvent;
        } catch {
          continue; // records flat-windows refuses: counted in datasets.test.ts
        }
        const doc = asEcsDocument(ev);
        if (!('copied' in expectSame(ecsStart(), doc))) refused++;
        expectSame(ecsStart(), partlyDotted(doc, n));
        // Over a fully mapped event too: the winlogbeat mapper overlays the shipper's fields on its own.
        expectSame(ev, partlyDotted(doc, n + 1));
        // The raw flat record read as ECS (mostly no model fields, some dotted-looking keys).
        expectSame(ecsStart(), JSON.parse(line) as Json);
        n++;
      }
    }
    expect(n).toBeGreaterThan(15_000);
    // A decoded event written back as ECS is read back: nothing in it is refused.
    expect(refused).toBe(0);
  }, 60_000);
});
