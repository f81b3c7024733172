import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  canonicalHostName,
  deriveHostIdFromIp,
  defaultEntityIdentity,
  deriveHostId,
  deriveUserId,
  entityIdentityFromEnv,
} from '../src/index.js';

describe('deriveHostId', () => {
  it('gives one id to a short and a fully qualified name of the same machine', () => {
    const a = deriveHostId({ name: 'WORKSTATION5' });
    const b = deriveHostId({ name: 'WORKSTATION5.theshire.local' });
    expect(a).toBe('name:workstation5');
    expect(b).toBe(a);
  });

  it('keeps the FQDN when configured', () => {
    const fqdn = { hostIdFrom: 'source', hostNameForm: 'fqdn' } as const;
    expect(deriveHostId({ name: 'WORKSTATION5.theshire.local.' }, fqdn)).toBe(
      'name:workstation5.theshire.local',
    );
    expect(deriveHostId({ name: 'WORKSTATION5' }, fqdn)).toBe('name:workstation5');
  });

  it("uses the source's id when present, the name when forced", () => {
    const agent = '8f2b1c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
    expect(deriveHostId({ id: agent, name: 'DC1.contoso.com' })).toBe(agent);
    expect(
      deriveHostId({ id: agent, name: 'DC1.contoso.com' }, { hostIdFrom: 'name', hostNameForm: 'short' }),
    ).toBe('name:dc1');
  });

  it('treats "-", empty and whitespace as absent', () => {
    expect(deriveHostId({ id: '-', name: 'Host' })).toBe('name:host');
    expect(deriveHostId({ id: '  ', name: null })).toBeNull();
    expect(deriveHostId({})).toBeNull();
  });

  it('marks address-derived ids apart from name-derived ones', () => {
    expect(deriveHostIdFromIp('FE80::1')).toBe('ip:fe80::1');
    expect(deriveHostIdFromIp('-')).toBeNull();
  });

  it('does not cut IP addresses used as host names', () => {
    expect(canonicalHostName('172.18.39.5', defaultEntityIdentity)).toBe('172.18.39.5');
    expect(deriveHostId({ name: 'FE80::1' })).toBe('name:fe80::1');
  });
});

describe('deriveUserId', () => {
  it('prefers the SID', () => {
    expect(
      deriveUserId({
        id: 'S-1-5-21-4228717743-1032521047-1810997296-1104',
        name: 'pgustavo',
        domain: 'THESHIRE',
      }),
    ).toBe('S-1-5-21-4228717743-1032521047-1810997296-1104');
  });
  it('falls back to domain\\name, lower-cased, then to the name alone, then null', () => {
    expect(deriveUserId({ id: null, name: 'PGustavo', domain: 'THESHIRE' })).toBe('name:theshire\\pgustavo');
    expect(deriveUserId({ id: '-', name: 'pgustavo', domain: '-' })).toBe('name:pgustavo');
    expect(deriveUserId({ id: null, name: null, domain: 'THESHIRE' })).toBeNull();
  });
});

describe('entityIdentityFromEnv', () => {
  it('reads both variables, defaults when unset', () => {
    expect(entityIdentityFromEnv({})).toEqual({ hostIdFrom: 'source', hostNameForm: 'short' });
    expect(entityIdentityFromEnv({ SEQUOR_HOST_ID_FROM: 'name', SEQUOR_HOST_NAME_FORM: 'fqdn' })).toEqual({
      hostIdFrom: 'name',
      hostNameForm: 'fqdn',
    });
  });
  it('rejects unknown values with the variable named', () => {
    expect(() => entityIdentityFromEnv({ SEQUOR_HOST_ID_FROM: 'agent' })).toThrow(ConfigError);
    expect(() => entityIdentityFromEnv({ SEQUOR_HOST_NAME_FORM: 'long' })).toThrow(
      /SEQUOR_HOST_NAME_FORM="long"/,
    );
  });
});
