import type { EntityIdentityOptions, SequorEvent } from '@sequor/model';
import { deriveHostId, deriveUserId } from '@sequor/model';
import { blank } from './blank.js';

/**
 * The last step of the ECS-carrying formats: host.id from the source's own host id (the document's
 * `host.id`, e.g. an agent GUID) or the host name per the identity options; user.id from the document
 * or derived from user name and domain.
 */
export function applyIdentity(
  ev: SequorEvent,
  sourceHostId: string | null,
  hostName: string | null,
  identity: EntityIdentityOptions,
): void {
  const name = hostName ?? ev.host?.name ?? null;
  const id = deriveHostId({ id: sourceHostId, name }, identity);
  if (id !== null) {
    const host = ev.host ?? (ev.host = blank('host'));
    host.id = id;
    if (host.name === null) host.name = name;
  }
  const user = ev.user;
  if (user !== null && user.id === null) user.id = deriveUserId(user, identity);
}
