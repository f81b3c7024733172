/**
 * Micro-benchmark of compiled predicates: ns per evaluation for the seed rule's two steps and a few
 * representative operators, over a mixed batch of events (matches, near misses, other categories,
 * missing fields). Prints numbers; asserts nothing.
 *
 *   npx tsx --conditions=sequor-source shared/engine/test/bench/predicates.ts
 */
import { parse } from '@sequor/eql';
import { eventFieldCatalog } from '@sequor/model';
import { compileQuery, type FilterSpec, type Predicate, type SequenceSpec } from '../../src/index.js';

type Ev = Record<string, unknown>;

const seed = `sequence by host.id, user.id with maxspan=1m
 [authentication where event.outcome == "success" and winlog.logon.type == "Network" and not user.name == "ANONYMOUS LOGON" and not user.domain == "NT AUTHORITY" and source.ip != "127.0.0.1" and source.ip !="::1"]
 [file where event.action == "creation" and process.name : "svchost.exe" and file.Ext.header_bytes : "72656766*" and user.id : "S-1-5-21-*" and file.size >= 30000]`;

const sid = 'S-1-5-21-3623811015-3361044348-30300820-1013';
function makeEvents(count: number): Ev[] {
  const events: Ev[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    events.push({
      timestamp: 1_700_000_000_000 + i,
      event: {
        id: `e${i}`,
        category:
          kind === 0 ? ['authentication'] : kind === 1 ? ['file'] : kind === 2 ? ['process'] : ['registry'],
        outcome: 'success',
        action: kind === 1 ? 'creation' : 'modification',
      },
      host: { id: `host-${i % 50}`, name: `WS${i % 50}`, ip: ['10.0.0.1', `fe80::${i % 255}`] },
      user: { id: sid, name: i % 7 === 0 ? 'ANONYMOUS LOGON' : 'alice', domain: 'CORP' },
      source: i % 3 === 0 ? null : { ip: i % 11 === 0 ? '::1' : `10.1.${i % 200}.${i % 250}`, port: 445 },
      winlog: { event_id: '4624', logon: { type: i % 4 === 0 ? 'Interactive' : 'Network' } },
      process: { name: i % 2 === 0 ? 'svchost.exe' : 'powershell.exe', pid: i },
      file: {
        path: `C:\\Windows\\Temp\\f${i}.tmp`,
        size: (i % 9) * 10_000,
        Ext: { header_bytes: i % 3 === 0 ? '72656766aa' : '4d5a9000' },
      },
      registry: {
        path:
          i % 13 === 0 ? 'HKU\\S-1-5-21\\Software\\Remcos\\exepath' : 'HKLM\\SOFTWARE\\Microsoft\\Windows',
        data: { strings: ['a', 'b'] },
      },
    });
  }
  return events;
}

function filter(where: string): Predicate<Ev> {
  return (compileQuery<Ev>(parse(where), eventFieldCatalog).spec as FilterSpec<Ev>).predicate;
}

function measure(name: string, predicate: Predicate<Ev>, events: readonly Ev[], rounds: number): void {
  let hits = 0;
  for (let w = 0; w < 3; w++) for (const e of events) if (predicate(e)) hits++; // warm up (JIT)
  hits = 0;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < events.length; i++) if (predicate(events[i] as Ev)) hits++;
  const ns = Number(process.hrtime.bigint() - start) / (rounds * events.length);
  const rate = (1e9 / ns / 1e6).toFixed(1);
  console.log(
    `${name.padEnd(58)} ${ns.toFixed(1).padStart(7)} ns/eval  ${rate.padStart(6)} M evals/s  match rate ${((hits / (rounds * events.length)) * 100).toFixed(1)}%`,
  );
}

const events = makeEvents(10_000);
const rounds = 200;
const compiled = compileQuery<Ev>(parse(seed), eventFieldCatalog).spec as SequenceSpec<Ev>;
console.log(`node ${process.version}, ${events.length} events x ${rounds} rounds per line`);
measure('seed step 1 [authentication where ... 6 conditions]', compiled.steps[0]!.predicate, events, rounds);
measure('seed step 2 [file where ... 5 conditions]', compiled.steps[1]!.predicate, events, rounds);
// The floor: the same step written by hand (no arrays, no IP forms, no type coercion).
const handWritten = (e: Ev): boolean => {
  const x = e as {
    event?: { category?: string[]; outcome?: string };
    winlog?: { logon?: { type?: string } };
    user?: { name?: string; domain?: string };
    source?: { ip?: string } | null;
  };
  const ip = x.source?.ip;
  return (
    (x.event?.category?.includes('authentication') ?? false) &&
    x.event?.outcome === 'success' &&
    x.winlog?.logon?.type === 'Network' &&
    x.user?.name !== 'ANONYMOUS LOGON' &&
    x.user?.domain !== 'NT AUTHORITY' &&
    ip !== '127.0.0.1' &&
    ip !== '::1'
  );
};
measure('  baseline: step 1 written by hand', handWritten, events, rounds);
measure('seed key (host.id, user.id)', (e) => compiled.steps[0]!.key(e) !== null, events, rounds);
measure('process.name == "svchost.exe"', filter('any where process.name == "svchost.exe"'), events, rounds);
measure(
  'process.name : ("cmd.exe", "power*", "*.ps1")',
  filter('any where process.name : ("cmd.exe", "power*", "*.ps1")'),
  events,
  rounds,
);
measure(
  'registry.path : "*\\\\Software\\\\Remcos*"',
  filter(String.raw`any where registry.path : "*\\Software\\Remcos*"`),
  events,
  rounds,
);
measure(
  'file.path : "c:\\\\windows\\\\*\\\\f1?.tmp" (general pattern)',
  filter(String.raw`any where file.path : "c:\\windows\\*\\f1?.tmp"`),
  events,
  rounds,
);
measure(
  'process.name regex "svc(host)?\\\\.exe"',
  filter(String.raw`any where process.name regex "svc(host)?\\.exe"`),
  events,
  rounds,
);
measure(
  'cidrMatch(source.ip, "10.0.0.0/8", "fe80::/10")',
  filter('any where cidrMatch(source.ip, "10.0.0.0/8", "fe80::/10")'),
  events,
  rounds,
);
measure(
  'cidrMatch(host.ip, "fe80::/10") (array field)',
  filter('any where cidrMatch(host.ip, "fe80::/10")'),
  events,
  rounds,
);
measure('process.pid in (1, 2, 3, 4, 5)', filter('any where process.pid in (1, 2, 3, 4, 5)'), events, rounds);
measure(
  'not endsWith~(file.path, ".EXE") (script)',
  filter('any where not endsWith~(file.path, ".EXE")'),
  events,
  rounds,
);
