import { describe, expect, it } from 'vitest';
import { defaultPipeline, loadSigmaText, objectFieldSource, SigmaRuleSet } from '../src/index.js';
import type { SigmaRule } from '../src/index.js';
import { regexPrefilter, requiredExact } from '../src/gate.js';
import { parsePcre } from '../src/pcre.js';
import { ruleText } from './helpers.js';

function rule(id: string, logsource: string, detection: string): SigmaRule {
  const { rule, errors } = loadSigmaText(
    ruleText(detection, logsource).replace('5f1d6c1e-0000-4000-8000-000000000001', id),
    `${id}.yml`,
  );
  if (rule === null) throw new Error(errors.map((e) => e.format()).join('\n'));
  return rule;
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

describe('SigmaRuleSet', () => {
  const rules = [
    rule(
      'proc',
      'product: windows\n  category: process_creation',
      "  sel:\n    Image|endswith: '\\\\whoami.exe'\n  condition: sel",
    ),
    rule(
      'reg',
      'product: windows\n  category: registry_set',
      "  sel:\n    TargetObject|contains: '\\\\Run\\\\'\n  condition: sel",
    ),
    rule('sec', 'product: windows\n  service: security', '  sel:\n    EventID: 4624\n  condition: sel'),
    rule(
      'add',
      'product: windows\n  category: registry_add',
      "  sel:\n    TargetObject|contains: 'Run'\n  condition: sel",
    ),
    rule('file', 'product: windows\n  category: file_access', "  sel:\n    A: 'x'\n  condition: sel"),
  ];
  const set = new SigmaRuleSet(rules, defaultPipeline);
  const ids = (event: Record<string, string | number>): (string | null)[] =>
    set.match(objectFieldSource(event)).map((r) => r.rule.id);

  it('learns gates from the stream: a common long value gives way to a rare clause; matches do not change', () => {
    const proc = 'product: windows\n  category: process_creation';
    // By shape `Company: Microsoft Corporation` (long, exact) looks rarer than `\\csi.exe` (a short basename);
    // on this stream every event has the company and few the image.
    const rules = [
      rule(
        'csi',
        proc,
        "  sel:\n    Company: 'Microsoft Corporation'\n    Image|endswith: '\\\\csi.exe'\n  condition: sel",
      ),
      rule('whoami', proc, "  sel:\n    Image|endswith: '\\\\whoami.exe'\n  condition: sel"),
    ];
    const learning = new SigmaRuleSet(rules, defaultPipeline, [], { gateLearningEvents: 40 });
    const byShape = new SigmaRuleSet(rules, defaultPipeline, [], { gateLearningEvents: 0 });
    const event = (i: number) => ({
      Channel: SYSMON,
      EventID: 1,
      Company: 'Microsoft Corporation',
      Image: i % 50 === 7 ? 'C:\\x\\csi.exe' : i % 50 === 9 ? 'C:\\x\\whoami.exe' : `C:\\x\\p${i % 13}.exe`,
    });
    const ids = (set: SigmaRuleSet, i: number) =>
      set.match(objectFieldSource(event(i))).map((r) => r.rule.id);
    for (let i = 0; i < 2_000; i++) {
      // Sampling spans events 640-1,279 (none before: a short run pays nothing); the last sample is next.
      if (i === 2 * 40 * 16 - 1) expect(learning.stats().gatesLearned).toBe(0);
      expect(ids(learning, i), `event ${i}`).toEqual(ids(byShape, i));
    }
    expect(learning.stats().gatesLearned).toBe(1);
    expect(byShape.stats().gatesLearned).toBe(0);
    expect(ids(learning, 7)).toEqual(['csi']);
  });

  it('after learning, moves a gate off a field only it reads onto a field the index reads anyway', () => {
    const proc = 'product: windows\n  category: process_creation';
    // By shape and by measure `LogonId` (long, exact, never seen) is the rarer clause of `rare`, but no
    // other rule reads LogonId: every event paid a read for it. Image is read for `a` and `b` anyway.
    const rules = [
      rule('a', proc, "  sel:\n    Image|endswith: '\\\\a.exe'\n  condition: sel"),
      rule('b', proc, "  sel:\n    Image|endswith: '\\\\b.exe'\n  condition: sel"),
      rule(
        'rare',
        proc,
        "  sel:\n    LogonId: '0x3e7abcd'\n    Image|endswith: '\\\\y.exe'\n  condition: sel",
      ),
    ];
    const learning = new SigmaRuleSet(rules, defaultPipeline, [], { gateLearningEvents: 40 });
    const byShape = new SigmaRuleSet(rules, defaultPipeline, [], { gateLearningEvents: 0 });
    const event = (i: number): Record<string, string | number> => ({
      Channel: SYSMON,
      EventID: 1,
      LogonId: i % 100 === 49 ? '0x3E7ABCD' : '0x0',
      Image:
        i % 50 === 49 ? 'C:\\x\\Y.exe' : ['C:\\x\\a.exe', 'C:\\x\\b.exe', `C:\\x\\p${i % 13}.exe`][i % 3]!,
    });
    let logonIdReads = 0;
    const counted = (fields: Record<string, string | number>) => ({
      get: (field: string) => {
        if (field === 'LogonId') logonIdReads++;
        return Object.hasOwn(fields, field) ? fields[field] : undefined;
      },
      values: () => Object.values(fields),
    });
    const ids = (set: SigmaRuleSet, i: number) => set.match(counted(event(i))).map((r) => r.rule.id);
    for (let i = 0; i < 2_000; i++) expect(ids(learning, i), `event ${i}`).toEqual(ids(byShape, i));
    logonIdReads = 0;
    for (let i = 2_000; i < 2_100; i++) ids(byShape, i);
    expect(logonIdReads).toBe(100);
    logonIdReads = 0;
    for (let i = 2_000; i < 2_100; i++) ids(learning, i);
    // Read only where the Image gate holds (events 2,049 and 2,099), to try the rule.
    expect(logonIdReads).toBe(2);
    expect(ids(learning, 2_049)).toEqual(['rare']);
    expect(ids(learning, 2_099)).toEqual([]);
  });

  it('samples nothing before as many events as its sampling spans: a short run pays nothing for learning', () => {
    const csi = rule(
      'csi',
      'product: windows\n  category: process_creation',
      "  sel:\n    Company: 'Microsoft Corporation'\n    Image|endswith: '\\\\csi.exe'\n  condition: sel",
    );
    // Gated on Company by shape: only learning reads Image on these events (its other option).
    const set = new SigmaRuleSet([csi], defaultPipeline, [], { gateLearningEvents: 4 });
    let imageReads = 0;
    const source = {
      get: (field: string) => {
        if (field === 'Image') imageReads++;
        return ({ Channel: SYSMON, EventID: 1, Company: 'Other' } as Record<string, string | number>)[field];
      },
      values: () => [SYSMON, 1, 'Other'],
    };
    for (let i = 0; i < 4 * 16; i++) set.match(source);
    expect(imageReads).toBe(0);
    for (let i = 0; i < 4 * 16; i++) set.match(source);
    expect(imageReads).toBe(4);
  });

  it('a gate test that throws while learning stops the learning, not the match', () => {
    const proc = 'product: windows\n  category: process_creation';
    const csi = rule(
      'csi',
      proc,
      "  sel:\n    Company: 'Microsoft Corporation'\n    Image|endswith: '\\\\csi.exe'\n  condition: sel",
    );
    const set = new SigmaRuleSet([csi], defaultPipeline, [], { gateLearningEvents: 2 });
    // Gated on Company by shape, the rule never reads Image on these events; learning tests every option,
    // Image's too, and this source throws on it.
    const source = {
      get: (field: string) => {
        if (field === 'Image') throw new Error('unreadable');
        return ({ Channel: SYSMON, EventID: 1, Company: 'Other' } as Record<string, string | number>)[field];
      },
      values: () => [SYSMON, 1, 'Other'],
    };
    for (let i = 0; i < 64; i++) expect(set.match(source)).toEqual([]);
    expect(set.stats().gatesLearned).toBe(0);
    const csiEvent = {
      Channel: SYSMON,
      EventID: 1,
      Company: 'Microsoft Corporation',
      Image: 'C:\\x\\csi.exe',
    };
    expect(set.match(objectFieldSource(csiEvent)).map((r) => r.rule.id)).toEqual(['csi']);
  });

  it('rules whose patterns hold NUL (wide without base64) share no matcher or memoized result by accident', () => {
    const proc = 'product: windows\n  category: process_creation';
    // Joined with NUL, A's one pattern `*a\0?\0`-like and B's list ['*a', '?'] made the same key.
    const pair = new SigmaRuleSet(
      [
        rule('a', proc, "  sel:\n    CommandLine|wide|endswith: 'a?'\n  condition: sel"),
        rule('b', proc, "  sel:\n    CommandLine: ['*a', '?']\n  condition: sel"),
      ],
      defaultPipeline,
    );
    const alone = new SigmaRuleSet(
      [rule('a', proc, "  sel:\n    CommandLine|wide|endswith: 'a?'\n  condition: sel")],
      defaultPipeline,
    );
    for (const commandLine of ['a\u0000xa', 'zza', 'x\u0000a\u0000b\u0000']) {
      const event = { Channel: SYSMON, EventID: 1, CommandLine: commandLine };
      const a = alone.match(objectFieldSource(event)).length > 0;
      expect(
        pair
          .match(objectFieldSource(event))
          .map((r) => r.rule.id)
          .includes('a'),
        commandLine,
      ).toBe(a);
    }
  });

  it('maps process_creation to Sysmon 1 and to Security 4688 with its field names', () => {
    expect(ids({ Channel: SYSMON, EventID: 1, Image: 'C:\\Windows\\System32\\whoami.exe' })).toEqual([
      'proc',
    ]);
    expect(
      ids({ Channel: 'Security', EventID: 4688, NewProcessName: 'C:\\Windows\\System32\\whoami.exe' }),
    ).toEqual(['proc']);
    // The Sysmon field name on a 4688 event is not what the rule reads there.
    expect(ids({ Channel: 'Security', EventID: 4688, Image: 'C:\\Windows\\System32\\whoami.exe' })).toEqual(
      [],
    );
    // The right fields on the wrong EventID or channel never reach the rule.
    expect(ids({ Channel: SYSMON, EventID: 11, Image: 'C:\\x\\whoami.exe' })).toEqual([]);
    expect(ids({ Channel: 'System', EventID: 1, Image: 'C:\\x\\whoami.exe' })).toEqual([]);
  });

  it('a service selects its channel, any EventID; channels compare case-insensitively', () => {
    expect(ids({ Channel: 'security', EventID: 4624 })).toEqual(['sec']);
  });

  it('registry_add also needs EventType CreateKey', () => {
    const base = {
      Channel: SYSMON,
      TargetObject: 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x',
    };
    expect(ids({ ...base, EventID: 12, EventType: 'CreateKey' })).toEqual(['add']);
    expect(ids({ ...base, EventID: 12, EventType: 'DeleteKey' })).toEqual([]);
    expect(ids({ ...base, EventID: 13, EventType: 'SetValue' })).toEqual(['reg']);
  });

  it('refuses a logsource no Windows source logs, with the reason', () => {
    expect(set.rules.map((r) => r.rule.id)).toEqual(['proc', 'reg', 'sec', 'add']);
    expect(set.refused).toHaveLength(1);
    expect(set.refused[0]?.code).toBe('unknown-logsource');
    expect(set.refused[0]?.detail).toMatch(/file_access/);
  });

  it('shares identical matchers across rules', () => {
    const twice = new SigmaRuleSet(
      [
        rule(
          'a',
          'product: windows\n  category: process_creation',
          "  sel:\n    CommandLine|re: 'x\\d+y'\n  condition: sel",
        ),
        rule(
          'b',
          'product: windows\n  category: process_creation',
          "  sel:\n    CommandLine|re: 'x\\d+y'\n  condition: sel",
        ),
      ],
      defaultPipeline,
    );
    expect(twice.stats().sharedMatchers).toBeGreaterThan(0);
  });

  it('gates: a rule behind Image|endswith or OriginalFileName is found through either, others always tried', () => {
    const gatedSet = new SigmaRuleSet(
      [
        rule(
          'img',
          'product: windows\n  category: process_creation',
          "  selection_img:\n    - Image|endswith: '\\\\whoami.exe'\n    - OriginalFileName: 'whoami.exe'\n  selection_cli:\n    CommandLine|contains: '/all'\n  condition: all of selection_*",
        ),
        rule(
          'neg',
          'product: windows\n  category: process_creation',
          "  filter:\n    Image|endswith: '\\\\explorer.exe'\n  condition: not filter",
        ),
        rule(
          'either',
          'product: windows\n  category: process_creation',
          "  a:\n    Image|endswith: '\\\\a.exe'\n  b:\n    CommandLine|contains: 'bee'\n  condition: a or b",
        ),
      ],
      defaultPipeline,
    );
    // img's and either's Sysmon and 4688 variants (either: `\a.exe` or the substring `bee`).
    expect(gatedSet.stats().gatedVariants).toBe(4);
    const run = (e: Record<string, string | number>): (string | null)[] =>
      gatedSet
        .match(objectFieldSource({ Channel: SYSMON, EventID: 1, ...e }))
        .map((r) => r.rule.id)
        .sort();
    expect(run({ Image: 'C:\\X\\WHOAMI.EXE', CommandLine: 'whoami /all' })).toEqual(['img', 'neg']);
    expect(run({ Image: 'C:\\X\\renamed.exe', OriginalFileName: 'whoami.exe', CommandLine: '/all' })).toEqual(
      ['img', 'neg'],
    );
    expect(run({ Image: 'C:\\X\\explorer.exe', CommandLine: 'bee' })).toEqual(['either']);
    expect(run({ Image: 'C:\\a.exe' })).toEqual(['either', 'neg']);
    expect(
      gatedSet
        .match(
          objectFieldSource({
            Channel: 'Security',
            EventID: 4688,
            NewProcessName: 'C:\\whoami.exe',
            CommandLine: '/all',
          }),
        )
        .map((r) => r.rule.id)
        .sort(),
    ).toEqual(['img', 'neg']);
  });

  it('gates on a number: a Security rule runs only on its EventID, whatever the type of the value', () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'logon',
          'product: windows\n  service: security',
          '  sel:\n    EventID: 4624\n    LogonType: 3\n  condition: sel',
        ),
      ],
      defaultPipeline,
    );
    expect(set.stats().gatedVariants).toBe(1);
    const ids = (e: Record<string, string | number>): (string | null)[] =>
      set.match(objectFieldSource({ Channel: 'Security', ...e })).map((r) => r.rule.id);
    expect(ids({ EventID: 4624, LogonType: 3 })).toEqual(['logon']);
    expect(ids({ EventID: '4624', LogonType: '3' })).toEqual(['logon']);
    expect(ids({ EventID: 4625, LogonType: 3 })).toEqual([]);
  });

  it('gates on the longest literal run of a wildcard pattern: found by the shared scan of its field', () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'enc',
          'product: windows\n  category: process_creation',
          "  sel:\n    CommandLine|contains|all:\n      - ' -enc'\n      - 'hidden'\n  condition: sel",
        ),
        rule(
          'mid',
          'product: windows\n  category: process_creation',
          "  sel:\n    CommandLine: '*download*string(*'\n  condition: sel",
        ),
        rule(
          'cased',
          'product: windows\n  category: process_creation',
          "  sel:\n    CommandLine|cased|contains: 'Bypass'\n  condition: sel",
        ),
      ],
      defaultPipeline,
    );
    // enc and mid are gated (both variants each); a cased value gives no key (lower-casing is not
    // substring-preserving for every character).
    expect(set.stats().gatedVariants).toBe(4);
    const ids = (CommandLine: string): (string | null)[] =>
      set
        .match(objectFieldSource({ Channel: SYSMON, EventID: 1, CommandLine }))
        .map((r) => r.rule.id)
        .sort();
    expect(ids('powershell -w HIDDEN -ENC aGk=')).toEqual(['enc']);
    expect(ids('powershell -enc aGk=')).toEqual([]);
    expect(ids('IEX (New-Object Net.WebClient).DownloadString(x) -Bypass')).toEqual(['cased', 'mid']);
    expect(ids('downloadstring')).toEqual([]);
  });

  it('gates a regex on a literal run every match holds, only ASCII and, ignoring case, without s or i', () => {
    const re = (id: string, pattern: string): SigmaRule =>
      rule(
        id,
        'product: windows\n  category: process_creation',
        `  sel:\n    CommandLine|re: '${pattern}'\n  condition: sel`,
      );
    const set = new SigmaRuleSet(
      [
        re('set', 'cmd.{0,5}"Set\\s+[a-z]{3}'), // keys: "set
        re('alt', '(?:wget|curl)\\s+http'), // keys: wget or curl, or http
        re('icase', '(?i)mimikatz'), // keys: m, m, katz -> katz
        re('opt', '(?:ab)?q.z'), // no run of 3: always tried
        re('uni', 'caf\u00e9\\d'), // caf (é is not ASCII)
        re('pw', '(?i)password'), // word (no s: long s matches it)
      ],
      defaultPipeline,
    );
    expect(set.stats().gatedVariants).toBe(10); // all but opt, two variants each
    const ids = (CommandLine: string): (string | null)[] =>
      set
        .match(objectFieldSource({ Channel: SYSMON, EventID: 1, CommandLine }))
        .map((r) => r.rule.id)
        .sort();
    expect(ids('cmd /c "Set abc')).toEqual(['set']);
    expect(ids('cmd /c "set abc')).toEqual([]); // case-sensitive: found by the gate, refused by the regex
    expect(ids('x curl  http://a')).toEqual(['alt']);
    expect(ids('WGET http://a')).toEqual([]);
    expect(ids('run MimiKatz now')).toEqual(['icase']);
    // Case-insensitive matches through letters whose lower case is not ASCII: long s, dotless i, Kelvin.
    expect(ids('mimi\u212aatz')).toEqual(['icase']);
    expect(ids('PA\u017f\u017fWORD')).toEqual(['pw']);
    expect(ids('M\u0131M\u0131KATZ')).toEqual(['icase']);
    expect(ids('abqxz')).toEqual(['opt']);
    expect(ids('café7 qyz')).toEqual(['opt', 'uni']);
  });

  it('indexes a rule by the EventIDs its detection requires; a branch or a `not` without them leaves it unindexed', () => {
    const security = 'product: windows\n  service: security';
    const rules = [
      rule(
        'both',
        security,
        '  sel_a:\n    EventID: 4624\n    LogonType: 3\n  sel_b:\n    EventID:\n      - 4625\n      - 4624\n  condition: sel_a and sel_b',
      ),
      rule(
        'either',
        security,
        "  sel_a:\n    EventID: 4624\n  sel_b:\n    TargetUserName: 'admin'\n  condition: sel_a or sel_b",
      ),
      rule(
        'negated',
        security,
        '  sel:\n    LogonType: 3\n  filter:\n    EventID: 4624\n  condition: sel and not filter',
      ),
      rule(
        'any_of',
        security,
        "  sel_1:\n    EventID: 4720\n  sel_2:\n    EventID: '4722'\n    TargetUserName: 'admin'\n  condition: 1 of sel_*",
      ),
    ];
    expect(
      rules.map((r) => requiredExact(r, {}, 'EventID')).map((k) => (k === null ? null : [...k].sort())),
    ).toEqual([['4624'], null, null, ['4720', '4722']]);
    const set = new SigmaRuleSet(rules, defaultPipeline);
    const ids = (e: Record<string, string | number>): (string | null)[] =>
      set.match(objectFieldSource({ Channel: 'Security', ...e })).map((r) => r.rule.id);
    expect(ids({ EventID: 4624, LogonType: 3 })).toEqual(['both', 'either']);
    expect(ids({ EventID: '4624', LogonType: '3' })).toEqual(['both', 'either']);
    expect(ids({ EventID: 4625, LogonType: 3 })).toEqual(['negated']);
    expect(ids({ EventID: 4634, TargetUserName: 'Admin' })).toEqual(['either']);
    expect(ids({ EventID: 4720 })).toEqual(['any_of']);
    expect(ids({ EventID: 4722, TargetUserName: 'admin' })).toEqual(['either', 'any_of']);
    expect(ids({ EventID: 4722 })).toEqual([]);
  });

  it("searches a regex's required text before running it, and runs it when found", () => {
    const parsed = (pattern: string) => {
      const p = parsePcre(pattern, { ignoreCase: false, multiline: false, dotAll: false });
      return regexPrefilter(p.tree, p.flags.ignoreCase);
    };
    expect(parsed('\\w+`(?:\\w+|-|.)`[\\w+|\\s]')).toEqual(['`']);
    expect(parsed('://[0-9]{1,3}\\.[0-9]{1,3}')).toEqual(['://']);
    // Case-sensitive: letters as written, any character; the longest required run.
    expect(parsed('"(?:\\{\\d\\})+"\\s*-f')).toEqual(['-f']);
    expect(parsed('WerFault\\.exe')).toEqual(['WerFault.exe']);
    expect(parsed('(Été|été)x')).toEqual(['Été', 'été']);
    // Case-insensitive: only letter-free runs (the value would have to be lower-cased first).
    expect(parsed('(?i)werfault\\.exe')).toBeNull();
    expect(parsed('(?i)\\$\\{`?e`?n`?v')).toEqual(['${']);
    // An optional run, or nothing required: none.
    expect(parsed('(::)?')).toBeNull();
    expect(parsed('.*')).toBeNull();
    const set = new SigmaRuleSet(
      [
        rule(
          'tok',
          'product: windows\n  category: process_creation',
          "  sel:\n    CommandLine|re: '\\w+`(?:\\w+|-|.)`[\\w+|\\s]'\n  condition: sel",
        ),
      ],
      defaultPipeline,
    );
    const ids = (commandLine: string): (string | null)[] =>
      set
        .match(objectFieldSource({ Channel: SYSMON, EventID: 1, CommandLine: commandLine }))
        .map((r) => r.rule.id);
    expect(ids('IN`V`o`Ke-eXp`ResSIOn (Ne`W-ob`ject Net.WebClient)')).toEqual(['tok']);
    expect(ids('powershell Invoke-Expression (New-Object Net.WebClient)')).toEqual([]);
    expect(ids('a`b c')).toEqual([]);
    // A case-sensitive key with letters: the text as written must hold it, in its case.
    const cased = new SigmaRuleSet(
      [
        rule(
          'fmt',
          'product: windows\n  category: process_creation',
          '  sel:\n    CommandLine|re: \'"(?:\\{\\d\\})+"\\s*-f\'\n  condition: sel',
        ),
      ],
      defaultPipeline,
    );
    const fmt = (commandLine: string): (string | null)[] =>
      cased
        .match(objectFieldSource({ Channel: SYSMON, EventID: 1, CommandLine: commandLine }))
        .map((r) => r.rule.id);
    expect(fmt("&(\"{2}{0}{1}\" -f 'e','x','I')")).toEqual(['fmt']);
    expect(fmt("&(\"{2}{0}{1}\" -F 'e','x','I')")).toEqual([]);
    expect(fmt('&("{2}{0}{1}" x) -f')).toEqual([]);
  });

  it('an exact gate passes over texts no key can equal by length, and lower-cases İ to two code units first', () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'city',
          'product: windows\n  service: security',
          "  sel:\n    TargetUserName: 'İSTANBUL'\n  condition: sel",
        ),
        rule(
          'short',
          'product: windows\n  service: security',
          "  sel:\n    SubjectUserName: 'ab'\n  condition: sel",
        ),
      ],
      defaultPipeline,
    );
    const ids = (name: string): (string | null)[] =>
      set
        .match(
          objectFieldSource({
            Channel: 'Security',
            EventID: 4720,
            TargetUserName: name,
            SubjectUserName: name,
          }),
        )
        .map((r) => r.rule.id);
    // 'İstanbul' is 8 code units, its lower case (the key's) 9.
    expect(ids('İstanbul')).toEqual(['city']);
    expect(ids('istanbul')).toEqual([]);
    expect(ids('AB')).toEqual(['short']);
    expect(ids('İ')).toEqual([]);
    expect(ids('İSTANBUL ')).toEqual([]);
  });

  it("remembers a network list's answer per text of the field, apart for each list", () => {
    const net = 'product: windows\n  category: network_connection';
    const set = new SigmaRuleSet(
      [
        rule(
          'private',
          net,
          "  sel:\n    DestinationIp|cidr: ['10.0.0.0/8', '192.168.0.0/16']\n  condition: sel",
        ),
        rule('ten', net, "  sel:\n    DestinationIp|cidr: ['10.0.0.0/8', 'fe80::/10']\n  condition: sel"),
        rule('one', net, "  sel:\n    DestinationIp|cidr: '192.168.1.0/24'\n  condition: sel"),
        rule(
          'both',
          net,
          "  sel:\n    DestinationIp|cidr|all: ['192.168.0.0/16', '192.168.1.0/24']\n  condition: sel",
        ),
      ],
      defaultPipeline,
    );
    const ids = (ip: string): (string | null)[] =>
      set.match(objectFieldSource({ Channel: SYSMON, EventID: 3, DestinationIp: ip })).map((r) => r.rule.id);
    // Each text twice or more: the second answer is the remembered one.
    for (let round = 0; round < 3; round++) {
      expect(ids('10.1.2.3')).toEqual(['private', 'ten']);
      expect(ids('192.168.1.7')).toEqual(['private', 'one', 'both']);
      expect(ids('192.168.2.7')).toEqual(['private']);
      expect(ids('fe80::1')).toEqual(['ten']);
      expect(ids('8.8.8.8')).toEqual([]);
      expect(ids('not an address')).toEqual([]);
    }
  });

  it('checks a second clause per branch of `1 of`: either branch still matches, neither does not', () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'pth',
          'product: windows\n  service: security',
          "  sel_net:\n    EventID: 4624\n    LogonType: 3\n    LogonProcessName: 'NtLmSsp'\n  sel_new:\n    EventID: 4624\n    LogonType: 9\n  condition: 1 of sel_*",
        ),
      ],
      defaultPipeline,
    );
    const ids = (e: Record<string, string | number>): (string | null)[] =>
      set.match(objectFieldSource({ Channel: 'Security', EventID: 4624, ...e })).map((r) => r.rule.id);
    expect(ids({ LogonType: 3, LogonProcessName: 'NtLmSsp' })).toEqual(['pth']);
    expect(ids({ LogonType: 9, LogonProcessName: 'seclogo' })).toEqual(['pth']);
    expect(ids({ LogonType: 3, LogonProcessName: 'Kerberos' })).toEqual([]);
    expect(ids({ LogonType: 2, LogonProcessName: 'NtLmSsp' })).toEqual([]);
  });

  it('a keyword holding İ finds values shorter than its lower case (İ lower-cases to two code units)', () => {
    const proc = 'product: windows\n  category: process_creation';
    const rules = [
      rule('dotted', proc, "  keywords:\n    - 'İ'\n  condition: keywords"),
      rule('longer', proc, "  keywords:\n    - 'abcdefİ'\n  condition: keywords"),
    ];
    const set = new SigmaRuleSet(rules, defaultPipeline);
    const finds = (id: string, user: string): boolean =>
      set.match(objectFieldSource({ Channel: SYSMON, EventID: 1, User: user })).some((r) => r.rule.id === id);
    expect(finds('dotted', 'İ')).toBe(true);
    expect(finds('longer', 'ABCDEFİ')).toBe(true);
    expect(finds('dotted', 'I')).toBe(false);
    expect(finds('longer', 'abcdefI')).toBe(false);
  });

  it('gates keywords on their literal runs in any field, each field scanned on its own', () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'kw',
          'product: windows\n  service: security',
          "  keywords:\n    - 'sekurlsa::'\n    - 'kerberos::*ticket'\n  condition: keywords",
        ),
      ],
      defaultPipeline,
    );
    expect(set.stats().gatedVariants).toBe(1);
    const ids = (e: Record<string, string | number>): (string | null)[] =>
      set.match(objectFieldSource({ Channel: 'Security', EventID: 4688, ...e })).map((r) => r.rule.id);
    expect(ids({ CommandLine: 'mimikatz SEKURLSA::logonpasswords' })).toEqual(['kw']);
    expect(ids({ A: 'x', B: 'Kerberos::golden /ticket:t.kirbi' })).toEqual(['kw']);
    // The literal only across two fields' values is no keyword match.
    expect(ids({ A: 'sekurl', B: 'sa::' })).toEqual([]);
    expect(ids({ A: 'kerberos::', B: 'ticket' })).toEqual([]);
  });

  it("finds keywords in a number's text, unless no keyword could be in one", () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'digits',
          'product: windows\n  service: security',
          "  keywords:\n    - '123456'\n  condition: keywords",
        ),
        rule(
          'inf',
          'product: windows\n  service: security',
          "  keywords:\n    - 'INFINITY'\n  condition: keywords",
        ),
        rule(
          'words',
          'product: windows\n  service: security',
          "  keywords:\n    - 'sekurlsa::'\n  condition: keywords",
        ),
      ],
      defaultPipeline,
    );
    const ids = (e: Record<string, string | number>): (string | null)[] =>
      set.match(objectFieldSource({ Channel: 'Security', EventID: 4688, ...e })).map((r) => r.rule.id);
    expect(ids({ EventRecordID: 99123456789 })).toEqual(['digits']);
    expect(ids({ A: Infinity })).toEqual(['inf']);
    expect(ids({ A: 'x sekurlsa::pth', B: 123456 })).toEqual(['digits', 'words']);
    expect(ids({ EventRecordID: 1234 })).toEqual([]);
  });

  it('scopes a bare `product: windows` rule to events that are not Zeek records: those are never scanned', () => {
    // As SigmaHQ's win_alert_mimikatz_keywords: keywords, product windows alone.
    const set = new SigmaRuleSet(
      [
        rule(
          'kw',
          'product: windows',
          "  keywords:\n    - 'sekurlsa::'\n  filter:\n    EventID: 15\n  condition: keywords and not filter",
        ),
      ],
      defaultPipeline,
    );
    // Events whose values were read (the gate's scan, and the detection's when the gate holds).
    let scanned = 0;
    const ids = (event: Record<string, string | number>): (string | null)[] => {
      const source = objectFieldSource(event);
      let read = false;
      const counting = {
        get: source.get,
        values: () => {
          read = true;
          return source.values();
        },
      };
      const found = set.match(counting).map((r) => r.rule.id);
      if (read) scanned += 1;
      return found;
    };
    const command = 'mimikatz.exe sekurlsa::logonpasswords';
    // Any Windows channel, and an event with no channel at all (Elastic Endpoint's ECS carries none).
    expect(ids({ Channel: SYSMON, EventID: 1, CommandLine: command })).toEqual(['kw']);
    expect(ids({ Channel: 'Security', EventID: 4688, CommandLine: command })).toEqual(['kw']);
    expect(ids({ CommandLine: command })).toEqual(['kw']);
    expect(ids({ Channel: SYSMON, EventID: 15, Contents: command })).toEqual([]);
    expect(scanned).toBe(4);
    // A Zeek record (its log named in `_path`) is no Windows log: not matched, its values never read.
    expect(ids({ _path: 'http', uri: `/run?c=${command}` })).toEqual([]);
    expect(scanned).toBe(4);
  });
});

describe('SigmaRuleSet match order', () => {
  it("gives an event's matches in the set's order, whichever index found them first", () => {
    // The keyword rule sits in the index every event walks last, the process rule in its channel's bucket.
    const keyword = rule('kw', 'product: windows', "  keywords:\n    - 'sekurlsa::'\n  condition: keywords");
    const process = rule(
      'proc',
      'product: windows\n  category: process_creation',
      "  sel:\n    CommandLine|contains: 'sekurlsa'\n  condition: sel",
    );
    const event = objectFieldSource({
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      EventID: 1,
      CommandLine: 'mimikatz sekurlsa::logonpasswords',
    });
    const order = (rules: SigmaRule[]) =>
      new SigmaRuleSet(rules, defaultPipeline).match(event).map((r) => r.rule.id);
    expect(order([keyword, process])).toEqual(['kw', 'proc']);
    expect(order([process, keyword])).toEqual(['proc', 'kw']);
  });
});

describe('SigmaRuleSet substring gates on long values', () => {
  it('finds a key in a value too long to memoize, as written, in any case (skip scanner)', () => {
    const set = new SigmaRuleSet(
      [
        rule(
          'ps',
          'product: windows\n  category: ps_module',
          "  sel:\n    ContextInfo|contains: 'host application = powershell'\n  condition: sel",
        ),
      ],
      defaultPipeline,
    );
    const event = (context: string) =>
      objectFieldSource({
        Channel: 'Microsoft-Windows-PowerShell/Operational',
        EventID: 4103,
        ContextInfo: context,
      });
    const pad = 'Severity = Informational\r\n '.repeat(40);
    const ids = (context: string) => set.match(event(context)).map((r) => r.rule.id);
    expect(ids(`${pad}Host Application = PowerShell.exe -nop`)).toEqual(['ps']);
    expect(ids(`${pad}HOST APPLICATION = POWERSHELL`)).toEqual(['ps']);
    // U+212A (Kelvin sign) lower-cases to k: not in this key; an é in the padding must not shift the scan.
    expect(ids(`é${pad}Host Application = PowerShell`)).toEqual(['ps']);
    expect(ids(`${pad}Host Application = pwsh`)).toEqual([]);
    expect(ids(`${pad}Host Application =`)).toEqual([]);
  });
});

describe('generated detections', () => {
  it('carry values as literals: quotes, backslashes, line separators and code-like text match as written', () => {
    const odd = ['a"b', "c'd", 'e\\f', 'g\u2028h', '${x}`', '*/ }) || true; //', '\ud800'];
    const rules = odd.map((value, i) =>
      rule(
        `r${i}`,
        'product: windows',
        `  sel:\n    F: ${JSON.stringify(value.replace(/\\/g, '\\\\'))}\n  condition: sel`,
      ),
    );
    const set = new SigmaRuleSet(rules, defaultPipeline);
    odd.forEach((value, i) => {
      expect(set.match(objectFieldSource({ F: value })).map((r) => r.rule.id)).toEqual([`r${i}`]);
      expect(set.match(objectFieldSource({ F: `${value}x` }))).toEqual([]);
    });
  });
});
