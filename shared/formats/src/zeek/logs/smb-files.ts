/**
 * Zeek `smb_files.log`: one line per logged SMB file action (by default `SMB::FILE_OPEN`,
 * `SMB::FILE_RENAME`, `SMB::FILE_DELETE` and print jobs; `SMB::logged_file_actions` can add reads
 * and writes). `path` is the tree (`\\host\C$`), `name` the file relative to it (may hold
 * directories: `Windows\Temp\a.exe`).
 *
 * `file.path` is the full UNC path (`\\host\C$\Windows\Temp\a.exe`), `file.name` the last component
 * of `name`, `file.extension` its extension without the dot (ECS).
 */
import { column, connIdColumns } from '../columns.js';
import type { ZeekLogSpec } from '../log-spec.js';
import { shareOfTreePath, zeekEvent } from '../event.js';

const columns = [
  ...connIdColumns,
  column('fuid', 'string'),
  column('action', 'enum'),
  column('path', 'string'),
  column('name', 'string'),
  column('size', 'count'),
  column('prev_name', 'string'),
  column('times_modified', 'time', { names: ['times.modified'] }),
  column('times_accessed', 'time', { names: ['times.accessed'] }),
  column('times_created', 'time', { names: ['times.created'] }),
  column('times_changed', 'time', { names: ['times.changed'] }),
] as const;

/** Last component of a Windows relative path. */
function baseName(name: string): string {
  const cut = name.lastIndexOf('\\');
  return cut < 0 ? name : name.slice(cut + 1);
}

/** Extension without the dot; none for dot files (`.profile`) and names ending in a dot. */
function extensionOf(fileName: string): string | null {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 && dot < fileName.length - 1 ? fileName.slice(dot + 1) : null;
}

function joinUnc(tree: string | null, name: string): string {
  if (tree === null || tree === '') return name;
  const treeEnds = tree.endsWith('\\');
  const nameStarts = name.startsWith('\\');
  if (treeEnds && nameStarts) return tree + name.slice(1);
  return treeEnds || nameStarts ? tree + name : `${tree}\\${name}`;
}

export const zeekSmbFiles: ZeekLogSpec<typeof columns> = {
  formatName: 'zeek-smb-files',
  path: 'smb_files',
  description: 'Zeek smb_files.log (TSV or JSON): files opened, renamed, deleted (and read/written) over SMB',
  columns,
  jsonSignature: ['name', 'size'],
  toEvent(row, ctx) {
    const event = zeekEvent(
      row,
      { path: 'smb_files', type: 'access', action: row.action, transport: 'tcp', protocol: 'smb' },
      ctx,
    );
    if (row.name !== null) {
      const fileName = baseName(row.name);
      event.file = {
        path: joinUnc(row.path, row.name),
        name: fileName,
        extension: extensionOf(fileName),
        size: row.size,
        Ext: null,
      };
    } else if (row.size !== null) {
      event.file = { path: row.path, name: null, extension: null, size: row.size, Ext: null };
    }
    event.smb = {
      path: row.path,
      share: shareOfTreePath(row.path),
      service: null,
      native_file_system: null,
      share_type: null,
      action: row.action,
    };
    return event;
  },
};
