export * from './ast.js';
export { checkQuery, hasBlockingErrors, isCidr, MAX_RUNS } from './check.js';
export { EqlSemanticError, EqlSyntaxError, formatAt } from './errors.js';
export type { ErrorPosition, SemanticErrorCode, Severity } from './errors.js';
export { FUNCTIONS, lookupFunction, paramAt } from './functions.js';
export type { FunctionName, FunctionParam, FunctionSignature, FunctionSpec, ValueType } from './functions.js';
export { DURATION_UNITS, KEYWORDS, MAX_NESTING, parse, tryParse } from './parser.js';
export { print, printExpr, printString } from './print.js';
export {
  checkLuceneRegex,
  complementRanges,
  LuceneRegexError,
  MAX_REGEX_NESTING,
  normalizeRanges,
  parseLuceneRegex,
  type CodePointRanges,
  type LuceneRegexNode,
} from './lucene-regex.js';
