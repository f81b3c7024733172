export { SigmaRuleError, type SigmaIssueCode, type SigmaPosition } from './errors.js';
export {
  loadSigmaText,
  MAX_ALIAS_COUNT,
  MAX_RULE_BYTES,
  parseSigmaDocuments,
  readSigmaDocument,
  type SigmaDocuments,
  type SigmaFileResult,
} from './load.js';
export { listSigmaFiles, loadSigmaFile, loadSigmaPath, type SigmaLoad } from './io.js';
export type {
  DetectionItem,
  SearchNode,
  SigmaLevel,
  SigmaLogsource,
  SigmaFilter,
  SigmaRelated,
  SigmaRule,
  SigmaStatus,
} from './rule.js';
export { SIGMA_LEVELS, SIGMA_STATUSES } from './rule.js';
export type { ConditionNode } from './condition.js';
export { SUPPORTED_MODIFIERS } from './modifiers.js';
export type { SigmaString, SigmaValue } from './values.js';
export { parsePcre, PcreError, type PcreFlags } from './pcre.js';
export type { LogsourceVariant, ProcessingPipeline } from './pipeline.js';
export { pipelineByProduct } from './pipeline.js';
export { windowsPipeline, WINDOWS_CATEGORIES, WINDOWS_SERVICE_CHANNELS } from './windows.js';
export { zeekPipeline } from './zeek.js';
export {
  EventView,
  fieldId,
  memoTestId,
  objectFieldSource,
  ValueFacts,
  ValueMemo,
  type FieldSource,
  type FieldValue,
} from './field-source.js';
export {
  compileSigmaRule,
  MatcherCache,
  type CompiledSigmaRule,
  type CompiledVariant,
  type EventPredicate,
} from './compile.js';
export {
  SigmaRuleSet,
  type SigmaRuleFailure,
  type SigmaRuleSetOptions,
  type SigmaRuleSetStats,
} from './rule-set.js';
export {
  SEQUOR_EVENT_SIGMA_FIELDS,
  SequorEventFields,
  sequorEventFieldSource,
  sigmaRuleEventFields,
} from './sequor-event.js';
export { evtxFieldSource, EvtxJsonError, readEvtxJson, splitJsonDocuments } from './evtx-json.js';
export { defaultPipeline, match } from './api.js';
export { applySigmaFilters, filterApplies } from './filters.js';
export {
  parseSigmaTimespan,
  readSigmaCorrelation,
  SIGMA_CORRELATION_TYPES,
  type SigmaCorrelation,
  type SigmaUnloadedCorrelation,
  type SigmaCorrelationType,
  type SigmaNameAt,
} from './correlation.js';
export { loadSigmaDocuments, type SigmaDocumentsResult } from './correlation-load.js';
export {
  compileSigmaCorrelation,
  compileSigmaCorrelations,
  DEFAULT_CORRELATION_EVIDENCE,
  SigmaReferences,
  silencedBySigmaCorrelations,
  type CompiledSigmaCorrelation,
  type SigmaCorrelationOptions,
  type SigmaCorrelationSet,
  type SigmaTarget,
} from './correlation-compile.js';
