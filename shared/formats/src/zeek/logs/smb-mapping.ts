/**
 * Zeek `smb_mapping.log`: one line per SMB tree connect (a client mapping a share: `\\host\ADMIN$`,
 * `\\host\IPC$`, ...). `share_type` is DISK, PIPE or PRINT; `service` and `native_file_system` come
 * from the tree connect response and are often unset for SMB2.
 */
import { column, connIdColumns } from '../columns.js';
import type { ZeekLogSpec } from '../log-spec.js';
import { shareOfTreePath, zeekEvent } from '../event.js';

const columns = [
  ...connIdColumns,
  column('path', 'string'),
  column('service', 'string'),
  column('native_file_system', 'string'),
  column('share_type', 'string', { required: true }),
] as const;

export const zeekSmbMapping: ZeekLogSpec<typeof columns> = {
  formatName: 'zeek-smb-mapping',
  path: 'smb_mapping',
  description: 'Zeek smb_mapping.log (TSV or JSON): SMB tree connects (shares mapped)',
  columns,
  jsonSignature: ['share_type'],
  toEvent(row, ctx) {
    const event = zeekEvent(
      row,
      { path: 'smb_mapping', type: 'protocol', action: null, transport: 'tcp', protocol: 'smb' },
      ctx,
    );
    event.smb = {
      path: row.path,
      share: shareOfTreePath(row.path),
      service: row.service,
      native_file_system: row.native_file_system,
      share_type: row.share_type,
      action: null,
    };
    return event;
  },
};
