import type { SourceFormat } from '../types.js';
import { zeekAnyLogFormat, zeekSourceFormat } from './format.js';
import { zeekConn } from './logs/conn.js';
import { zeekDceRpc } from './logs/dce-rpc.js';
import { zeekSmbFiles } from './logs/smb-files.js';
import { zeekSmbMapping } from './logs/smb-mapping.js';

export { ZeekDecoder } from './format.js';
export { ZeekTsvReader, unescapeZeek } from './tsv.js';
export type { ZeekTsvHeader, ZeekTsvLine } from './tsv.js';

/** Zeek dce_rpc, smb_mapping, smb_files and conn logs, TSV and JSON, then any Zeek log (`zeek`: by its path). */
export const zeekFormats: readonly SourceFormat[] = [
  zeekSourceFormat(zeekDceRpc),
  zeekSourceFormat(zeekSmbMapping),
  zeekSourceFormat(zeekSmbFiles),
  zeekSourceFormat(zeekConn),
  zeekAnyLogFormat,
];
