/**
 * Elastic Endpoint file events (`logs-endpoint.events.file-*` documents, data_stream.dataset
 * "endpoint.events.file"): ECS with `file.Ext.header_bytes` (hex of the first 16 bytes) and the
 * effective user of the writing thread. `host.id` is the same machine id Winlogbeat reports.
 */
import type { FileEvent } from '../events.js';
import type { Rng } from '../random.js';
import type { Host } from '../world.js';

const ACTION_TYPE: Readonly<Record<FileEvent['action'], string>> = {
  creation: 'creation',
  modification: 'change',
  deletion: 'deletion',
};

export function endpointLine(host: Host, ts: number, e: FileEvent, rng: Rng): string {
  const iso = new Date(ts).toISOString();
  const sequence = ++host.counters.endpoint;
  const name = e.path.slice(e.path.lastIndexOf('\\') + 1);
  const dot = name.lastIndexOf('.');
  const file: Record<string, unknown> = {};
  if (e.headerBytes !== null) file['Ext'] = { header_bytes: e.headerBytes };
  if (dot > 0) file['extension'] = name.slice(dot + 1);
  file['name'] = name;
  file['path'] = e.path;
  if (e.size !== null) file['size'] = e.size;
  const p = e.proc;
  const process =
    p.parent === null
      ? { entity_id: p.entityId, executable: p.image, name: p.name, pid: p.pid }
      : {
          entity_id: p.entityId,
          executable: p.image,
          name: p.name,
          parent: { entity_id: p.parent.entityId, pid: p.parent.pid },
          pid: p.pid,
        };
  return (
    `{"@timestamp":"${iso}","agent":${host.json.endpointAgent},"data_stream":{"dataset":"endpoint.events.file","namespace":"default","type":"logs"}` +
    `,"ecs":{"version":"8.10.0"},"elastic":{"agent":{"id":"${host.json.endpointAgentId}"}}` +
    `,"event":{"action":"${e.action}","category":["file"],"created":"${iso}","dataset":"endpoint.events.file","id":"${rng.alnum(16)}++++${rng.alnum(4)}","kind":"event","module":"endpoint","outcome":"unknown","sequence":${sequence},"type":["${ACTION_TYPE[e.action]}"]}` +
    `,"file":${JSON.stringify(file)},"host":${host.json.endpointHost},"message":"Endpoint file event"` +
    `,"process":${JSON.stringify(process)},"user":${JSON.stringify({ domain: e.account.domain, id: e.account.sid, name: e.account.name })}}`
  );
}
