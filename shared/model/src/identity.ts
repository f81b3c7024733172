/**
 * Entity identity: how `host.id` and `user.id` are filled when a source does not carry them, so that
 * `sequence by host.id, user.id` joins events of one machine and one account across sources. Pure and
 * deterministic: the same fields and options give the same id on every run and in every process.
 *
 * Rules (documented in shared/model/README.md):
 * - host.id = the source's host id when present (and `hostIdFrom` is `source`), else `name:` + the host
 *   name lower-cased, by default cut to its first label (`WORKSTATION5.theshire.local` -> `name:workstation5`);
 *   IP addresses used as host names are kept whole.
 * - user.id = the SID (or the source's user id) when present, else `name:<domain>\<name>` lower-cased
 *   (`name:<name>` without a domain), else null.
 */
import type { Env } from './env.js';
import { ConfigError } from './errors.js';

export interface EntityIdentityOptions {
  /** `source`: keep a host id the source carries (agent GUID); `name`: always derive from the host name (mixed fleets). */
  readonly hostIdFrom: 'source' | 'name';
  /** `short`: first label of the host name; `fqdn`: the whole name. */
  readonly hostNameForm: 'short' | 'fqdn';
}

export const defaultEntityIdentity: EntityIdentityOptions = Object.freeze({
  hostIdFrom: 'source',
  hostNameForm: 'short',
});

/** Prefix that marks an id derived from a name rather than given by the source. */
export const derivedIdPrefix = 'name:';

/**
 * Reads `SEQUOR_HOST_ID_FROM` (source|name) and `SEQUOR_HOST_NAME_FORM` (short|fqdn); unset means the
 * default. Takes the environment as an argument so the model stays free of process state.
 */
export function entityIdentityFromEnv(env: Env): EntityIdentityOptions {
  const from = env['SEQUOR_HOST_ID_FROM'];
  const form = env['SEQUOR_HOST_NAME_FORM'];
  if (from !== undefined && from !== '' && from !== 'source' && from !== 'name') {
    throw new ConfigError('SEQUOR_HOST_ID_FROM', from, '"source" or "name"');
  }
  if (form !== undefined && form !== '' && form !== 'short' && form !== 'fqdn') {
    throw new ConfigError('SEQUOR_HOST_NAME_FORM', form, '"short" or "fqdn"');
  }
  return Object.freeze({
    hostIdFrom: from === 'name' ? 'name' : defaultEntityIdentity.hostIdFrom,
    hostNameForm: form === 'fqdn' ? 'fqdn' : defaultEntityIdentity.hostNameForm,
  });
}

/** A value sources use for "nothing here": null, empty, whitespace, or Windows' "-". */
export function isAbsent(value: string | null | undefined): value is null | undefined {
  if (value === null || value === undefined) return true;
  const t = value.trim();
  return t === '' || t === '-';
}

const ipv4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** The host name as it takes part in identity: lower-cased, trailing dot dropped, short or FQDN. */
export function canonicalHostName(
  name: string,
  options: EntityIdentityOptions = defaultEntityIdentity,
): string {
  let n = name.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (options.hostNameForm === 'fqdn' || ipv4.test(n) || n.includes(':')) return n;
  const dot = n.indexOf('.');
  return dot > 0 ? n.slice(0, dot) : n;
}

export interface HostIdentityFields {
  /** The id the source carries (agent GUID), if any. */
  readonly id?: string | null;
  readonly name?: string | null;
}

/** host.id per the rules above; null only when the source has neither an id nor a name. */
export function deriveHostId(
  fields: HostIdentityFields,
  options: EntityIdentityOptions = defaultEntityIdentity,
): string | null {
  if (options.hostIdFrom === 'source' && !isAbsent(fields.id)) return fields.id.trim();
  if (!isAbsent(fields.name)) return derivedIdPrefix + canonicalHostName(fields.name, options);
  return null;
}

export interface UserIdentityFields {
  /** The SID (Windows) or the source's own user id. */
  readonly id?: string | null;
  readonly name?: string | null;
  readonly domain?: string | null;
}

/** user.id per the rules above. */
export function deriveUserId(
  fields: UserIdentityFields,
  _options: EntityIdentityOptions = defaultEntityIdentity,
): string | null {
  if (!isAbsent(fields.id)) return fields.id.trim();
  if (isAbsent(fields.name)) return null;
  const name = fields.name.trim().toLowerCase();
  return isAbsent(fields.domain)
    ? derivedIdPrefix + name
    : `${derivedIdPrefix}${fields.domain.trim().toLowerCase()}\\${name}`;
}

/** Prefix that marks a host id derived from an IP address (network sensors such as Zeek see no host name). */
export const ipHostIdPrefix = 'ip:';

/**
 * host.id for a host known only by its address (`10.0.0.5` -> `ip:10.0.0.5`, IPv6 lower-cased). A
 * different prefix from `name:` so an address-derived id is never mistaken for a name-derived one.
 */
export function deriveHostIdFromIp(ip: string): string | null {
  if (isAbsent(ip)) return null;
  return ipHostIdPrefix + ip.trim().toLowerCase();
}
