/**
 * Elastic "Potential Remote Credential Access via Registry": impacket-secretsdump style. The attacker's
 * network logon (4624 type 3, NTLM) onto the target, then RemoteRegistry's svchost, impersonating that
 * user, saves the SAM, SECURITY and SYSTEM hives to C:\Windows\System32\<8 letters>.tmp within seconds
 * (BaseRegSaveKey over winreg). The sequence `by host.id, user.id with maxspan=1m` completes at the
 * first hive file: one alert, evidence [logon, first hive write]. Later hive writes need a new logon;
 * every third instance re-authenticates and dumps again (a second alert).
 *
 * Near-misses, each on its own (host, user) pair with nothing else pending: hive write 61 s after the
 * logon; hive written under another user's SID; a non-hive file; a hive smaller than 30,000 bytes; an
 * ANONYMOUS LOGON; an interactive logon; a loopback source; reg.exe (not svchost) saving a hive.
 */
import { IMAGES } from '../catalog.js';
import type { LogonSpec } from '../events.js';
import {
  fileEvent,
  hiveHeader,
  logoff,
  logonSuccess,
  newLogonId,
  processCreate,
  specialPrivileges,
} from '../events.js';
import { REMOTE_CREDENTIAL_ACCESS, REMOTE_REGISTRY } from '../rules.js';
import type { Account, Host, Proc } from '../world.js';
import { newProcess } from '../world.js';
import type { Connection } from './common.js';
import { newConnection, randomLetters, reservePairAt, rpcRows, startRemoteRegistry } from './common.js';
import type { Plan } from './plan.js';
import { hostEntity } from './plan.js';

const MAXSPAN = 60_000;
/** Reservation margins around a pair's logons and hive writes: more than maxspan either side. */
const BEFORE = -65_000;

export function planRemoteCredentialAccess(plan: Plan, t0: number, k: number): void {
  secretsdump(plan, t0, k);
  const w = plan.world;
  const hosts = w.agentHosts;
  const people: readonly Account[] = w.users;
  const anyone = (t: number, before: number, after: number): { t: number; host: Host; account: Account } =>
    reservePairAt(plan, t, hosts, people, before, after);
  let t = t0 + 90_000;
  const next = (): number => (t += 45_000 + plan.rng.int(20_000));

  // 1. The hive write comes 61 s after the logon: outside maxspan.
  {
    const p = anyone(next(), BEFORE, 130_000);
    const logon = networkLogon(plan, p.t, p.host, p.account, plan.rng.pick(w.outsideIps));
    const rr = startRemoteRegistry(plan, p.host, p.t + 300);
    const hive = hiveWrite(
      plan,
      p.t + MAXSPAN + 1_000 + plan.rng.int(900),
      p.host,
      rr,
      p.account,
      hiveSize(plan, 'SAM'),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'hive-write-after-maxspan',
      'network logon, then the svchost hive write 61 s later: beyond maxspan=1m',
      [logon, hive],
    );
  }
  // 2. The hive is written under another user's SID than the one that logged on.
  {
    const p = anyone(next(), BEFORE, 70_000);
    const logon = networkLogon(plan, p.t, p.host, p.account, plan.rng.pick(w.outsideIps));
    const hiveAt = p.t + 1_500 + plan.rng.int(2_000);
    const other = plan.reserveFreeAccount(
      p.host,
      people,
      hiveAt + BEFORE,
      hiveAt + 5_000,
      new Set([p.account.sid]),
    );
    if (other !== null) {
      const rr = startRemoteRegistry(plan, p.host, p.t + 300);
      const hive = hiveWrite(plan, hiveAt, p.host, rr, other, hiveSize(plan, 'SAM'));
      plan.nearMiss(
        REMOTE_CREDENTIAL_ACCESS,
        'hive-write-other-user',
        "network logon, then a hive write by svchost under a different user's SID (sequence key user.id differs)",
        [logon, hive],
      );
    }
  }
  // 3. svchost writes a .tmp that is not a hive (a registry transaction log: "HvLE").
  {
    const p = anyone(next(), BEFORE, 70_000);
    const logon = networkLogon(plan, p.t, p.host, p.account, plan.rng.pick(w.outsideIps));
    const rr = startRemoteRegistry(plan, p.host, p.t + 300);
    const at = p.t + 2_000 + plan.rng.int(3_000);
    const file = plan.add(
      at,
      p.host,
      fileEvent(
        'creation',
        `C:\\Windows\\System32\\${randomLetters(plan, 8)}.tmp`,
        65_536,
        `48764c45${plan.rng.hex(24)}`,
        rr,
        p.account,
      ),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'non-hive-file',
      'network logon, then svchost creates a file whose header is not "regf" (72656766)',
      [logon, file],
    );
  }
  // 4. A hive file, but smaller than 30,000 bytes.
  {
    const p = anyone(next(), BEFORE, 70_000);
    const logon = networkLogon(plan, p.t, p.host, p.account, plan.rng.pick(w.outsideIps));
    const rr = startRemoteRegistry(plan, p.host, p.t + 300);
    const hive = hiveWrite(
      plan,
      p.t + 1_800 + plan.rng.int(2_000),
      p.host,
      rr,
      p.account,
      plan.rng.pick([24_576, 28_672, 8_192]),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'hive-too-small',
      'network logon, then a hive file smaller than 30,000 bytes',
      [logon, hive],
    );
  }
  // 5. ANONYMOUS LOGON (a null session), then a hive write under S-1-5-7.
  {
    const p = reservePairAt(plan, next(), hosts, [w.builtin.anonymous], BEFORE, 70_000);
    const logon = networkLogon(plan, p.t, p.host, w.builtin.anonymous, plan.rng.pick(w.outsideIps));
    const rr = startRemoteRegistry(plan, p.host, p.t + 300);
    const hive = hiveWrite(
      plan,
      p.t + 1_200 + plan.rng.int(2_000),
      p.host,
      rr,
      w.builtin.anonymous,
      hiveSize(plan, 'SAM'),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'anonymous-logon',
      'ANONYMOUS LOGON (NT AUTHORITY, S-1-5-7) network logon, then a hive write under S-1-5-7: excluded by user.name, user.domain and the S-1-5-21-* user.id',
      [logon, hive],
    );
  }
  // 6. An interactive (type 2) logon, then svchost writes a hive under that user.
  {
    const p = anyone(next(), BEFORE, 70_000);
    const logonId = newLogonId(p.host, plan.rng);
    const logon = plan.add(
      p.t,
      p.host,
      logonSuccess(p.host, plan.rng, { type: 2, target: p.account, auth: 'Negotiate', logonId }),
    );
    const rr = startRemoteRegistry(plan, p.host, p.t + 300);
    const hive = hiveWrite(
      plan,
      p.t + 2_000 + plan.rng.int(2_000),
      p.host,
      rr,
      p.account,
      hiveSize(plan, 'SAM'),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'interactive-logon',
      'interactive logon (LogonType 2), then a hive write under that user: not a Network logon',
      [logon, hive],
    );
  }
  // 7. A network logon from the loopback address, then a hive write.
  {
    const p = anyone(next(), BEFORE, 70_000);
    const loopback = k % 2 === 0 ? '127.0.0.1' : '::1';
    const logon = networkLogon(plan, p.t, p.host, p.account, loopback);
    const rr = startRemoteRegistry(plan, p.host, p.t + 300);
    const hive = hiveWrite(
      plan,
      p.t + 1_300 + plan.rng.int(2_000),
      p.host,
      rr,
      p.account,
      hiveSize(plan, 'SAM'),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'loopback-source',
      `network logon from ${loopback}, then a hive write: source.ip is loopback`,
      [logon, hive],
    );
  }
  // 8. reg.exe (run through a remote shell) saves the SAM hive: right file, wrong process.
  {
    const p = anyone(next(), BEFORE, 70_000);
    const logon = networkLogon(plan, p.t, p.host, p.account, plan.rng.pick(w.outsideIps));
    const cmd = newProcess(
      plan.rng,
      p.host,
      IMAGES.cmd,
      'cmd.exe /Q /c reg save HKLM\\SAM C:\\Windows\\Temp\\sam.save 1> \\\\127.0.0.1\\ADMIN$\\__1709 2>&1',
      p.account,
      p.t + 600,
      p.host.procs.svchost.Winmgmt,
      'High',
      w.hashes,
    );
    const reg = newProcess(
      plan.rng,
      p.host,
      IMAGES.reg,
      'reg  save HKLM\\SAM C:\\Windows\\Temp\\sam.save',
      p.account,
      p.t + 640,
      cmd,
      'High',
      w.hashes,
    );
    plan.add(cmd.startMs, p.host, processCreate(cmd, w.hashes));
    plan.add(reg.startMs, p.host, processCreate(reg, w.hashes));
    const hive = plan.add(
      p.t + 900,
      p.host,
      fileEvent(
        'creation',
        'C:\\Windows\\Temp\\sam.save',
        hiveSize(plan, 'SAM'),
        hiveHeader(plan.rng, p.t + 900),
        reg,
        p.account,
      ),
    );
    plan.nearMiss(
      REMOTE_CREDENTIAL_ACCESS,
      'hive-by-reg-exe',
      'network logon, then reg.exe (not svchost.exe) writes a hive file',
      [logon, hive],
    );
  }
}

/** The attack: logon, RemoteRegistry start over svcctl, three BaseRegSaveKey and their hive files. */
function secretsdump(plan: Plan, t0: number, k: number): void {
  const w = plan.world;
  const r = plan.rng;
  const reauth = k % 3 === 1;
  const attackerIp = r.pick(w.outsideIps);
  const {
    t,
    host,
    account: admin,
  } = reservePairAt(plan, t0, w.agentHosts, w.admins, BEFORE, (reauth ? 60_000 : 20_000) + 65_000);
  const logonId = newLogonId(host, r);
  // One SMB connection carries the session (its client port is the logon's IpPort) and both pipes.
  const smb = newConnection(plan);
  const logon = networkLogon(plan, t, host, admin, attackerIp, logonId, smb);

  const svcctl = rpcRows(
    plan,
    t + 120,
    attackerIp,
    host.ip,
    445,
    '\\PIPE\\svcctl',
    'svcctl',
    ['OpenSCManagerW', 'OpenServiceW', 'QueryServiceStatus', 'StartServiceW'],
    [20, 60],
    smb,
  );
  const rr = startRemoteRegistry(plan, host, plan.ts(svcctl[3] as number) + 30);
  const winreg = rpcRows(
    plan,
    plan.ts(svcctl[3] as number) + 300,
    attackerIp,
    host.ip,
    445,
    '\\PIPE\\winreg',
    'winreg',
    [
      'OpenLocalMachine',
      'BaseRegOpenKey',
      'BaseRegQueryInfoKey',
      'BaseRegQueryInfoKey',
      'BaseRegQueryInfoKey',
      'BaseRegQueryInfoKey',
      'BaseRegOpenKey',
      'BaseRegSaveKey',
    ],
    [8, 40],
    smb,
  );
  const saves = [winreg[7] as number];
  const sam = hiveWrite(
    plan,
    plan.ts(winreg[7] as number) + r.range(40, 400),
    host,
    rr,
    admin,
    hiveSize(plan, 'SAM'),
  );
  plan.alert(
    REMOTE_CREDENTIAL_ACCESS,
    'remote-sam-dump',
    false,
    { host: hostEntity(host), user: { id: admin.sid, name: admin.name, domain: admin.domain } },
    [logon, sam],
  );

  const more = rpcRows(
    plan,
    plan.ts(sam) + r.range(100, 300),
    attackerIp,
    host.ip,
    445,
    '\\PIPE\\winreg',
    'winreg',
    ['BaseRegOpenKey', 'BaseRegSaveKey'],
    [10, 30],
    smb,
  );
  saves.push(more[1] as number);
  const security = hiveWrite(
    plan,
    plan.ts(more[1] as number) + r.range(40, 400),
    host,
    rr,
    admin,
    hiveSize(plan, 'SECURITY'),
  );
  const more2 = rpcRows(
    plan,
    plan.ts(security) + r.range(100, 300),
    attackerIp,
    host.ip,
    445,
    '\\PIPE\\winreg',
    'winreg',
    ['BaseRegOpenKey', 'BaseRegSaveKey'],
    [10, 30],
    smb,
  );
  saves.push(more2[1] as number);
  const system = hiveWrite(
    plan,
    plan.ts(more2[1] as number) + r.range(1_500, 3_500),
    host,
    rr,
    admin,
    hiveSize(plan, 'SYSTEM'),
  );
  plan.nearMiss(
    REMOTE_CREDENTIAL_ACCESS,
    'hive-after-completed-sequence',
    'SECURITY and SYSTEM hive saves of the same dump: the sequence already completed at the SAM hive (no new logon)',
    [logon, security, system],
  );

  // impacket deletes its temp files over ADMIN$ when done (the SMB server deletes them: process System).
  for (const tag of [sam, security, system]) {
    const e = plan.events[tag]?.ev;
    if (e?.kind === 'file')
      plan.add(
        plan.ts(system) + r.range(800, 2_500),
        host,
        fileEvent('deletion', e.path, null, null, host.procs.system, admin),
      );
  }
  let end = plan.ts(system) + 3_000;
  if (reauth) {
    // The attacker reconnects (new session, new logon) and dumps SAM again: a second sequence, a second alert.
    const t2 = end + r.range(10_000, 20_000);
    const smb2 = newConnection(plan);
    const logon2 = networkLogon(plan, t2, host, admin, attackerIp, undefined, smb2);
    const again = rpcRows(
      plan,
      t2 + 200,
      attackerIp,
      host.ip,
      445,
      '\\PIPE\\winreg',
      'winreg',
      ['OpenLocalMachine', 'BaseRegOpenKey', 'BaseRegSaveKey'],
      [10, 40],
      smb2,
    );
    saves.push(again[2] as number);
    const sam2 = hiveWrite(
      plan,
      plan.ts(again[2] as number) + r.range(40, 400),
      host,
      rr,
      admin,
      hiveSize(plan, 'SAM'),
    );
    plan.alert(
      REMOTE_CREDENTIAL_ACCESS,
      'remote-sam-dump-reauthenticated',
      false,
      { host: hostEntity(host), user: { id: admin.sid, name: admin.name, domain: admin.domain } },
      [logon2, sam2],
    );
    end = plan.ts(sam2) + 2_000;
  }
  plan.add(end + r.range(1_000, 5_000), host, logoff(admin, logonId, 3));
  plan.nearMiss(
    REMOTE_REGISTRY,
    'winreg-save-key',
    'winreg BaseRegSaveKey over SMB 445 (the hive dump): not a create/set operation',
    saves,
  );
}

function networkLogon(
  plan: Plan,
  t: number,
  host: Host,
  account: Account,
  ip: string,
  logonId?: string,
  connection?: Connection,
): number {
  const r = plan.rng;
  const id = logonId ?? newLogonId(host, r);
  const loopback = ip === '127.0.0.1' || ip === '::1';
  const spec: LogonSpec = {
    type: 3,
    target: account,
    auth: loopback ? 'Kerberos' : 'NTLM',
    ip,
    port: String(connection?.origPort ?? r.range(49152, 65535)),
    workstation: loopback
      ? '-'
      : account.sid === 'S-1-5-7'
        ? `WIN-${r.upper(11)}`
        : r.chance(0.5)
          ? `WIN-${r.upper(11)}`
          : '-',
    elevated: account.kind === 'admin',
    logonId: id,
  };
  const tag = plan.add(t, host, logonSuccess(host, r, spec));
  if (account.kind === 'admin') plan.add(t + 1, host, specialPrivileges(account, id));
  return tag;
}

function hiveWrite(plan: Plan, t: number, host: Host, proc: Proc, account: Account, size: number): number {
  return plan.add(
    t,
    host,
    fileEvent(
      'creation',
      `C:\\Windows\\System32\\${randomLetters(plan, 8)}.tmp`,
      size,
      hiveHeader(plan.rng, t),
      proc,
      account,
    ),
  );
}

/** Typical sizes of saved hives (multiples of 4 KiB): SAM and SECURITY tens of KiB, SYSTEM megabytes. */
function hiveSize(plan: Plan, hive: 'SAM' | 'SECURITY' | 'SYSTEM'): number {
  const r = plan.rng;
  if (hive === 'SAM') return 4096 * r.range(12, 18);
  if (hive === 'SECURITY') return 4096 * r.range(8, 12);
  return 4096 * r.range(2_800, 4_600);
}
