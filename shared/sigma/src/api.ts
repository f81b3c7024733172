/** The small public surface: the default pipeline and a one-call match for tests and oracles. */
import type { CompiledSigmaRule } from './compile.js';
import { EventView } from './field-source.js';
import type { FieldSource } from './field-source.js';
import { pipelineByProduct } from './pipeline.js';
import { windowsPipeline } from './windows.js';
import { zeekPipeline } from './zeek.js';

/** Windows and Zeek, by the rule's `logsource.product`. */
export const defaultPipeline = pipelineByProduct({ windows: windowsPipeline, zeek: zeekPipeline });

/** Whether one event matches one compiled rule (its logsource conditions and its detection). */
export function match(rule: CompiledSigmaRule, source: FieldSource): boolean {
  return rule.matches(new EventView(source));
}
