/** Building blocks several scenarios share. */
import { IMAGES } from '../catalog.js';
import { processCreate, zeekRow, zeekUid } from '../events.js';
import type { Account, Host, Proc } from '../world.js';
import { newProcess } from '../world.js';
import type { Plan } from './plan.js';

/**
 * The RemoteRegistry service starting on demand (a client opened the winreg pipe): services.exe starts
 * an svchost as LOCAL SERVICE; Sysmon logs the process creation. It stops again when idle, so every
 * remote-registry episode gets its own process.
 */
export function startRemoteRegistry(plan: Plan, host: Host, t: number): Proc {
  const w = plan.world;
  const proc = newProcess(
    plan.rng,
    host,
    IMAGES.svchost,
    'C:\\Windows\\system32\\svchost.exe -k localService -p -s RemoteRegistry',
    w.builtin.localService,
    t,
    host.procs.services,
    'System',
    w.hashes,
  );
  plan.add(t, host, processCreate(proc, w.hashes));
  return proc;
}

/** One TCP connection as Zeek sees it: the uid and the client's port (the 4624's IpPort for SMB). */
export interface Connection {
  readonly uid: string;
  readonly origPort: number;
}

export function newConnection(plan: Plan): Connection {
  return { uid: zeekUid(plan.rng), origPort: plan.rng.range(49152, 65535) };
}

/**
 * Rows of DCE-RPC calls on one connection as Zeek logs them (several pipes may share one SMB
 * connection); returns the tags of the rows, in order.
 */
export function rpcRows(
  plan: Plan,
  t: number,
  origIp: string,
  respIp: string,
  respPort: number,
  pipe: string,
  endpoint: string,
  ops: readonly string[],
  gapMs: readonly [number, number] = [5, 60],
  connection: Connection = newConnection(plan),
): number[] {
  const r = plan.rng;
  const { uid, origPort } = connection;
  const tags: number[] = [];
  let at = t;
  for (const op of ops) {
    tags.push(plan.add(at, null, zeekRow(r, uid, origIp, origPort, respIp, respPort, pipe, endpoint, op)));
    at += r.range(gapMs[0], gapMs[1]);
  }
  return tags;
}

/**
 * Reserve a free (host, account) pair for the window [t + before, t + after], moving t later in steps
 * when every pair is taken at that time (possible only in tiny worlds with many instances).
 */
export function reservePairAt(
  plan: Plan,
  t: number,
  hosts: readonly Host[],
  accounts: readonly Account[],
  before: number,
  after: number,
): { t: number; host: Host; account: Account } {
  for (let step = 0; step < 10_000; step++) {
    const at = t + step * 150_000;
    const pair = plan.reserveFreePair(hosts, accounts, at + before, at + after);
    if (pair !== null) return { t: at, ...pair };
  }
  throw new RangeError('no free (host, account) pair for a scenario logon');
}

/** A new random service name like the ones remote-execution tools create (impacket: 4 letters). */
export function randomServiceName(plan: Plan): string {
  return plan.rng.letters(plan.rng.range(4, 8));
}

/** Windows-style random file name: eight letters (impacket's hive dump files). */
export function randomLetters(plan: Plan, n: number): string {
  return plan.rng.letters(n);
}
