import type { FieldValue, ProcessingPipeline, SigmaFileResult, SigmaRule } from '../src/index.js';
import { compileSigmaRule, loadSigmaText, match, objectFieldSource } from '../src/index.js';

/** Every event, no renames: tests of the detection alone. */
export const anyEvent: ProcessingPipeline = {
  name: 'test',
  resolve: () => [{ name: 'all', conditions: {}, fieldMap: {} }],
};

/** A rule file around a `detection` block (YAML, indented by the caller as under `detection:`). */
export function ruleText(
  detection: string,
  logsource = 'product: windows\n  category: process_creation',
): string {
  return `title: test rule\nid: 5f1d6c1e-0000-4000-8000-000000000001\nstatus: test\nlevel: high\nlogsource:\n  ${logsource}\ndetection:\n${detection}\n`;
}

export function load(detection: string): SigmaFileResult {
  return loadSigmaText(ruleText(detection), 'test.yml');
}

/** A predicate over flat events for the rule with this detection; throws when it does not load. */
export function matcher(detection: string): (event: Record<string, FieldValue>) => boolean {
  const result = load(detection);
  if (result.rule === null) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  const compiled = compileSigmaRule(result.rule, anyEvent);
  return (event) => match(compiled, objectFieldSource(event));
}

/** The first error of a detection that must not load. */
export function refusal(detection: string): { code: string; line: number; column: number; detail: string } {
  const result = load(detection);
  const e = result.errors[0];
  if (e === undefined) throw new Error('the rule loaded');
  return { code: e.code, line: e.line, column: e.column, detail: e.detail };
}

/** Every string part of the rule's keyword items (Sigma keywords are substrings of any field), lower case. */
export function keywordLiterals(rule: SigmaRule): string[] {
  const literals = new Set<string>();
  for (const search of rule.searches.values()) {
    const walk = (node: typeof search): void => {
      if (node.kind === 'anyOf') return node.maps.forEach(walk);
      for (const item of node.items)
        if (item.field === null)
          for (const v of item.values)
            if (v.kind === 'string' && !v.cased)
              for (const a of v.alternatives)
                for (const p of a.parts)
                  if (typeof p === 'string' && p.length > 0) literals.add(p.toLowerCase());
    };
    walk(search);
  }
  return [...literals];
}

/** A process-creation rule of `detection` with the id `id`, loaded (it must load). */
export function processCreationRule(id: string, detection: string): SigmaRule {
  const { rule, errors } = loadSigmaText(
    ruleText(detection, 'product: windows\n  category: process_creation').replace(
      '5f1d6c1e-0000-4000-8000-000000000001',
      id,
    ),
    `${id}.yml`,
  );
  if (rule === null) throw new Error(errors.map((e) => e.format()).join('\n'));
  return rule;
}
