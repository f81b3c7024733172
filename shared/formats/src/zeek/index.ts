import type { SourceFormat } from '../types.js';

/** Zeek dce_rpc, smb_mapping, smb_files and conn logs, TSV and JSON. */
export const zeekFormats: readonly SourceFormat[] = [];
