import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The four seed analytics as EQL (the rule files carry these or close variants). */
export const SEED_QUERIES = [
  `sequence by host.id, user.id with maxspan=1m
 [authentication where
   event.outcome == "success" and
   winlog.logon.type == "Network" and not user.name == "ANONYMOUS LOGON" and
   not user.domain == "NT AUTHORITY" and source.ip != "127.0.0.1" and source.ip !="::1"]
 [file where event.action == "creation" and process.name : "svchost.exe" and
  file.Ext.header_bytes : "72656766*" and user.id : "S-1-5-21-*" and file.size >= 30000]`,
  `join by host.id, process.entity_id with maxspan=1h
  [process where event.type : "start"]
  [registry where registry.path : "*\\\\Software\\\\Remcos*" and registry.data.strings != null]`,
  `network where destination.port == 445 and dce_rpc.endpoint : "winreg" and dce_rpc.operation : ("BaseRegCreateKey*", "BaseRegSetValue*")`,
  `registry where registry.path : "*\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\*" and registry.value : "ImagePath" and registry.data.strings != null`,
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The rule query exactly as published in the Elastic seed analytic (read-only material beside the repo). */
export function elasticSeedRuleQuery(): string {
  const text = readFileSync(
    path.resolve(repoRoot, '../shared/seeds/elastic-potential-remote-credential-access-via-registry.md'),
    'utf8',
  );
  const block = /## Rule query[^\n]*\n+```js\n([\s\S]*?)```/.exec(text);
  if (block?.[1] === undefined) throw new Error('no rule query block in the Elastic seed analytic');
  return block[1];
}
