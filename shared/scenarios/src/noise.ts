/**
 * Benign background activity, generated lazily in event-time order: short "stories" (a user opens an
 * app, a service account logs on and off, a workstation queries a domain controller over RPC) start at
 * Poisson-spaced times and schedule their events into a heap, which the stream drains in order.
 *
 * The noise is built so it can never complete one of the four seed analytics: no winreg create/set over
 * SMB, no ImagePath under Services, no `Software\Remcos` key, no hive header in any file event, and no
 * network logon for a (host, user) pair a scenario reserved. It does contain the look-alikes a real
 * network has (read-only winreg, Services\...\Start writes, svchost writing non-hive files as a user).
 */
import { BinaryHeap } from '@sequor/model';
import { IMAGES, LEGIT_SERVICES, RPC_NOISE, SERVICE_NAMES } from './catalog.js';
import type { RawEvent, ZeekRow } from './events.js';
import {
  fileCreated,
  fileEvent,
  logoff,
  logonFailure,
  logonSuccess,
  networkConnect,
  newLogonId,
  processCreate,
  registryKeyEvent,
  registryValueSet,
  specialPrivileges,
  zeekRow,
  zeekUid,
} from './events.js';
import { keyThenSeq } from './heap.js';
import type { ResolvedScenarioOptions } from './options.js';
import type { Rng } from './random.js';
import type { LogonReservations, TimedEvent } from './timeline.js';
import type { Account, DomainUser, Host, Proc, World } from './world.js';
import { newProcess } from './world.js';

type Story = (g: NoiseGenerator, t: number) => void;

const INTERNET = [
  '142.250.74.110',
  '13.107.42.14',
  '52.96.165.34',
  '20.190.151.7',
  '151.101.1.69',
  '104.18.32.7',
  '23.215.0.136',
  '40.126.32.133',
];
const INTERNET_NAMES = [
  'www.google.com',
  'outlook.office365.com',
  'login.microsoftonline.com',
  'www.bbc.co.uk',
  'www.cloudflare.com',
  'update.microsoft.com',
];

/** Headers (first 16 bytes, hex) of the ordinary files the endpoint sees: none of them "regf". */
const HEADERS = {
  pdf: '255044462d312e370a25e2e3cfd30a31',
  zip: '504b0304140006000800000021003a4f',
  png: '89504e470d0a1a0a0000000d49484452',
  prefetch: '4d414d0436b30000a5e38e1c8d4a7e07',
  sqliteWal: '377f0682002de218000010000000000b',
  etl: '00400000010000004404000000000000',
  xmlUtf16: 'fffe3c003f0078006d006c0020007600',
  pe: '4d5a90000300000004000000ffff0000',
  tmp: '01000000d08c9ddf0115d1118c7a00c0',
  lastalive: '0a4e6f0000000000c4f35d8a6a6fda01',
} as const;

export class NoiseGenerator {
  readonly heap = new BinaryHeap<TimedEvent>(keyThenSeq);
  private clock: number;
  private seq = 0;
  private budget: number;
  private readonly meanGapMs: number;
  private readonly stories: readonly Story[];
  private readonly cumulative: readonly number[];
  /** Emitted noise events, late ones included. */
  emitted = 0;
  lateEmitted = 0;

  constructor(
    readonly world: World,
    readonly opts: ResolvedScenarioOptions,
    readonly rng: Rng,
    private readonly lateRng: Rng,
    readonly reservations: LogonReservations,
    budget: number,
  ) {
    this.clock = opts.startMs;
    this.budget = budget;
    this.meanGapMs = 1000 / opts.rate;
    const weighted: [Story, number][] = [
      [userAppLaunch, 12],
      [registryNoise, 16],
      [registryKeyNoise, 5],
      [sysmonFileNoise, 6],
      [endpointFileNoise, 12],
      [svchostUserFileNoise, 3],
      [networkConnectNoise, 8],
      [serviceLogon, 5],
      [interactiveLogon, 3],
      [userNetworkLogon, 12],
      [machineNetworkLogon, 6],
      [anonymousNetworkLogon, 1],
      [failedLogon, 2],
      [serviceStart, 2],
      [scheduledTask, 4],
      [rpcConversation, 10],
    ];
    this.stories = weighted.map(([s]) => s);
    let sum = 0;
    this.cumulative = weighted.map(([, w]) => (sum += w));
  }

  get remaining(): number {
    return this.budget;
  }

  /** Event time of the next noise event, or undefined when the noise is exhausted. */
  peekTs(): number | undefined {
    this.fill();
    return this.heap.peek()?.key;
  }

  /** The next noise event in event-time order; with probability `late`, a late event follows it. */
  pop(): TimedEvent | undefined {
    this.fill();
    const item = this.heap.pop();
    if (item === undefined) return undefined;
    this.emitted++;
    if (this.opts.late > 0 && this.budget > 0 && this.lateRng.chance(this.opts.late)) {
      const lateTs = item.key - this.opts.lateByMs - this.lateRng.int(1000);
      if (lateTs >= this.opts.startMs) {
        const ev = this.lateTwin(item, lateTs);
        if (ev !== null) {
          this.budget--;
          this.emitted++;
          this.lateEmitted++;
          item.follower = {
            key: lateTs,
            seq: this.seq++,
            host: item.host,
            ev,
            tag: -1,
            late: true,
            follower: null,
          };
        }
      }
    }
    return item;
  }

  /** Schedule one noise event (dropped once the budget is spent: stories may be cut short). */
  emit(ts: number, host: Host | null, ev: RawEvent): void {
    if (this.budget <= 0) return;
    this.budget--;
    this.heap.push({ key: Math.round(ts), seq: this.seq++, host, ev, tag: -1, late: false, follower: null });
  }

  private fill(): void {
    while (this.budget > 0) {
      const top = this.heap.peek();
      if (top !== undefined && top.key < this.clock) return;
      const before = this.budget;
      const story = this.pickStory();
      story(this, this.clock);
      const used = Math.max(1, before - this.budget);
      this.clock += Math.max(1, Math.round(this.rng.exponential(this.meanGapMs * used)));
    }
  }

  private pickStory(): Story {
    const total = this.cumulative[this.cumulative.length - 1] as number;
    const x = this.rng.next() * total;
    for (let i = 0; i < this.cumulative.length; i++)
      if (x < (this.cumulative[i] as number)) return this.stories[i] as Story;
    return this.stories[this.stories.length - 1] as Story;
  }

  /**
   * A single noise event of the same host and the same file as `anchor`, at `ts`: the late event.
   * Zeek rows stay in the anchor's connection (same uid and addresses).
   */
  private lateTwin(anchor: TimedEvent, ts: number): RawEvent | null {
    const r = this.lateRng;
    const ev = anchor.ev;
    if (ev.kind === 'zeek') {
      const ops = OPS_BY_ENDPOINT.get(ev.endpoint) ?? [ev.operation];
      return zeekRow(
        r,
        ev.uid,
        ev.origH,
        ev.origP,
        ev.respH,
        ev.respP,
        ev.namedPipe,
        ev.endpoint,
        r.pick(ops),
      );
    }
    const host = anchor.host;
    if (host === null) return null;
    if (ev.kind === 'file') return endpointFileEvent(this, host, ts, r);
    return singleWindowsEvent(this, host, ts, r);
  }

  // --- helpers the stories share ---

  pickHost(): Host {
    return this.rng.pick(this.world.hosts);
  }

  pickAgentHost(): Host {
    return this.rng.pick(this.world.agentHosts);
  }

  pickServer(): Host {
    const r = this.rng.next();
    if (r < 0.35) return this.rng.pick(this.world.dcs);
    return this.world.servers.length > 0 ? this.rng.pick(this.world.servers) : this.rng.pick(this.world.dcs);
  }

  /** A user sitting at `host`, or null for machines nobody logs on to interactively. */
  residentOf(host: Host): DomainUser | null {
    return host.residents.length === 0 ? null : this.rng.pick(host.residents);
  }

  ephemeralPort(): number {
    return this.rng.range(49152, 65535);
  }
}

/** Operations by Zeek endpoint name, for late rows that stay in their connection. */
const OPS_BY_ENDPOINT: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(RPC_NOISE).map(([k, v]) => [k === 'winregRead' ? 'winreg' : k, v.ops] as const),
);

// --- Windows single events (also used for late events) ---

function singleWindowsEvent(g: NoiseGenerator, host: Host, ts: number, r: Rng): RawEvent {
  const x = r.int(4);
  if (x === 0) return registryNoiseEvent(host, ts, r);
  if (x === 1) {
    const proc = r.pick([host.procs.msmpeng, host.procs.svchost.Dnscache, host.procs.svchost.wuauserv]);
    return networkConnect(
      ts,
      proc,
      host.ip,
      r.range(49152, 65535),
      r.pick(INTERNET),
      r.pick(INTERNET_NAMES),
      443,
      'https',
    );
  }
  if (x === 2)
    return fileCreated(
      host,
      ts,
      host.procs.svchost.SysMain,
      `C:\\Windows\\Prefetch\\${r.pick(['CHROME.EXE', 'SVCHOST.EXE', 'CONHOST.EXE', 'TASKHOSTW.EXE', 'MSEDGE.EXE'])}-${r.hex(8).toUpperCase()}.pf`,
    );
  return logonSuccess(host, r, { type: 5, target: g.world.builtin.system, auth: 'Negotiate' });
}

/** One benign registry value write; never ImagePath under Services, never Software\Remcos. */
function registryNoiseEvent(host: Host, ts: number, r: Rng): RawEvent {
  const u = host.residents.length > 0 ? r.pick(host.residents) : null;
  const choice = r.int(9);
  if (u !== null && choice <= 2) {
    const explorer = host.procs.explorer.get(u.sid) as Proc;
    if (choice === 0) {
      return registryValueSet(
        host,
        ts,
        explorer,
        `HKU\\${u.sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count\\${r.pick(['HRZR_PGYFRFFVBA', '{1NP14R77-02R7-4R5Q-O744-2RO1NR5198O7}\\pzq.rkr', 'Zvpebfbsg.Jvaqbjf.Rkcybere', '{6Q809377-6NS0-444O-8957-N3773S02200R}\\Tbbtyr\\Puebzr\\Nccyvpngvba\\puebzr.rkr'])}`,
        'Binary Data',
      );
    }
    if (choice === 1) {
      return registryValueSet(
        host,
        ts,
        explorer,
        `HKU\\${u.sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\OneDrive`,
        `"C:\\Users\\${u.name}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background`,
      );
    }
    return registryValueSet(
      host,
      ts,
      host.procs.svchost.Schedule,
      `HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\${u.sid}\\\\Device\\HarddiskVolume3\\Windows\\System32\\${r.pick(['notepad.exe', 'cmd.exe', 'mmc.exe', 'taskmgr.exe'])}`,
      'Binary Data',
    );
  }
  switch (choice) {
    case 3:
      return registryValueSet(
        host,
        ts,
        host.procs.services,
        `HKLM\\System\\CurrentControlSet\\Services\\${r.pick(SERVICE_NAMES)}\\Start`,
        r.pick(['DWORD (0x00000002)', 'DWORD (0x00000003)', 'DWORD (0x00000004)']),
      );
    case 4:
      return registryValueSet(
        host,
        ts,
        host.procs.svchost.W32Time,
        'HKLM\\System\\CurrentControlSet\\Services\\W32Time\\Config\\LastKnownGoodTime',
        `QWORD (0x${r.hex(8)}-0x${r.hex(8)})`,
      );
    case 5:
      return registryValueSet(
        host,
        ts,
        host.procs.svchost.Dhcp,
        `HKLM\\System\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}}\\${r.pick(['DhcpIPAddress', 'LeaseObtainedTime', 'T1', 'T2'])}`,
        r.pick([host.ip, `DWORD (0x${r.hex(8)})`]),
      );
    case 6:
      return registryValueSet(
        host,
        ts,
        host.procs.msmpeng,
        `HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\${r.pick(['SignaturesLastUpdated', 'AVSignatureVersion', 'LastFallbackTime'])}`,
        r.pick(['Binary Data', `1.407.${r.range(100, 999)}.0`, `QWORD (0x${r.hex(8)}-0x${r.hex(8)})`]),
      );
    case 7: {
      const svc = r.pick(LEGIT_SERVICES);
      return registryValueSet(
        host,
        ts,
        host.procs.services,
        `HKLM\\System\\CurrentControlSet\\Services\\${svc.name}\\Description`,
        `@${svc.display}`,
      );
    }
    default:
      return registryValueSet(
        host,
        ts,
        host.procs.svchost.wuauserv,
        `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\${r.pick(['LastOnlineScanTimeForAppCategory', 'DetectionStartTime', 'ScheduledInstallDate'])}`,
        `QWORD (0x${r.hex(8)}-0x${r.hex(8)})`,
      );
  }
}

/** A file event as Elastic Endpoint reports it; never a registry hive. */
function endpointFileEvent(g: NoiseGenerator, host: Host, ts: number, r: Rng): RawEvent {
  const u = host.residents.length > 0 ? r.pick(host.residents) : null;
  const choice = r.int(u === null ? 4 : 8);
  switch (choice) {
    case 0:
      return fileEvent(
        'creation',
        `C:\\Windows\\Prefetch\\${r.pick(['CHROME.EXE', 'SVCHOST.EXE', 'CONHOST.EXE', 'RUNTIMEBROKER.EXE'])}-${r.hex(8).toUpperCase()}.pf`,
        r.range(4_000, 60_000),
        HEADERS.prefetch,
        host.procs.svchost.SysMain,
        g.world.builtin.system,
      );
    case 1:
      return fileEvent(
        'modification',
        `C:\\Windows\\ServiceState\\EventLog\\Data\\lastalive${r.int(2)}.dat`,
        2048,
        HEADERS.lastalive,
        host.procs.svchost.EventLog,
        g.world.builtin.localService,
      );
    case 2:
      return fileEvent(
        'creation',
        `C:\\Windows\\Temp\\${r.hex(8).toUpperCase()}-${r.hex(4).toUpperCase()}.tmp`,
        r.range(512, 400_000),
        HEADERS.tmp,
        host.procs.svchost.wuauserv,
        g.world.builtin.system,
      );
    case 3:
      return fileEvent(
        'creation',
        `C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\DetectionHistory\\${r.hex(2)}\\${r.hex(32).toUpperCase()}`,
        r.range(800, 9000),
        HEADERS.etl,
        host.procs.msmpeng,
        g.world.builtin.system,
      );
    case 4: {
      const user = u as DomainUser;
      const [ext, header] = r.pick([
        ['pdf', HEADERS.pdf],
        ['zip', HEADERS.zip],
        ['png', HEADERS.png],
        ['docx', HEADERS.zip],
      ] as const);
      return fileEvent(
        'creation',
        `C:\\Users\\${user.name}\\Downloads\\${r.pick(['invoice', 'report', 'slides', 'Q1-figures', 'screenshot', 'agenda'])}_${r.range(1, 999)}.${ext}`,
        r.range(20_000, 5_000_000),
        header,
        host.procs.chrome.get(user.sid) as Proc,
        user,
      );
    }
    case 5: {
      const user = u as DomainUser;
      return fileEvent(
        'creation',
        `C:\\Users\\${user.name}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\f_${r.hex(6)}`,
        r.range(300, 200_000),
        r.pick([HEADERS.png, HEADERS.zip, HEADERS.tmp]),
        host.procs.chrome.get(user.sid) as Proc,
        user,
      );
    }
    case 6: {
      const user = u as DomainUser;
      return fileEvent(
        'creation',
        `C:\\Users\\${user.name}\\AppData\\Local\\Microsoft\\Outlook\\RoamCache\\Stream_${r.pick(['Autocomplete', 'Calendar', 'TableViewPreviewPrefs'])}_${r.hex(32).toUpperCase()}.dat`,
        r.range(500, 90_000),
        HEADERS.tmp,
        host.procs.outlook.get(user.sid) as Proc,
        user,
      );
    }
    default: {
      // svchost running a per-user service writes as that user: a file event with process svchost.exe and
      // a user SID S-1-5-21-..., sometimes large, but never a hive (the credential-access look-alike).
      const user = u as DomainUser;
      return fileEvent(
        'modification',
        `C:\\Users\\${user.name}\\AppData\\Local\\ConnectedDevicesPlatform\\L.${user.name}\\ActivitiesCache.db-wal`,
        r.range(30_000, 4_000_000),
        HEADERS.sqliteWal,
        host.procs.svchost.CDPUserSvc,
        user,
      );
    }
  }
}

// --- stories ---

const userAppLaunch: Story = (g, t) => {
  const host = g.rng.pick(g.world.workstations.length > 0 ? g.world.workstations : g.world.hosts);
  const user = g.residentOf(host);
  if (user === null) return registryNoise(g, t);
  const r = g.rng;
  const explorer = host.procs.explorer.get(user.sid) as Proc;
  const app = r.pick([
    IMAGES.chrome,
    IMAGES.msedge,
    IMAGES.winword,
    IMAGES.excel,
    IMAGES.notepad,
    IMAGES.cmd,
    IMAGES.powershell,
  ]);
  const doc = `C:\\Users\\${user.name}\\Documents\\${r.pick(['budget', 'minutes', 'plan', 'notes', 'contract'])}-${r.range(1, 99)}`;
  const cmd =
    app === IMAGES.winword
      ? `"${app.image}" /n "${doc}.docx" /o ""`
      : app === IMAGES.excel
        ? `"${app.image}" "${doc}.xlsx"`
        : app === IMAGES.notepad
          ? `"${app.image}" ${doc}.txt`
          : app === IMAGES.powershell
            ? `"${app.image}" -NoProfile -Command "Get-ChildItem \\\\${g.world.fileServer.name}\\shares\\${r.pick(['finance', 'hr', 'it', 'projects'])}"`
            : `"${app.image}"`;
  const proc = newProcess(r, host, app, cmd, user, t, explorer, 'Medium', g.world.hashes);
  g.emit(t, host, processCreate(proc, g.world.hashes));
  if (app === IMAGES.cmd || app === IMAGES.powershell) {
    const conhost = newProcess(
      r,
      host,
      IMAGES.conhost,
      '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1',
      user,
      t + r.range(5, 40),
      proc,
      'Medium',
      g.world.hashes,
    );
    g.emit(conhost.startMs, host, processCreate(conhost, g.world.hashes));
  }
  if (r.chance(0.5)) {
    const at = t + r.range(300, 8_000);
    const file =
      app === IMAGES.winword
        ? `C:\\Users\\${user.name}\\AppData\\Roaming\\Microsoft\\Word\\~WRL${r.range(1000, 9999)}.tmp`
        : `C:\\Users\\${user.name}\\AppData\\Local\\Temp\\${r.hex(8)}.tmp`;
    g.emit(at, host, fileCreated(host, at, proc, file));
    if (!host.flat)
      g.emit(at + 1, host, fileEvent('creation', file, r.range(0, 80_000), HEADERS.tmp, proc, user));
  }
  if (r.chance(0.4)) {
    const at = t + r.range(200, 3_000);
    g.emit(
      at,
      host,
      networkConnect(
        at,
        proc,
        host.ip,
        g.ephemeralPort(),
        r.pick(INTERNET),
        r.pick(INTERNET_NAMES),
        443,
        'https',
      ),
    );
  }
};

const registryNoise: Story = (g, t) => {
  const host = g.pickHost();
  g.emit(t, host, registryNoiseEvent(host, t, g.rng));
};

const registryKeyNoise: Story = (g, t) => {
  const host = g.pickHost();
  const r = g.rng;
  const u = g.residentOf(host);
  if (u !== null && r.chance(0.6)) {
    g.emit(
      t,
      host,
      registryKeyEvent(
        host,
        t,
        host.procs.explorer.get(u.sid) as Proc,
        `HKU\\${u.sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FeatureUsage\\${r.pick(['AppSwitched', 'ShowJumpView', 'AppBadgeUpdated'])}`,
        'CreateKey',
      ),
    );
  } else {
    g.emit(
      t,
      host,
      registryKeyEvent(
        host,
        t,
        host.procs.svchost.wuauserv,
        `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Orchestrator\\UScheduler\\${r.range(10000, 99999)}`,
        r.pick(['CreateKey', 'DeleteKey'] as const),
      ),
    );
  }
};

const sysmonFileNoise: Story = (g, t) => {
  const host = g.pickHost();
  const r = g.rng;
  const x = r.int(3);
  const path =
    x === 0
      ? `C:\\Windows\\Prefetch\\${r.pick(['CHROME.EXE', 'SVCHOST.EXE', 'CONHOST.EXE', 'TASKHOSTW.EXE'])}-${r.hex(8).toUpperCase()}.pf`
      : x === 1
        ? `C:\\Windows\\ServiceProfiles\\NetworkService\\AppData\\Local\\Temp\\__PSScriptPolicyTest_${r.letters(8).toLowerCase()}.${r.letters(3).toLowerCase()}.ps1`
        : `C:\\Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator\\${r.pick(['Schedule Scan', 'Report policies', 'USO_UxBroker'])}`;
  const proc =
    x === 0
      ? host.procs.svchost.SysMain
      : x === 1
        ? host.procs.svchost.Dnscache
        : host.procs.svchost.Schedule;
  g.emit(t, host, fileCreated(host, t, proc, path));
};

const endpointFileNoise: Story = (g, t) => {
  const host = g.pickAgentHost();
  g.emit(t, host, endpointFileEvent(g, host, t, g.rng));
  if (g.rng.chance(0.25)) g.emit(t + g.rng.range(1, 900), host, endpointFileEvent(g, host, t, g.rng));
};

/** svchost.exe writing files in System32\Temp-like places as SYSTEM or as a user, none of them hives. */
const svchostUserFileNoise: Story = (g, t) => {
  const host = g.pickAgentHost();
  const r = g.rng;
  const u = g.residentOf(host);
  if (u !== null) {
    g.emit(
      t,
      host,
      fileEvent(
        'creation',
        `C:\\Users\\${u.name}\\AppData\\Local\\Microsoft\\Windows\\Notifications\\wpndatabase.db-wal`,
        r.range(4_000, 600_000),
        HEADERS.sqliteWal,
        host.procs.svchost.WpnUserService,
        u,
      ),
    );
  } else {
    g.emit(
      t,
      host,
      fileEvent(
        'creation',
        `C:\\Windows\\System32\\${r.letters(8)}.tmp`,
        r.range(1_000, 90_000),
        r.pick([HEADERS.tmp, HEADERS.xmlUtf16]),
        host.procs.svchost.Winmgmt,
        g.world.builtin.system,
      ),
    );
  }
};

const networkConnectNoise: Story = (g, t) => {
  const host = g.pickHost();
  const r = g.rng;
  const u = g.residentOf(host);
  if (u !== null && r.chance(0.6)) {
    const proc = r.chance(0.6)
      ? (host.procs.chrome.get(u.sid) as Proc)
      : (host.procs.outlook.get(u.sid) as Proc);
    g.emit(
      t,
      host,
      networkConnect(
        t,
        proc,
        host.ip,
        g.ephemeralPort(),
        r.pick(INTERNET),
        r.pick(INTERNET_NAMES),
        443,
        'https',
      ),
    );
  } else {
    const dc = r.pick(g.world.dcs);
    const [port, name] = r.pick([
      [389, 'ldap'],
      [88, 'kerberos'],
      [135, 'epmap'],
      [53, 'domain'],
    ] as const);
    g.emit(
      t,
      host,
      networkConnect(t, host.procs.lsass, host.ip, g.ephemeralPort(), dc.ip, dc.fqdn, port, name),
    );
  }
};

const serviceLogon: Story = (g, t) => {
  const host = g.pickHost();
  const r = g.rng;
  const target = r.pick([
    g.world.builtin.system,
    g.world.builtin.system,
    g.world.builtin.localService,
    g.world.builtin.networkService,
  ]);
  const logonId = target.sid === 'S-1-5-18' ? '0x3e7' : target.sid === 'S-1-5-19' ? '0x3e5' : '0x3e4';
  g.emit(t, host, logonSuccess(host, r, { type: 5, target, auth: 'Negotiate', logonId }));
  g.emit(t + r.range(0, 3), host, specialPrivileges(target, logonId));
};

const interactiveLogon: Story = (g, t) => {
  const host = g.rng.pick(g.world.workstations.length > 0 ? g.world.workstations : g.world.hosts);
  const user = g.residentOf(host);
  if (user === null) return serviceLogon(g, t);
  const r = g.rng;
  const type = r.pick([2, 7, 7, 11] as const);
  const logonId = newLogonId(host, r);
  g.emit(t, host, logonSuccess(host, r, { type, target: user, auth: 'Negotiate', logonId }));
  if (user.kind === 'admin') g.emit(t + r.range(0, 3), host, specialPrivileges(user, logonId));
};

/** A user's workstation authenticates to a server (file share, SQL, DC): type 3, mostly Kerberos. */
const userNetworkLogon: Story = (g, t) => {
  const r = g.rng;
  const server = g.pickServer();
  let target: Account = r.pick(g.world.users);
  const from = (target as DomainUser).home;
  if (g.reservations.isReserved(server, target.sid, t)) target = from.machineAccount;
  const ntlm = r.chance(0.2);
  const logonId = newLogonId(server, r);
  g.emit(
    t,
    server,
    logonSuccess(server, r, {
      type: 3,
      target,
      auth: ntlm ? 'NTLM' : 'Kerberos',
      ip: from.ip,
      port: String(g.ephemeralPort()),
      workstation: ntlm ? from.name : '-',
      logonId,
    }),
  );
  if (target.kind === 'admin') g.emit(t + r.range(0, 3), server, specialPrivileges(target, logonId));
  g.emit(t + r.range(200, 45_000), server, logoff(target, logonId, 3));
};

const machineNetworkLogon: Story = (g, t) => {
  const r = g.rng;
  const dc = r.pick(g.world.dcs);
  const from = g.pickHost();
  const logonId = newLogonId(dc, r);
  g.emit(
    t,
    dc,
    logonSuccess(dc, r, {
      type: 3,
      target: from.machineAccount,
      auth: 'Kerberos',
      ip: from.ip,
      port: String(g.ephemeralPort()),
      logonId,
    }),
  );
  g.emit(t + r.range(0, 3), dc, specialPrivileges(from.machineAccount, logonId));
  g.emit(t + r.range(50, 5_000), dc, logoff(from.machineAccount, logonId, 3));
};

/** Null sessions (printer discovery, legacy apps): ANONYMOUS LOGON over NTLM. */
const anonymousNetworkLogon: Story = (g, t) => {
  const r = g.rng;
  const server = g.pickServer();
  const from = g.pickHost();
  if (g.reservations.isReserved(server, g.world.builtin.anonymous.sid, t)) return machineNetworkLogon(g, t);
  const logonId = newLogonId(server, r);
  g.emit(
    t,
    server,
    logonSuccess(server, r, {
      type: 3,
      target: g.world.builtin.anonymous,
      auth: 'NTLM',
      ip: from.ip,
      port: String(g.ephemeralPort()),
      workstation: from.name,
      logonId,
    }),
  );
  g.emit(t + r.range(20, 3_000), server, logoff(g.world.builtin.anonymous, logonId, 3));
};

const failedLogon: Story = (g, t) => {
  const r = g.rng;
  const server = g.pickServer();
  const user = r.pick(g.world.users);
  const name = r.chance(0.3) ? `${user.name.slice(0, -1)}` : user.name;
  g.emit(
    t,
    server,
    logonFailure(server, { ...user, name }, user.home.ip, String(g.ephemeralPort()), user.home.name),
  );
};

const serviceStart: Story = (g, t) => {
  const host = g.pickHost();
  const r = g.rng;
  const svc = r.pick(['BITS', 'TrustedInstaller', 'wuauserv', 'DsSvc', 'lfsvc', 'WpnService']);
  const proc = newProcess(
    r,
    host,
    IMAGES.svchost,
    `C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s ${svc}`,
    g.world.builtin.system,
    t,
    host.procs.services,
    'System',
    g.world.hashes,
  );
  g.emit(t, host, processCreate(proc, g.world.hashes));
};

const scheduledTask: Story = (g, t) => {
  const host = g.pickHost();
  const r = g.rng;
  const u = g.residentOf(host);
  const x = r.int(3);
  const [info, cmd, account] =
    x === 0 && u !== null
      ? [IMAGES.taskhostw, 'taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly', u]
      : x === 1
        ? [
            IMAGES.mpCmdRun,
            `"${IMAGES.mpCmdRun.image}" -IdleTask -TaskName WdCacheMaintenance`,
            g.world.builtin.system,
          ]
        : [IMAGES.gpupdate, 'gpupdate.exe /target:computer', g.world.builtin.system];
  const proc = newProcess(
    r,
    host,
    info,
    cmd,
    account,
    t,
    host.procs.svchost.Schedule,
    account.kind === 'builtin' ? 'System' : 'Medium',
    g.world.hashes,
  );
  g.emit(t, host, processCreate(proc, g.world.hashes));
  if (info === IMAGES.gpupdate) {
    const at = t + r.range(100, 2_000);
    const dc = r.pick(g.world.dcs);
    g.emit(
      at,
      host,
      networkConnect(at, proc, host.ip, g.ephemeralPort(), dc.ip, dc.fqdn, 445, 'microsoft-ds'),
    );
  }
};

/** A DCE-RPC conversation the Zeek sensor logs: 2-5 rows on one connection. */
const rpcConversation: Story = (g, t) => {
  const r = g.rng;
  const w = g.world;
  const x = r.int(100);
  let orig: Host;
  let resp: Host;
  let iface: keyof typeof RPC_NOISE;
  let respP = 445;
  if (x < 25) {
    orig = g.pickHost();
    resp = r.pick(w.dcs);
    iface = r.chance(0.5) ? 'lsarpc' : 'samr';
  } else if (x < 40) {
    orig = g.pickHost();
    resp = w.fileServer;
    iface = 'srvsvc';
  } else if (x < 55) {
    orig = g.pickHost();
    resp = r.pick(w.dcs);
    iface = 'netlogon';
    respP = r.pick([49668, 49670]);
  } else if (x < 65) {
    orig = g.pickHost();
    resp = r.pick(w.dcs);
    iface = 'epmapper';
    respP = 135;
  } else if (x < 72) {
    // Replication between domain controllers, or an admin tool resolving names against the only DC.
    orig = w.dcs.length > 1 ? r.pick(w.dcs) : w.monitor;
    resp = w.dcs.length > 1 ? (w.dcs.find((d) => d !== orig) as Host) : (w.dcs[0] as Host);
    iface = 'drsuapi';
    respP = 49667;
  } else if (x < 88) {
    // The monitoring server reads registry values of other machines: read-only winreg over SMB.
    orig = w.monitor;
    resp = g.pickHost();
    iface = 'winregRead';
  } else {
    orig = w.monitor;
    resp = g.pickHost();
    iface = 'svcctl';
  }
  const spec = RPC_NOISE[iface];
  const endpoint = iface === 'winregRead' ? 'winreg' : iface;
  const pipe = respP === 445 ? spec.pipe : String(respP);
  const uid = zeekUid(r);
  const origP = g.ephemeralPort();
  const rows = r.range(2, 5);
  let at = t;
  for (let i = 0; i < rows; i++) {
    const op = i === 0 ? (spec.ops[0] as string) : r.pick(spec.ops);
    g.emit(at, null, zeekRow(r, uid, orig.ip, origP, resp.ip, respP, pipe, endpoint, op) satisfies ZeekRow);
    at += r.range(1, 120);
  }
};
