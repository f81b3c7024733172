/**
 * The simulated organisation: one Active Directory domain, its machines (domain controllers, servers,
 * workstations; some with Elastic agents, some reporting only as flat Windows JSON), its accounts and
 * the long-running processes on every machine. Built once per run from the 'world' PRNG fork.
 */
import type { ImageInfo, SvchostName } from './catalog.js';
import { FIRST_NAMES, IMAGES, LAST_NAMES, SVCHOST_SERVICES } from './catalog.js';
import type { Rng } from './random.js';
import { hashString, Rng as RngClass } from './random.js';

export interface Account {
  readonly sid: string;
  readonly name: string;
  readonly domain: string;
  readonly kind: 'user' | 'admin' | 'machine' | 'builtin';
}

export interface DomainUser extends Account {
  readonly index: number;
  /** The workstation the user sits at (interactive logons, user processes). */
  home: Host;
}

export type HostRole = 'dc' | 'server' | 'workstation';

export interface OsInfo {
  readonly name: string;
  readonly build: string;
  readonly kernel: string;
  readonly version: string;
}

/** A running process: what Sysmon (ProcessGuid) and Elastic Endpoint (entity_id) know about it. */
export interface Proc {
  readonly guid: string;
  readonly pid: number;
  readonly info: ImageInfo;
  readonly image: string;
  readonly name: string;
  readonly commandLine: string;
  readonly account: Account;
  readonly startMs: number;
  readonly entityId: string;
  readonly integrity: 'System' | 'High' | 'Medium';
  readonly logonId: string;
  readonly logonGuid: string;
  readonly currentDirectory: string;
  readonly sessionId: string;
  readonly parent: Proc | null;
}

export interface Host {
  readonly index: number;
  /** NetBIOS name, upper case: WKS-0007. */
  readonly name: string;
  /** host.name / host.hostname as the Elastic agents report it (lower case). */
  readonly agentName: string;
  readonly fqdn: string;
  readonly role: HostRole;
  /** Reports only through the flat Windows JSON collector: no agent, no host.id, no Endpoint events. */
  readonly flat: boolean;
  readonly ip: string;
  readonly mac: string;
  /** host.id shared by Winlogbeat and Elastic Endpoint on this machine (null for flat hosts). */
  readonly id: string | null;
  readonly os: OsInfo;
  readonly machineAccount: Account;
  /** Flat hosts: the Hostname as the collector writes it (short or FQDN) and the Security channel's spelling. */
  readonly flatHostname: string;
  readonly flatSecurityChannel: 'Security' | 'security';
  /** Older Sysmon on flat hosts omits User on registry and file events (as in the public datasets). */
  readonly sysmonHasUser: boolean;
  readonly sysmonGuidPrefix: string;
  /** Pre-serialized JSON of the per-host parts of every record (built once). */
  readonly json: {
    readonly winlogbeatAgent: string;
    readonly winlogbeatHost: string;
    readonly endpointAgent: string;
    readonly endpointHost: string;
    readonly endpointAgentId: string;
  };
  readonly procs: HostProcs;
  /** Users whose home this is (workstations). */
  readonly residents: DomainUser[];
  counters: {
    security: number;
    sysmon: number;
    endpoint: number;
    process: number;
    pid: number;
    logon: number;
  };
}

export interface HostProcs {
  readonly system: Proc;
  readonly services: Proc;
  readonly lsass: Proc;
  readonly svchost: Readonly<Record<SvchostName, Proc>>;
  readonly msmpeng: Proc;
  readonly sysmon: Proc;
  readonly winlogbeat: Proc;
  /** Per resident user on workstations: their shell and two long-running apps. */
  readonly explorer: Map<string, Proc>;
  readonly chrome: Map<string, Proc>;
  readonly outlook: Map<string, Proc>;
}

export interface World {
  readonly domain: { readonly netbios: string; readonly dns: string; readonly sid: string };
  readonly hosts: readonly Host[];
  readonly agentHosts: readonly Host[];
  readonly flatHosts: readonly Host[];
  readonly dcs: readonly Host[];
  readonly servers: readonly Host[];
  readonly workstations: readonly Host[];
  readonly monitor: Host;
  readonly fileServer: Host;
  readonly users: readonly DomainUser[];
  readonly admins: readonly DomainUser[];
  readonly builtin: {
    readonly system: Account;
    readonly localService: Account;
    readonly networkService: Account;
    readonly anonymous: Account;
  };
  /** Addresses outside the managed fleet (VPN pool, an unmanaged laptop): where attacks come from. */
  readonly outsideIps: readonly string[];
  readonly hashes: Map<string, string>;
}

const DOMAIN = { netbios: 'ACME', dns: 'acme.corp' };

export function buildWorld(rng: Rng, hostCount: number, userCount: number, startMs: number): World {
  const domainSid = `S-1-5-21-${rng.range(1_000_000_000, 4_200_000_000)}-${rng.range(1_000_000_000, 4_200_000_000)}-${rng.range(1_000_000_000, 4_200_000_000)}`;
  const builtin = {
    system: { sid: 'S-1-5-18', name: 'SYSTEM', domain: 'NT AUTHORITY', kind: 'builtin' } as Account,
    localService: {
      sid: 'S-1-5-19',
      name: 'LOCAL SERVICE',
      domain: 'NT AUTHORITY',
      kind: 'builtin',
    } as Account,
    networkService: {
      sid: 'S-1-5-20',
      name: 'NETWORK SERVICE',
      domain: 'NT AUTHORITY',
      kind: 'builtin',
    } as Account,
    anonymous: {
      sid: 'S-1-5-7',
      name: 'ANONYMOUS LOGON',
      domain: 'NT AUTHORITY',
      kind: 'builtin',
    } as Account,
  };

  const dcCount = hostCount >= 20 ? 2 : 1;
  const serverCount = Math.max(2, Math.round(hostCount * 0.15));
  const serverNames = ['SRV-FS01', 'SRV-MON01', 'SRV-SQL01', 'SRV-WEB01', 'SRV-EXCH01', 'SRV-PRINT01'];
  const hosts: Host[] = [];
  const usedPrefixes = new Set<string>();
  const hashes = new Map<string, string>();
  let workstationNo = 0;
  for (let i = 0; i < hostCount; i++) {
    let role: HostRole;
    let name: string;
    if (i < dcCount) {
      role = 'dc';
      name = `DC${String(i + 1).padStart(2, '0')}`;
    } else if (i < dcCount + serverCount) {
      role = 'server';
      const s = i - dcCount;
      name = serverNames[s] ?? `SRV-APP${String(s - serverNames.length + 1).padStart(2, '0')}`;
    } else {
      role = 'workstation';
      workstationNo++;
      name = `WKS-${String(workstationNo).padStart(4, '0')}`;
    }
    // About one machine in five (never a DC, never the first two servers) has only the flat collector.
    const flat = role !== 'dc' && i >= dcCount + 2 && i % 5 === 4;
    hosts.push(makeHost(rng, i, name, role, flat, domainSid, startMs, builtin, usedPrefixes, hashes));
  }
  if (!hosts.some((h) => h.flat)) {
    // Make sure the flat format is present: the last workstation becomes a flat-only host.
    const last = hosts[hosts.length - 1] as Host;
    hosts[hosts.length - 1] = makeHost(
      rng,
      last.index,
      last.name,
      last.role,
      true,
      domainSid,
      startMs,
      builtin,
      usedPrefixes,
      hashes,
    );
  }

  const workstations = hosts.filter((h) => h.role === 'workstation');
  const homes = workstations.length > 0 ? workstations : hosts;
  const users: DomainUser[] = [];
  const usedNames = new Set<string>();
  const adminEvery = 10;
  for (let i = 0; i < userCount; i++) {
    const admin = i % adminEvery === 0 || i === 1;
    const first = FIRST_NAMES[(i * 7 + rng.int(FIRST_NAMES.length)) % FIRST_NAMES.length] as string;
    const last = LAST_NAMES[(i * 13 + rng.int(LAST_NAMES.length)) % LAST_NAMES.length] as string;
    let name = admin ? `adm-${first[0]}${last}` : `${first}.${last}`;
    if (usedNames.has(name)) name = `${name}${i}`;
    usedNames.add(name);
    const home = homes[i % homes.length] as Host;
    const user: DomainUser = {
      sid: `${domainSid}-${1104 + i}`,
      name,
      domain: DOMAIN.netbios,
      kind: admin ? 'admin' : 'user',
      index: i,
      home,
    };
    users.push(user);
    home.residents.push(user);
  }
  // Each resident gets a shell and long-running apps on their workstation.
  for (const h of hosts) {
    for (const u of h.residents) {
      const boot = h.procs.services.startMs;
      const logonMs = boot + rng.range(60_000, 3_600_000);
      const explorer = newProcess(
        rng,
        h,
        IMAGES.explorer,
        'C:\\Windows\\Explorer.EXE',
        u,
        logonMs,
        null,
        'Medium',
        hashes,
      );
      h.procs.explorer.set(u.sid, explorer);
      h.procs.chrome.set(
        u.sid,
        newProcess(
          rng,
          h,
          IMAGES.chrome,
          '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"',
          u,
          logonMs + rng.range(5_000, 900_000),
          explorer,
          'Medium',
          hashes,
        ),
      );
      h.procs.outlook.set(
        u.sid,
        newProcess(
          rng,
          h,
          IMAGES.outlook,
          '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"',
          u,
          logonMs + rng.range(5_000, 900_000),
          explorer,
          'Medium',
          hashes,
        ),
      );
    }
  }

  const servers = hosts.filter((h) => h.role === 'server');
  const outsideIps: string[] = [];
  for (let i = 0; i < 16; i++) outsideIps.push(`10.200.${rng.range(1, 8)}.${rng.range(10, 250)}`);
  return {
    domain: { ...DOMAIN, sid: domainSid },
    hosts,
    agentHosts: hosts.filter((h) => !h.flat),
    flatHosts: hosts.filter((h) => h.flat),
    dcs: hosts.filter((h) => h.role === 'dc'),
    servers,
    workstations,
    monitor: hosts.find((h) => h.name === 'SRV-MON01') ?? (servers[0] as Host),
    fileServer: hosts.find((h) => h.name === 'SRV-FS01') ?? (servers[0] as Host),
    users,
    admins: users.filter((u) => u.kind === 'admin'),
    builtin,
    outsideIps,
    hashes,
  };
}

function makeHost(
  rng: Rng,
  index: number,
  name: string,
  role: HostRole,
  flat: boolean,
  domainSid: string,
  startMs: number,
  builtin: World['builtin'],
  usedPrefixes: Set<string>,
  hashes: Map<string, string>,
): Host {
  const agentName = name.toLowerCase();
  const fqdn = `${name}.${DOMAIN.dns}`;
  const ip =
    role === 'dc'
      ? `10.10.0.${10 + index}`
      : role === 'server'
        ? `10.10.${1 + Math.floor(index / 240)}.${10 + (index % 240)}`
        : `10.10.${16 + Math.floor(index / 240)}.${10 + (index % 240)}`;
  const mac = `00-15-5D-${rng.hex(2)}-${rng.hex(2)}-${rng.hex(2)}`.toUpperCase();
  const os: OsInfo =
    role === 'workstation'
      ? rng.chance(0.7)
        ? {
            name: 'Windows 10 Enterprise',
            build: '19045.4046',
            kernel: '10.0.19041.4046 (WinBuild.160101.0800)',
            version: '10.0',
          }
        : {
            name: 'Windows 11 Enterprise',
            build: '22631.3155',
            kernel: '10.0.22621.3155 (WinBuild.160101.0800)',
            version: '10.0',
          }
      : rng.chance(0.5)
        ? {
            name: 'Windows Server 2019 Datacenter',
            build: '17763.5458',
            kernel: '10.0.17763.5458 (WinBuild.160101.0800)',
            version: '10.0',
          }
        : {
            name: 'Windows Server 2022 Datacenter',
            build: '20348.2322',
            kernel: '10.0.20348.2322 (WinBuild.160101.0800)',
            version: '10.0',
          };
  const id = flat ? null : rng.uuid();
  let prefix = rng.hex(8);
  while (usedPrefixes.has(prefix)) prefix = rng.hex(8);
  usedPrefixes.add(prefix);
  const agentId = rng.uuid();
  const endpointAgentId = rng.uuid();
  const osJson = {
    Ext: { variant: os.name },
    build: os.build,
    family: 'windows',
    full: `${os.name} ${os.build.split('.')[0]}`,
    kernel: os.kernel,
    name: 'Windows',
    platform: 'windows',
    type: 'windows',
    version: os.version,
  };
  const json = {
    winlogbeatAgent: JSON.stringify({
      ephemeral_id: rng.uuid(),
      id: agentId,
      name: agentName,
      type: 'winlogbeat',
      version: '8.12.2',
    }),
    winlogbeatHost: JSON.stringify({
      architecture: 'x86_64',
      hostname: agentName,
      id,
      ip: [ip, `fe80::${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}`],
      mac: [mac],
      name: agentName,
      os: {
        build: os.build,
        family: 'windows',
        kernel: os.kernel,
        name: os.name,
        platform: 'windows',
        type: 'windows',
        version: os.version,
      },
    }),
    endpointAgent: JSON.stringify({ id: endpointAgentId, type: 'endpoint', version: '8.12.2' }),
    endpointHost: JSON.stringify({
      architecture: 'x86_64',
      hostname: agentName,
      id,
      ip: [ip],
      mac: [mac.toLowerCase()],
      name: agentName,
      os: osJson,
    }),
    endpointAgentId,
  };
  const host: Host = {
    index,
    name,
    agentName,
    fqdn,
    role,
    flat,
    ip,
    mac,
    id,
    os,
    machineAccount: {
      sid: `${domainSid}-${5000 + index}`,
      name: `${name}$`,
      domain: DOMAIN.netbios,
      kind: 'machine',
    },
    flatHostname: rng.chance(0.5) ? name : fqdn,
    flatSecurityChannel: rng.chance(0.3) ? 'security' : 'Security',
    sysmonHasUser: !flat,
    sysmonGuidPrefix: prefix,
    json,
    procs: undefined as unknown as HostProcs,
    residents: [],
    counters: {
      security: rng.range(100_000, 9_000_000),
      sysmon: rng.range(10_000, 5_000_000),
      endpoint: rng.range(1_000_000, 90_000_000),
      process: rng.range(16, 400),
      pid: 600 + rng.int(200),
      logon: rng.range(0x100000, 0x9fffff),
    },
  };
  const boot = startMs - rng.range(3_600_000, 12 * 86_400_000);
  const system = newProcess(
    rng,
    host,
    systemImage,
    'System',
    builtin.system,
    boot,
    null,
    'System',
    hashes,
    4,
  );
  const services = newProcess(
    rng,
    host,
    IMAGES.services,
    'C:\\Windows\\system32\\services.exe',
    builtin.system,
    boot + 4_000,
    null,
    'System',
    hashes,
  );
  const lsass = newProcess(
    rng,
    host,
    IMAGES.lsass,
    'C:\\Windows\\system32\\lsass.exe',
    builtin.system,
    boot + 4_100,
    null,
    'System',
    hashes,
  );
  const svchost = {} as Record<SvchostName, Proc>;
  for (const s of SVCHOST_SERVICES) {
    const account =
      s.account === 'localService'
        ? builtin.localService
        : s.account === 'networkService'
          ? builtin.networkService
          : builtin.system;
    svchost[s.name] = newProcess(
      rng,
      host,
      IMAGES.svchost,
      s.cmd,
      account,
      boot + rng.range(5_000, 60_000),
      services,
      'System',
      hashes,
    );
  }
  const msmpeng = newProcess(
    rng,
    host,
    IMAGES.msmpeng,
    `"${IMAGES.msmpeng.image}"`,
    builtin.system,
    boot + 9_000,
    services,
    'System',
    hashes,
  );
  const sysmon = newProcess(
    rng,
    host,
    IMAGES.sysmon,
    'C:\\Windows\\Sysmon64.exe',
    builtin.system,
    boot + 7_000,
    services,
    'System',
    hashes,
  );
  const winlogbeat = newProcess(
    rng,
    host,
    IMAGES.winlogbeat,
    '"C:\\Program Files\\Winlogbeat\\winlogbeat.exe" --path.home "C:\\Program Files\\Winlogbeat" -c winlogbeat.yml',
    builtin.system,
    boot + 20_000,
    services,
    'System',
    hashes,
  );
  (host as { procs: HostProcs }).procs = {
    system,
    services,
    lsass,
    svchost,
    msmpeng,
    sysmon,
    winlogbeat,
    explorer: new Map(),
    chrome: new Map(),
    outlook: new Map(),
  };
  return host;
}

const systemImage: ImageInfo = {
  image: 'System',
  description: '-',
  product: '-',
  company: '-',
  originalFileName: '-',
  fileVersion: '-',
};

/**
 * A new process on `host`: the Sysmon ProcessGuid carries the machine prefix, the start time (seconds,
 * little-endian halves) and a per-host counter, so GUIDs never repeat within a run.
 */
export function newProcess(
  rng: Rng,
  host: Host,
  info: ImageInfo,
  commandLine: string,
  account: Account,
  startMs: number,
  parent: Proc | null,
  integrity: Proc['integrity'],
  hashes: Map<string, string>,
  fixedPid?: number,
): Proc {
  const c = ++host.counters.process;
  const sec = Math.floor(startMs / 1000) >>> 0;
  const lo = (sec & 0xffff).toString(16).padStart(4, '0');
  const hi = ((sec >>> 16) & 0xffff).toString(16).padStart(4, '0');
  const le = (c & 0xff).toString(16).padStart(2, '0') + ((c >>> 8) & 0xff).toString(16).padStart(2, '0');
  const guid = `{${host.sysmonGuidPrefix}-${lo}-${hi}-${le}-${(c >>> 16).toString(16).padStart(8, '0')}0700}`;
  host.counters.pid += 4 * rng.range(1, 40);
  if (host.counters.pid > 65_000) host.counters.pid = 600 + rng.int(400);
  const pid = fixedPid ?? host.counters.pid;
  const image = info.image.includes('%USER%') ? info.image.replace('%USER%', account.name) : info.image;
  const fileTime = (BigInt(startMs) + 11_644_473_600_000n) * 10_000n;
  const entityId = Buffer.from(`${host.json.endpointAgentId}-${pid}-${fileTime}`).toString('base64');
  if (!hashes.has(image)) hashes.set(image, fakeHashes(image));
  const isUser = account.kind === 'user' || account.kind === 'admin';
  return {
    guid,
    pid,
    info,
    image,
    name: image.slice(image.lastIndexOf('\\') + 1),
    commandLine,
    account,
    startMs,
    entityId,
    integrity,
    logonId: isUser
      ? `0x${(host.counters.logon += rng.range(16, 4096)).toString(16)}`
      : account.sid === 'S-1-5-18'
        ? '0x3e7'
        : account.sid === 'S-1-5-19'
          ? '0x3e5'
          : '0x3e4',
    logonGuid: `{${host.sysmonGuidPrefix}-${lo}-${hi}-${rng.hex(4)}-${rng.hex(12)}}`,
    currentDirectory: isUser ? `C:\\Users\\${account.name}\\` : 'C:\\Windows\\system32\\',
    sessionId: isUser ? '1' : '0',
    parent,
  };
}

/** Stable, image-specific hash strings in Sysmon's format (not real hashes of anything). */
function fakeHashes(image: string): string {
  const r = new RngClass(hashString(image.toLowerCase()));
  return `SHA1=${r.hex(40)},MD5=${r.hex(32)},SHA256=${r.hex(64)},IMPHASH=${r.hex(32)}`.toUpperCase();
}

export function qualifiedName(a: Account): string {
  return `${a.domain}\\${a.name}`;
}
