export * from './ast.js';
export { EqlSemanticError, EqlSyntaxError, formatAt } from './errors.js';
export type { ErrorPosition, SemanticErrorCode, Severity } from './errors.js';
export { DURATION_UNITS, KEYWORDS, parse, tryParse } from './parser.js';
export { print, printExpr } from './print.js';
