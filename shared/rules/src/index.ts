export * from './types.js';
export * from './errors.js';
// The alert's one home is @sequor/model (generated from schemas/alert.avsc); re-exported for rule users.
export type {
  Alert,
  AlertAttackRef,
  AlertEntity,
  AlertEvidence,
  AlertEvidenceField,
  AlertKey,
  AlertRule,
  AlertThreat,
} from '@sequor/model';
export { analyzeRuleText, type RuleAnalysisOptions, type RuleFileResult } from './analyze.js';
export {
  loadRuleDir,
  loadRuleFile,
  loadRuleFileDocuments,
  loadRuleFiles,
  listRuleFiles,
  type LoadOptions,
  type RuleDirLoad,
} from './loader.js';
export {
  checkPartitionCompatibility,
  checkRuleSet,
  defaultPartitionKeyFields,
  duplicateIdErrors,
  summarize,
  type LintSummary,
  type RuleSetCheckOptions,
} from './lint.js';
export { severityForRiskScore, parseSpan, ruleKeys } from './metadata.js';
export {
  compileExceptions,
  exceptionOperators,
  withExceptions,
  type ExceptionEntry,
  type ExceptionItem,
  type ExceptionOperator,
} from './exceptions.js';
export {
  loadValueLists,
  parseValueList,
  noValueLists,
  MAX_VALUE_LIST_BYTES,
  MAX_VALUE_LIST_ENTRIES,
  valueListTypes,
  type ValueList,
  type ValueListRefusal,
  type ValueListSet,
  type ValueListType,
} from './value-lists.js';
export { buildAlertUpdate, compileSuppression, type CompiledSuppression } from './suppress.js';
export { isCorrelationRule, itemKeyFields, queryFieldNames, ruleKeyFields } from './query-fields.js';
export { MessageTemplate, renderValue, missingValueText, type Placeholder } from './message.js';
export { RuleSourceMap, type FilePosition } from './source-map.js';
export {
  buildAlert,
  compileRule,
  type AlertContext,
  type CompiledRule,
  type CompileRuleOptions,
} from './compile.js';
export {
  runRuleTests,
  describeFailures,
  decodeTestEvents,
  type RuleTestOptions,
  type RuleTestResult,
} from './test-runner.js';
export { builtinRulesDir, loadBuiltinRules, loadBuiltinRuleSet } from './builtin.js';
export {
  loadRuleSet,
  ruleSetFiles,
  RulePathError,
  type RulePathProblem,
  type RuleSetSources,
} from './rule-set.js';
export {
  analyzeSigmaText,
  compileSigmaRules,
  documentRange,
  ruleErrorOfSigma,
  severityOfSigmaLevel,
  sigmaFilterDispatch,
  sniffRuleLanguage,
  type RuleLanguage,
} from './sigma.js';
export {
  RuleCatalog,
  type CatalogChange,
  type CatalogRule,
  type CatalogValidator,
  type RuleCatalogOptions,
  type RuleSetRevision,
  type RuleTopicRecord,
  type ValidatedRule,
} from './rule-catalog.js';
export {
  listContentHash,
  listRecordKey,
  LIST_KEY_PREFIX,
  parseRuleRecordKey,
  RULE_KEY_PREFIX,
  RuleRecordError,
  ruleRecordKey,
  ruleRevision,
  checkRuleRecordText,
  filtersBeyondRecord,
  type RuleRecordCheck,
  type RuleRecordKey,
} from './rule-record.js';
export {
  parseMinLevel,
  parseStatuses,
  parseTags,
  refusalCodes,
  ruleSelected,
  RuleSelectionError,
  selectRules,
  type RuleSelection,
} from './select.js';
export {
  decodeEvtxJson,
  listRegressionTests,
  runRegressionTests,
  type RegressionOutcome,
  type RegressionResult,
} from './regression.js';
