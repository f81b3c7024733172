/**
 * CAR-2014-11-005 Remote Registry: an admin account from outside the fleet writes another machine's
 * registry over SMB (`reg add \\target\HKLM\...`): Zeek logs winreg BaseRegCreateKey/BaseRegSetValue
 * on port 445, one alert per such row. On the target, RemoteRegistry's svchost makes the write (Sysmon
 * 13): a Run key, or on even instances a new service's ImagePath, which the service-creation analytic
 * also reports (one attack, two rules).
 *
 * Near-misses: read-only winreg calls, winreg over TCP (not 445), svcctl and drsuapi traffic, and a
 * BaseRegDeleteValue (a write, but neither create nor set).
 */
import {
  logoff,
  logonSuccess,
  newLogonId,
  registryKeyEvent,
  registryValueSet,
  specialPrivileges,
} from '../events.js';
import { REMOTE_REGISTRY, SERVICE_CREATION } from '../rules.js';
import type { Host } from '../world.js';
import { qualifiedName } from '../world.js';
import { newConnection, randomServiceName, reservePairAt, rpcRows, startRemoteRegistry } from './common.js';
import type { Plan } from './plan.js';
import { hostEntity } from './plan.js';

const PIPE_SPELLINGS = ['\\PIPE\\winreg', '\\pipe\\winreg', '\\PIPE\\WINREG'] as const;

export function planRemoteRegistry(plan: Plan, t0: number, k: number): void {
  const w = plan.world;
  const r = plan.rng;
  const attackerIp = r.pick(w.outsideIps);
  // Reserve the admin's network logon on the target: nothing else may log that pair on meanwhile.
  const {
    t,
    host: target,
    account: admin,
  } = reservePairAt(plan, t0, w.agentHosts, w.admins, -65_000, 130_000);
  const logonId = newLogonId(target, r);
  const smb = newConnection(plan);
  plan.add(
    t,
    target,
    logonSuccess(target, r, {
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
  plan.add(t + 2, target, specialPrivileges(admin, logonId));
  const remoteRegistry = startRemoteRegistry(plan, target, t + 40);

  const pipe = PIPE_SPELLINGS[k % PIPE_SPELLINGS.length] as string;
  const extraSet = k % 2 === 1;
  const ops = [
    'OpenLocalMachine',
    'BaseRegOpenKey',
    'BaseRegCreateKey',
    'BaseRegSetValue',
    ...(extraSet ? ['BaseRegSetValue'] : []),
    'BaseRegCloseKey',
  ];
  const rows = rpcRows(plan, t + 80, attackerIp, target.ip, 445, pipe, 'winreg', ops, [10, 40], smb);
  const entity = { host: { ip: target.ip }, source: { ip: attackerIp } };
  const scenario = k % 2 === 0 ? 'remote-service-install-via-registry' : 'remote-registry-run-key';
  ops.forEach((op, i) => {
    if (op === 'BaseRegCreateKey' || op === 'BaseRegSetValue')
      plan.alert(REMOTE_REGISTRY, scenario, false, entity, [rows[i] as number]);
  });

  const writeAt = plan.ts(rows[3] as number) + r.range(1, 5);
  if (k % 2 === 0) {
    const svc = randomServiceName(plan);
    const key = `HKLM\\System\\CurrentControlSet\\Services\\${svc}`;
    plan.add(
      plan.ts(rows[2] as number) + 2,
      target,
      registryKeyEvent(target, plan.ts(rows[2] as number) + 2, remoteRegistry, key, 'CreateKey'),
    );
    const tag = plan.add(
      writeAt,
      target,
      registryValueSet(
        target,
        writeAt,
        remoteRegistry,
        `${key}\\ImagePath`,
        `C:\\Windows\\Temp\\${r.letters(6)}.exe -service`,
      ),
    );
    plan.alert(
      SERVICE_CREATION,
      scenario,
      false,
      serviceEntity(target, qualifiedName(remoteRegistry.account), remoteRegistry.guid),
      [tag],
    );
  } else {
    const name = r.pick(['WindowsUpdateHelper', 'OneDriveSync', 'SecurityHealthTray', 'AdobeUpdater']);
    plan.add(
      writeAt,
      target,
      registryValueSet(
        target,
        writeAt,
        remoteRegistry,
        `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\${name}`,
        `C:\\Users\\Public\\Libraries\\${r.letters(7)}.exe`,
      ),
    );
  }
  plan.add(t + r.range(3_000, 9_000), target, logoff(admin, logonId, 3));

  planNearMisses(plan, t);
}

function planNearMisses(plan: Plan, t: number): void {
  const w = plan.world;
  const r = plan.rng;
  const some = (): Host => r.pick(w.hosts);
  const readOnly = rpcRows(plan, t + 40_000, w.monitor.ip, some().ip, 445, '\\PIPE\\winreg', 'winreg', [
    'OpenLocalMachine',
    'BaseRegOpenKey',
    'BaseRegQueryValue',
    'BaseRegEnumKey',
  ]);
  plan.nearMiss(
    REMOTE_REGISTRY,
    'winreg-read-only',
    'winreg over SMB 445, read-only operations (OpenLocalMachine, BaseRegOpenKey, BaseRegQueryValue, BaseRegEnumKey)',
    readOnly,
  );

  const tcp = rpcRows(plan, t + 70_000, r.pick(w.outsideIps), some().ip, 49677, '49677', 'winreg', [
    'BaseRegCreateKey',
    'BaseRegSetValue',
  ]);
  plan.nearMiss(
    REMOTE_REGISTRY,
    'winreg-over-tcp',
    'winreg create/set over DCE-RPC on TCP port 49677, not SMB 445',
    tcp,
  );

  const svcctl = rpcRows(
    plan,
    t + 95_000,
    r.pick(w.admins).home.ip,
    some().ip,
    445,
    '\\PIPE\\svcctl',
    'svcctl',
    ['OpenSCManagerW', 'CreateServiceW', 'StartServiceW'],
  );
  plan.nearMiss(
    REMOTE_REGISTRY,
    'svcctl-interface',
    'svcctl (service control) over SMB 445: another interface',
    svcctl,
  );

  const dcA = r.pick(w.dcs);
  const drs = rpcRows(
    plan,
    t + 110_000,
    w.dcs.length > 1 ? (w.dcs.find((d) => d !== dcA) as Host).ip : w.monitor.ip,
    dcA.ip,
    49667,
    '49667',
    'drsuapi',
    ['DRSBind', 'DRSGetNCChanges', 'DRSUnbind'],
  );
  plan.nearMiss(
    REMOTE_REGISTRY,
    'drsuapi-interface',
    'drsuapi (directory replication) over TCP: another interface',
    drs,
  );

  const del = rpcRows(plan, t + 130_000, w.monitor.ip, some().ip, 445, '\\PIPE\\winreg', 'winreg', [
    'OpenLocalMachine',
    'BaseRegOpenKey',
    'BaseRegDeleteValue',
    'BaseRegCloseKey',
  ]);
  plan.nearMiss(
    REMOTE_REGISTRY,
    'winreg-delete-value',
    'winreg BaseRegDeleteValue over SMB 445: a write, but neither create nor set',
    [del[2] as number],
  );
}

export function serviceEntity(
  host: Host,
  user: string | null,
  guid: string,
): {
  host: ReturnType<typeof hostEntity>;
  user?: { name: string; domain: string };
  process: { guid: string };
} {
  if (user === null) return { host: hostEntity(host), process: { guid } };
  const i = user.indexOf('\\');
  return {
    host: hostEntity(host),
    user: { domain: user.slice(0, i), name: user.slice(i + 1) },
    process: { guid },
  };
}
