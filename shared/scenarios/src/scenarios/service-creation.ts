/**
 * Splunk "Windows Service Creation Using Registry Entry": Sysmon 13 writes of `ImagePath` under
 * `\SYSTEM\CurrentControlSet\Services`, one alert per (host, user, path, data, process GUID) per 1h
 * event-time bucket, at the first write. The published analytic fires on legitimate installers too,
 * and ground truth says so (benign: true).
 *
 * Per instance: a `reg add` by an admin, a psexec-style remote service (svcctl then services.exe), a
 * legitimate installer, a configuration agent re-asserting an ImagePath across an hour boundary (two
 * alerts, the repeat inside the first hour aggregated), and an old-Sysmon flat host (no User field).
 * Near-misses: Start/Description/ObjectName values, a Sysmon 12 CreateKey, an ImagePath outside
 * Services, the repeat in the same bucket.
 */
import { IMAGES, LEGIT_SERVICES } from '../catalog.js';
import {
  logonSuccess,
  newLogonId,
  processCreate,
  registryKeyEvent,
  registryValueSet,
  specialPrivileges,
} from '../events.js';
import { REMOTE_REGISTRY, SERVICE_CREATION } from '../rules.js';
import type { Host, Proc } from '../world.js';
import { newProcess, qualifiedName } from '../world.js';
import { newConnection, randomServiceName, reservePairAt, rpcRows } from './common.js';
import type { Plan } from './plan.js';
import { serviceEntity } from './remote-registry.js';

const HOUR = 3_600_000;

function servicesKey(name: string): string {
  return `HKLM\\System\\CurrentControlSet\\Services\\${name}`;
}

export function planServiceCreation(plan: Plan, t: number, _k: number): void {
  regAddService(plan, t);
  remoteServiceOverSvcctl(plan, t + 50_000);
  legitimateInstaller(plan, t + 100_000);
  configurationAgentAcrossHour(plan, t);
  flatHostService(plan, t + 150_000);
  imagePathOutsideServices(plan, t + 170_000);
}

/** An admin runs `reg add ... /v ImagePath` from cmd.exe: a new service pointing at a dropped binary. */
function regAddService(plan: Plan, t: number): void {
  const w = plan.world;
  const r = plan.rng;
  const host = r.pick(w.agentHosts);
  const admin = r.pick(w.admins);
  const cmd = newProcess(
    r,
    host,
    IMAGES.cmd,
    '"C:\\Windows\\system32\\cmd.exe" ',
    admin,
    t - r.range(30_000, 600_000),
    null,
    'High',
    w.hashes,
  );
  const svc = randomServiceName(plan);
  const payload = r.pick([
    `C:\\ProgramData\\${r.letters(6)}\\${r.letters(8)}.exe`,
    `%COMSPEC% /c start /b C:\\Users\\Public\\${r.letters(5)}.bat`,
    `C:\\Windows\\Temp\\${r.letters(8)}.exe -k`,
  ]);
  const reg = newProcess(
    r,
    host,
    IMAGES.reg,
    `reg  add "HKLM\\SYSTEM\\CurrentControlSet\\Services\\${svc}" /v ImagePath /t REG_EXPAND_SZ /d "${payload}" /f`,
    admin,
    t,
    cmd,
    'High',
    w.hashes,
  );
  plan.add(t, host, processCreate(reg, w.hashes));
  const createKey = plan.add(
    t + 30,
    host,
    registryKeyEvent(host, t + 30, reg, servicesKey(svc), 'CreateKey'),
  );
  const image = plan.add(
    t + 31,
    host,
    registryValueSet(host, t + 31, reg, `${servicesKey(svc)}\\ImagePath`, payload),
  );
  plan.alert(
    SERVICE_CREATION,
    'reg-add-service',
    false,
    serviceEntity(host, qualifiedName(admin), reg.guid),
    [image],
  );
  plan.nearMiss(
    SERVICE_CREATION,
    'registry-create-key',
    'Sysmon 12 CreateKey of the new service key: not a value set (EventID 13)',
    [createKey],
  );

  const t2 = t + r.range(2_000, 6_000);
  const reg2 = newProcess(
    r,
    host,
    IMAGES.reg,
    `reg  add "HKLM\\SYSTEM\\CurrentControlSet\\Services\\${svc}" /v Start /t REG_DWORD /d 2 /f`,
    admin,
    t2,
    cmd,
    'High',
    w.hashes,
  );
  plan.add(t2, host, processCreate(reg2, w.hashes));
  const start = plan.add(
    t2 + 25,
    host,
    registryValueSet(host, t2 + 25, reg2, `${servicesKey(svc)}\\Start`, 'DWORD (0x00000002)'),
  );
  plan.nearMiss(
    SERVICE_CREATION,
    'services-start-value',
    'Services\\<name>\\Start written: not the ImagePath value',
    [start],
  );
}

/** psexec-style: svcctl CreateServiceW over SMB, services.exe writes the new service's values. */
function remoteServiceOverSvcctl(plan: Plan, t0: number): void {
  const w = plan.world;
  const r = plan.rng;
  const attackerIp = r.pick(w.outsideIps);
  const { t, host, account: admin } = reservePairAt(plan, t0, w.agentHosts, w.admins, -65_000, 70_000);
  const logonId = newLogonId(host, r);
  const smb = newConnection(plan);
  plan.add(
    t,
    host,
    logonSuccess(host, r, {
      type: 3,
      target: admin,
      auth: 'NTLM',
      ip: attackerIp,
      port: String(smb.origPort),
      workstation: `WIN-${r.upper(11)}`,
      elevated: true,
      logonId,
    }),
  );
  plan.add(t + 1, host, specialPrivileges(admin, logonId));
  const rows = rpcRows(
    plan,
    t + 60,
    attackerIp,
    host.ip,
    445,
    '\\PIPE\\svcctl',
    'svcctl',
    ['OpenSCManagerW', 'CreateServiceW', 'StartServiceW', 'DeleteService', 'CloseServiceHandle'],
    [40, 400],
    smb,
  );
  plan.nearMiss(
    REMOTE_REGISTRY,
    'svcctl-create-service',
    'svcctl CreateServiceW over SMB 445 (psexec-style): not the winreg interface',
    [rows[1] as number, rows[2] as number],
  );

  const svc = r.upper(4);
  const exe = `%SystemRoot%\\${r.letters(8)}.exe`;
  const services = host.procs.services;
  const at = plan.ts(rows[1] as number) + 3;
  plan.add(at, host, registryKeyEvent(host, at, services, servicesKey(svc), 'CreateKey'));
  plan.add(
    at + 1,
    host,
    registryValueSet(host, at + 1, services, `${servicesKey(svc)}\\Type`, 'DWORD (0x00000010)'),
  );
  plan.add(
    at + 1,
    host,
    registryValueSet(host, at + 1, services, `${servicesKey(svc)}\\Start`, 'DWORD (0x00000003)'),
  );
  plan.add(
    at + 1,
    host,
    registryValueSet(host, at + 1, services, `${servicesKey(svc)}\\ErrorControl`, 'DWORD (0x00000000)'),
  );
  const image = plan.add(
    at + 2,
    host,
    registryValueSet(host, at + 2, services, `${servicesKey(svc)}\\ImagePath`, exe),
  );
  const objectName = plan.add(
    at + 3,
    host,
    registryValueSet(host, at + 3, services, `${servicesKey(svc)}\\ObjectName`, 'LocalSystem'),
  );
  plan.alert(
    SERVICE_CREATION,
    'remote-service-over-svcctl',
    false,
    serviceEntity(host, qualifiedName(services.account), services.guid),
    [image],
  );
  plan.nearMiss(
    SERVICE_CREATION,
    'services-other-value',
    'Services\\<name>\\ObjectName written by services.exe in the same creation: not ImagePath',
    [objectName],
  );
  const started = plan.ts(rows[2] as number) + 5;
  const payload = newProcess(
    r,
    host,
    {
      image: exe.replace('%SystemRoot%', 'C:\\Windows'),
      description: '-',
      product: '-',
      company: '-',
      originalFileName: '-',
      fileVersion: '-',
    },
    exe.replace('%SystemRoot%', 'C:\\Windows'),
    w.builtin.system,
    started,
    services,
    'System',
    w.hashes,
  );
  plan.add(started, host, processCreate(payload, w.hashes));
}

/** Legitimate software installs its update service: the analytic fires (benign true positive). */
function legitimateInstaller(plan: Plan, t: number): void {
  const w = plan.world;
  const r = plan.rng;
  const host = r.pick(w.agentHosts);
  const svc = r.pick(LEGIT_SERVICES);
  const msi = newProcess(
    r,
    host,
    IMAGES.msiexec,
    'C:\\Windows\\system32\\msiexec.exe /V',
    w.builtin.system,
    t,
    host.procs.services,
    'System',
    w.hashes,
  );
  plan.add(t, host, processCreate(msi, w.hashes));
  const at = t + r.range(2_000, 20_000);
  const image = plan.add(
    at,
    host,
    registryValueSet(host, at, msi, `${servicesKey(svc.name)}\\ImagePath`, svc.imagePath),
  );
  const description = plan.add(
    at + 1,
    host,
    registryValueSet(
      host,
      at + 1,
      msi,
      `${servicesKey(svc.name)}\\Description`,
      `${svc.display} keeps the software up to date.`,
    ),
  );
  plan.add(
    at + 1,
    host,
    registryValueSet(host, at + 1, msi, `${servicesKey(svc.name)}\\Start`, 'DWORD (0x00000002)'),
  );
  plan.alert(
    SERVICE_CREATION,
    'legitimate-installer',
    true,
    serviceEntity(host, qualifiedName(msi.account), msi.guid),
    [image],
  );
  plan.nearMiss(
    SERVICE_CREATION,
    'services-description-value',
    'Services\\<name>\\Description written by the installer: not ImagePath',
    [description],
  );
}

/**
 * A configuration agent (long-running, started before the capture) re-asserts a service's ImagePath:
 * 40 s before an hour boundary (alert), 15 s before it (same bucket: aggregated, no alert), 20 s
 * after it (next bucket: a second alert).
 */
function configurationAgentAcrossHour(plan: Plan, t: number): void {
  const w = plan.world;
  const r = plan.rng;
  const host = r.pick(w.agentHosts.filter((h) => h.role !== 'workstation'));
  const agent: Proc = newProcess(
    r,
    host,
    IMAGES.puppet,
    '"C:\\Program Files\\Puppet Labs\\Puppet\\puppet\\bin\\ruby.exe" -rubygems "C:\\Program Files\\Puppet Labs\\Puppet\\puppet\\bin\\puppet" agent --fqdn ' +
      host.fqdn.toLowerCase(),
    w.builtin.system,
    t - 5 * 86_400_000,
    host.procs.services,
    'System',
    w.hashes,
  );
  const boundary = Math.ceil(t / HOUR) * HOUR;
  const path = `${servicesKey('AcmeInventoryAgent')}\\ImagePath`;
  const data = '"C:\\Program Files\\Acme\\Inventory\\acme-inventory.exe" --service';
  const first = plan.add(
    boundary - 40_000,
    host,
    registryValueSet(host, boundary - 40_000, agent, path, data),
  );
  const repeat = plan.add(
    boundary - 15_000,
    host,
    registryValueSet(host, boundary - 15_000, agent, path, data),
  );
  const next = plan.add(
    boundary + 20_000,
    host,
    registryValueSet(host, boundary + 20_000, agent, path, data),
  );
  const entity = serviceEntity(host, qualifiedName(agent.account), agent.guid);
  plan.alert(SERVICE_CREATION, 'configuration-agent-reassert', true, entity, [first]);
  plan.alert(SERVICE_CREATION, 'configuration-agent-reassert', true, entity, [next]);
  plan.nearMiss(
    SERVICE_CREATION,
    'repeat-same-bucket',
    'the identical write again in the same 1h bucket: aggregated into the first alert',
    [repeat],
  );
}

/** A machine with only the flat collector and an older Sysmon (no User on registry events). */
function flatHostService(plan: Plan, t: number): void {
  const w = plan.world;
  const r = plan.rng;
  const host: Host = r.pick(w.flatHosts);
  const svc = r.letters(r.range(6, 10));
  const services = host.procs.services;
  plan.add(t, host, registryKeyEvent(host, t, services, servicesKey(svc), 'CreateKey'));
  const data = `%%COMSPEC%% /C start /b C:\\Windows\\System32\\WindowsPowershell\\v1.0\\powershell.exe -noP -sta -w 1 -enc ${r.alnum(48)}`;
  const image = plan.add(
    t + 2,
    host,
    registryValueSet(host, t + 2, services, `${servicesKey(svc)}\\ImagePath`, data),
  );
  plan.alert(
    SERVICE_CREATION,
    'flat-host-remote-service',
    false,
    serviceEntity(host, host.sysmonHasUser ? qualifiedName(services.account) : null, services.guid),
    [image],
  );
}

/** An updater keeps an `ImagePath` value in its own key under SOFTWARE: not a service definition. */
function imagePathOutsideServices(plan: Plan, t: number): void {
  const w = plan.world;
  const r = plan.rng;
  const host = r.pick(w.agentHosts);
  const msi = newProcess(
    r,
    host,
    IMAGES.msiexec,
    'C:\\Windows\\system32\\msiexec.exe /V',
    w.builtin.system,
    t,
    host.procs.services,
    'System',
    w.hashes,
  );
  plan.add(t, host, processCreate(msi, w.hashes));
  const tag = plan.add(
    t + 900,
    host,
    registryValueSet(
      host,
      t + 900,
      msi,
      'HKLM\\SOFTWARE\\WOW6432Node\\Acme\\UpdateAgent\\ImagePath',
      '"C:\\Program Files (x86)\\Acme\\UpdateAgent\\acmeupd.exe"',
    ),
  );
  plan.nearMiss(
    SERVICE_CREATION,
    'imagepath-outside-services',
    'an ImagePath value under HKLM\\SOFTWARE, not under \\SYSTEM\\CurrentControlSet\\Services',
    [tag],
  );
}
