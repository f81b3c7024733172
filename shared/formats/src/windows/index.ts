export { flatWindowsFormat, FLAT_WINDOWS } from './flat-windows.js';
export { winlogbeatFormat, WINLOGBEAT } from './winlogbeat.js';
export { ecsFormat, ECS } from './ecs.js';
export {
  BINARY_EVTX_REASON,
  evtxJsonFormat,
  EVTX_JSON,
  evtxSystemFields,
  evtxValue,
  isBinaryEvtx,
  readEvtxDocument,
} from './evtx-json.js';
export type { EvtxDocument, EvtxValue } from './evtx-json.js';
export { frameJsonDocuments, JsonDocumentFramer } from './evtx-documents.js';
export type { FramedDocument } from './evtx-documents.js';
export { RecordProblem } from './problem.js';
export { DEFAULT_MAX_RECORD_BYTES } from './json-record.js';
export { knownChannels, logonTypeNames } from './channels.js';
export type { KnownChannel, ChannelKind } from './channels.js';
export { splitRegistryPath, registryData } from './registry-path.js';
export type { RegistryPathParts } from './registry-path.js';

import { ecsFormat } from './ecs.js';
import { evtxJsonFormat } from './evtx-json.js';
import { flatWindowsFormat } from './flat-windows.js';
import { winlogbeatFormat } from './winlogbeat.js';
import type { SourceFormat } from '../types.js';

/** The Windows formats, in auto-detection order (the most specific shape first). */
export const windowsFormats: readonly SourceFormat[] = Object.freeze([
  winlogbeatFormat,
  flatWindowsFormat,
  ecsFormat,
  evtxJsonFormat,
]);
