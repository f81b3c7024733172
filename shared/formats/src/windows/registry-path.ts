/**
 * Splits a registry path as Sysmon writes it (`TargetObject`) into ECS registry fields:
 * `HKLM\System\CurrentControlSet\Services\Fax\ImagePath` (a value) ->
 * hive `HKLM`, key `System\CurrentControlSet\Services\Fax`, value `ImagePath`.
 * For key events (CreateKey, DeleteKey, RenameKey) the whole path after the hive is the key and there
 * is no value. Kernel spellings (`\REGISTRY\MACHINE\...`) and long hive names map to the short hive.
 */
const hiveNames: Readonly<Record<string, string>> = Object.freeze({
  HKEY_CLASSES_ROOT: 'HKCR',
  HKCR: 'HKCR',
  HKEY_CURRENT_CONFIG: 'HKCC',
  HKCC: 'HKCC',
  HKEY_CURRENT_USER: 'HKCU',
  HKCU: 'HKCU',
  HKEY_LOCAL_MACHINE: 'HKLM',
  HKLM: 'HKLM',
  HKEY_USERS: 'HKU',
  HKU: 'HKU',
  '\\REGISTRY\\MACHINE': 'HKLM',
  '\\REGISTRY\\USER': 'HKU',
});

const kernelPrefix = /^\\REGISTRY\\(MACHINE|USER)(?=\\|$)/i;

export interface RegistryPathParts {
  readonly hive: string | null;
  readonly key: string | null;
  readonly value: string | null;
}

export function splitRegistryPath(path: string, isValue: boolean): RegistryPathParts {
  let rest = path;
  let hive: string | null = null;
  const kernel = kernelPrefix.exec(path);
  if (kernel !== null) {
    hive = hiveNames[`\\REGISTRY\\${(kernel[1] as string).toUpperCase()}`] ?? null;
    rest = path.slice(kernel[0].length + 1);
  } else {
    const sep = path.indexOf('\\');
    const first = (sep < 0 ? path : path.slice(0, sep)).toUpperCase();
    const known = hiveNames[first];
    if (known !== undefined) {
      hive = known;
      rest = sep < 0 ? '' : path.slice(sep + 1);
    }
  }
  if (!isValue) return { hive, key: rest === '' ? null : rest, value: null };
  const last = rest.lastIndexOf('\\');
  return last < 0
    ? { hive, key: null, value: rest === '' ? null : rest }
    : { hive, key: rest.slice(0, last), value: rest.slice(last + 1) };
}

const dword = /^DWORD \((0x[0-9a-f]{1,8})\)$/i;
const qword = /^QWORD \((0x[0-9a-f]{1,8})-(0x[0-9a-f]{1,8})\)$/i;

/**
 * Sysmon's `Details`: `DWORD (0x00000004)` -> strings ["4"], type SZ_DWORD (as Winlogbeat does);
 * `QWORD (0x00000001-0x00000002)` (high-low) -> decimal, SZ_QWORD; anything else is kept as written
 * with no type (Sysmon does not say whether a string value is REG_SZ or REG_EXPAND_SZ).
 */
export function registryData(details: string): { strings: string[]; type: string | null } {
  const d = dword.exec(details);
  if (d !== null) return { strings: [String(Number(d[1]))], type: 'SZ_DWORD' };
  const q = qword.exec(details);
  if (q !== null)
    return {
      strings: [((BigInt(q[1] as string) << 32n) + BigInt(q[2] as string)).toString()],
      type: 'SZ_QWORD',
    };
  return { strings: [details], type: null };
}
