/**
 * Splunk "Remcos client registry install entry": a process creation (Sysmon 1) joined on ProcessGuid
 * with a registry value write (Sysmon 13) under `\Software\Remcos...` by that process, within 1h; one
 * alert per GUID, evidence [process create, first Remcos write]. A macro document drops and starts the
 * RAT, which writes its licence and exepath values, a Run key, and calls home on 2404/tcp. On odd
 * instances the licence write comes 25 minutes after the start (still inside the 1h join window).
 *
 * Near-misses: a Remcos key written by a process whose creation is not in the data (started before the
 * capture); a process creation plus an unrelated registry write with the same GUID (Teams' updater);
 * the RAT's second Remcos value (the join already fired for that GUID).
 */
import { IMAGES } from '../catalog.js';
import type { ImageInfo } from '../catalog.js';
import { fileEvent, networkConnect, processCreate, registryValueSet } from '../events.js';
import { REMCOS } from '../rules.js';
import type { DomainUser, Host } from '../world.js';
import { newProcess, qualifiedName } from '../world.js';
import type { Plan } from './plan.js';
import { hostEntity } from './plan.js';

const UNSIGNED: Omit<ImageInfo, 'image'> = {
  description: '-',
  product: '-',
  company: '-',
  originalFileName: '-',
  fileVersion: '-',
};

function pickResident(plan: Plan, exclude: ReadonlySet<Host> = new Set()): { host: Host; user: DomainUser } {
  const w = plan.world;
  const candidates = w.agentHosts.filter((h) => h.residents.length > 0 && !exclude.has(h));
  const pool = candidates.length > 0 ? candidates : w.agentHosts.filter((h) => h.residents.length > 0);
  if (pool.length === 0) {
    // No agent workstation: use any agent host with some user as if logged on there.
    const host = plan.rng.pick(w.agentHosts);
    return { host, user: plan.rng.pick(w.users) };
  }
  const host = plan.rng.pick(pool);
  return { host, user: plan.rng.pick(host.residents) };
}

export function planRemcos(plan: Plan, t: number, k: number): void {
  const w = plan.world;
  const r = plan.rng;
  const { host, user } = pickResident(plan);
  const explorer = host.procs.explorer.get(user.sid) ?? host.procs.services;
  const doc = `C:\\Users\\${user.name}\\Downloads\\${r.pick(['Invoice', 'Payment_Advice', 'PO', 'Shipping_Docs'])}_${r.range(1000, 9999)}.doc`;
  const word = newProcess(
    r,
    host,
    IMAGES.winword,
    `"${IMAGES.winword.image}" /n "${doc}" /o ""`,
    user,
    t - r.range(20_000, 60_000),
    explorer,
    'Medium',
    w.hashes,
  );
  plan.add(word.startMs, host, processCreate(word, w.hashes));
  const dir = r.pick(['remcos', r.letters(6).toLowerCase(), 'Microsoft\\Windows\\Templates']);
  const exe = `C:\\Users\\${user.name}\\AppData\\Roaming\\${dir}\\${r.pick(['remcos', 'svchost32', 'winupdate', r.letters(7).toLowerCase()])}.exe`;
  plan.add(
    t - r.range(500, 3_000),
    host,
    fileEvent('creation', exe, r.range(420_000, 520_000), '4d5a90000300000004000000ffff0000', word, user),
  );
  const rat = newProcess(r, host, { image: exe, ...UNSIGNED }, `"${exe}"`, user, t, word, 'Medium', w.hashes);
  const create = plan.add(t, host, processCreate(rat, w.hashes));

  const key = `HKU\\${user.sid}\\Software\\Remcos-${r.upper(2)}${r.range(1000, 9999)}`;
  const licenceAt = t + (k % 2 === 1 ? 25 * 60_000 + r.int(60_000) : r.range(600, 1_600));
  const licence = plan.add(
    licenceAt,
    host,
    registryValueSet(host, licenceAt, rat, `${key}\\licence`, r.hex(32).toUpperCase()),
  );
  plan.alert(
    REMCOS,
    k % 2 === 1 ? 'remcos-install-delayed' : 'remcos-install',
    false,
    { host: hostEntity(host), user: splitUser(qualifiedName(user)), process: { guid: rat.guid } },
    [create, licence],
  );
  const exepathAt = licenceAt + r.range(20, 200);
  const exepath = plan.add(
    exepathAt,
    host,
    registryValueSet(host, exepathAt, rat, `${key}\\exepath`, 'Binary Data'),
  );
  plan.nearMiss(
    REMCOS,
    'second-remcos-value-same-guid',
    'a second Software\\Remcos value by the same process GUID: the join already fired for it',
    [exepath],
  );
  const runAt = licenceAt + r.range(300, 900);
  plan.add(
    runAt,
    host,
    registryValueSet(
      host,
      runAt,
      rat,
      `HKU\\${user.sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\${r.pick(['Remcos', 'WinUpdate', 'svchost32'])}`,
      `"${exe}"`,
    ),
  );
  const c2At = runAt + r.range(500, 3_000);
  plan.add(
    c2At,
    host,
    networkConnect(
      c2At,
      rat,
      host.ip,
      r.range(49152, 65535),
      r.pick(w.outsideIps).replace('10.200.', '185.220.'),
      '-',
      2404,
      '-',
    ),
  );

  lookAlikes(plan, t + 120_000, host);
}

function lookAlikes(plan: Plan, t: number, used: Host): void {
  const w = plan.world;
  const r = plan.rng;
  // A Remcos client that started before the capture: its registry write is here, its creation is not.
  {
    const { host, user } = pickResident(plan, new Set([used]));
    const exe = `C:\\Users\\${user.name}\\AppData\\Roaming\\remcos\\remcos.exe`;
    const old = newProcess(
      r,
      host,
      { image: exe, ...UNSIGNED },
      `"${exe}"`,
      user,
      t - 3 * 86_400_000,
      host.procs.explorer.get(user.sid) ?? null,
      'Medium',
      w.hashes,
    );
    const key = `HKU\\${user.sid}\\Software\\Remcos-${r.upper(2)}${r.range(1000, 9999)}\\licence`;
    const tag = plan.add(t, host, registryValueSet(host, t, old, key, r.hex(32).toUpperCase()));
    plan.nearMiss(
      REMCOS,
      'remcos-write-without-process-create',
      'a Software\\Remcos write by a GUID whose process creation is not in the data (started before the capture)',
      [tag],
    );
  }
  // Teams' updater: a process creation and a Run-key write with the same GUID, nothing Remcos.
  {
    const { host, user } = pickResident(plan);
    const info = IMAGES.teamsUpdate;
    const image = info.image.replace('%USER%', user.name);
    const updater = newProcess(
      r,
      host,
      info,
      `"${image}" --processStart "Teams.exe" --process-start-args "--system-initiated"`,
      user,
      t + 60_000,
      host.procs.explorer.get(user.sid) ?? null,
      'Medium',
      w.hashes,
    );
    const create = plan.add(updater.startMs, host, processCreate(updater, w.hashes));
    const at = updater.startMs + r.range(200, 2_000);
    const write = plan.add(
      at,
      host,
      registryValueSet(
        host,
        at,
        updater,
        `HKU\\${user.sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\com.squirrel.Teams.Teams`,
        `${image} --processStart "Teams.exe" --process-start-args "--system-initiated"`,
      ),
    );
    plan.nearMiss(
      REMCOS,
      'same-guid-unrelated-registry-write',
      'a process creation and a registry write with the same GUID, the key not under Software\\Remcos',
      [create, write],
    );
  }
}

function splitUser(q: string): { name: string; domain: string } {
  const i = q.indexOf('\\');
  return { domain: q.slice(0, i), name: q.slice(i + 1) };
}
