import { describe, expect, it } from 'vitest';
import { registryData, splitRegistryPath } from '../../src/index.js';

describe('splitRegistryPath', () => {
  it('splits a value path into hive, key and value', () => {
    expect(splitRegistryPath('HKLM\\System\\CurrentControlSet\\Services\\Fax\\ImagePath', true)).toEqual({
      hive: 'HKLM',
      key: 'System\\CurrentControlSet\\Services\\Fax',
      value: 'ImagePath',
    });
  });
  it('keeps a key path whole for key events', () => {
    expect(splitRegistryPath('HKU\\S-1-5-21-1\\Software\\Remcos', false)).toEqual({
      hive: 'HKU',
      key: 'S-1-5-21-1\\Software\\Remcos',
      value: null,
    });
  });
  it('maps long and kernel hive names', () => {
    expect(splitRegistryPath('HKEY_LOCAL_MACHINE\\SAM\\x', true)).toEqual({
      hive: 'HKLM',
      key: 'SAM',
      value: 'x',
    });
    expect(splitRegistryPath('\\REGISTRY\\MACHINE\\SYSTEM\\Select\\Current', true)).toEqual({
      hive: 'HKLM',
      key: 'SYSTEM\\Select',
      value: 'Current',
    });
    expect(splitRegistryPath('\\REGISTRY\\USER\\S-1-5-18', false)).toEqual({
      hive: 'HKU',
      key: 'S-1-5-18',
      value: null,
    });
  });
  it('leaves an unknown first segment in the key', () => {
    expect(splitRegistryPath('Foo\\Bar\\Baz', true)).toEqual({ hive: null, key: 'Foo\\Bar', value: 'Baz' });
  });
});

describe('registryData', () => {
  it('decodes DWORD and QWORD details, keeps text', () => {
    expect(registryData('DWORD (0x00000067)')).toEqual({ strings: ['103'], type: 'SZ_DWORD' });
    expect(registryData('QWORD (0x00000001-0x00000002)')).toEqual({
      strings: [String(2 ** 32 + 2)],
      type: 'SZ_QWORD',
    });
    expect(registryData('C:\\WINDOWS\\system32\\fxssvc.exe')).toEqual({
      strings: ['C:\\WINDOWS\\system32\\fxssvc.exe'],
      type: null,
    });
  });
});
