/**
 * Whole Sigma files with correlations: every YAML document of a file (`---` separated) as a detection
 * rule, a meta filter or a correlation, as the specification's examples write a correlation beside the
 * rules it names. Pure: the text in, the documents and every error out.
 */
import type { Document } from 'yaml';
import { isMap } from 'yaml';
import type { SigmaCorrelation, SigmaUnloadedCorrelation } from './correlation.js';
import { namedBySigmaCorrelation, readSigmaCorrelation } from './correlation.js';
import { SigmaRuleError } from './errors.js';
import { parseSigmaDocuments, readSigmaDocument } from './load.js';
import type { SigmaFilter, SigmaRule } from './rule.js';

export interface SigmaDocumentsResult {
  readonly file: string;
  /** The detection rules of the file that loaded, in file order. */
  readonly rules: readonly SigmaRule[];
  readonly filters: readonly SigmaFilter[];
  readonly correlations: readonly SigmaCorrelation[];
  /** The correlations that did not load, with what they name (`SigmaUnloadedCorrelation`) when readable. */
  readonly unloadedCorrelations: readonly SigmaUnloadedCorrelation[];
  /** Every document's errors and refusals, each at `file:line:column`. */
  readonly errors: readonly SigmaRuleError[];
}

/**
 * Loads every document of a Sigma file: detection rules, meta filters and correlations. A document with
 * errors is left out and its errors reported; the other documents still load (a correlation that names
 * a rule which did not load is refused when it is compiled, naming the rule). Sigma 1 collections
 * (`action: global`, `reset`, `repeat`) are refused with the reason.
 *
 * @example
 * const loaded = loadSigmaDocuments(text, 'mr_brute_force.yml');
 * const compiled = compileSigmaCorrelations(loaded.correlations, references, source);
 */
export function loadSigmaDocuments(text: string, file: string): SigmaDocumentsResult {
  const parsed = parseSigmaDocuments(text, file);
  if ('errors' in parsed) {
    // A YAML error refuses the file whole; its correlations still name their building blocks, as far as
    // their documents parsed.
    const found = parsed.parsed;
    const unloadedCorrelations = (found?.docs ?? []).flatMap((doc) => {
      const contents = doc.contents;
      // Its own YAML error too: `named` reads what parsed (the rules list before a bad last line, say).
      if (found === undefined || !isMap(contents) || !contents.has('correlation')) return [];
      const named = namedBySigmaCorrelation(text, file, doc, found.lines);
      return named === null ? [] : [named];
    });
    return { file, rules: [], filters: [], correlations: [], unloadedCorrelations, errors: parsed.errors };
  }
  const rules: SigmaRule[] = [];
  const filters: SigmaFilter[] = [];
  const correlations: SigmaCorrelation[] = [];
  const unloadedCorrelations: SigmaUnloadedCorrelation[] = [];
  const errors: SigmaRuleError[] = [];
  for (const doc of parsed.docs as Document.Parsed[]) {
    const contents = doc.contents;
    if (isMap(contents) && contents.has('action')) {
      const at = parsed.lines.at(contents.range?.[0] ?? 0);
      errors.push(
        new SigmaRuleError(
          file,
          at,
          'unsupported',
          'Sigma 1 collections (`action: global`, `reset`, `repeat`) are not supported: write each rule as its own document',
          text,
        ),
      );
      continue;
    }
    if (isMap(contents) && contents.has('correlation')) {
      const read = readSigmaCorrelation(text, file, doc, parsed.lines);
      if (read.correlation !== null) correlations.push(read.correlation);
      if (read.unloaded !== null) unloadedCorrelations.push(read.unloaded);
      errors.push(...read.errors);
      continue;
    }
    const read = readSigmaDocument(text, file, doc);
    if (read.rule !== null) rules.push(read.rule);
    if (read.filter !== null) filters.push(read.filter);
    errors.push(...read.errors);
  }
  return { file, rules, filters, correlations, unloadedCorrelations, errors };
}
