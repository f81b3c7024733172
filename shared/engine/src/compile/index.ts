export {
  compileAccessor,
  resolveField,
  suggestFields,
  type Accessor,
  type ResolvedField,
} from './accessor.js';
export { CATEGORY_FIELD, compileCategory } from './category.js';
export { CompileContext } from './context.js';
export {
  CompileError,
  InvalidPatternError,
  QueryCompileError,
  TypeMismatchError,
  UnknownFieldError,
  UnknownFunctionError,
  UnsupportedQueryError,
} from './errors.js';
export {
  compileCondition,
  compilePredicate,
  compileValue,
  toPredicate,
  type Condition,
  type Tri,
} from './expression.js';
export { cidrMatcher, FUNCTIONS, type FunctionDef, type ValueFn } from './functions.js';
export { newIpWords, parseCidr, parseIpInto, type CidrBlock, type IpWords } from './ip.js';
export { compileKey, type CompiledKey } from './keys.js';
export {
  automatonWork,
  compileLuceneRegex,
  compileRegexTree,
  LuceneRegexError,
  MAX_AUTOMATON_STATES,
  MAX_DFA_STATES,
  type LuceneMatcher,
} from './lucene-regex.js';
export {
  compileEventTime,
  compileQuery,
  compileSpanAggregate,
  DEFAULT_JOIN_WINDOW_MS,
  type CompiledQuery,
  type CompileOptions,
  type SpanAggregateOptions,
} from './query.js';
export { compileWildcard, compileWildcardList, wildcardCost, type StringMatcher } from './wildcard.js';
