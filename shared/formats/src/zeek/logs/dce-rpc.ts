/**
 * Zeek `dce_rpc.log`: one line per DCE-RPC request/response pair Zeek chose to log (it leaves out
 * `DCE_RPC::ignored_operations`, among them the read-only winreg calls, unless a sensor changes that).
 *
 * `named_pipe` is the bind-ack's secondary address: an SMB pipe path (`\PIPE\winreg`, case varies)
 * or a TCP port (`49677`) when DCE-RPC ran over TCP. Recent Zeek renames the column `sec_addr`; either
 * is read into `dce_rpc.named_pipe`.
 */
import { column, connIdColumns } from '../columns.js';
import type { ZeekLogSpec } from '../log-spec.js';
import { zeekEvent } from '../event.js';

const columns = [
  ...connIdColumns,
  column('rtt', 'interval'),
  column('named_pipe', 'string', { names: ['named_pipe', 'sec_addr'] }),
  column('endpoint', 'string', { required: true }),
  column('operation', 'string', { required: true }),
] as const;

export const zeekDceRpc: ZeekLogSpec<typeof columns> = {
  formatName: 'zeek-dce-rpc',
  path: 'dce_rpc',
  description: 'Zeek dce_rpc.log (TSV or JSON): DCE-RPC operations by interface (endpoint) and pipe',
  columns,
  jsonSignature: ['endpoint', 'operation'],
  toEvent(row, ctx) {
    const event = zeekEvent(
      row,
      { path: 'dce_rpc', type: 'protocol', action: row.operation, transport: 'tcp', protocol: 'dce_rpc' },
      ctx,
    );
    event.dce_rpc = { named_pipe: row.named_pipe, endpoint: row.endpoint, operation: row.operation };
    return event;
  },
};
