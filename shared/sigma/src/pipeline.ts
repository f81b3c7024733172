/**
 * The processing pipeline, in pySigma's sense: what a rule's `logsource` means on the events being
 * matched (conditions on the event: channel, EventID, …) and how its Sigma field names map to the event's
 * fields. The data is ours (`windows.ts`, `zeek.ts`), written from Microsoft's channel names and Sysmon's
 * EventIDs as pySigma's Windows pipelines and SigmaHQ's THOR mapping use them.
 */
import type { SigmaLogsource } from './rule.js';

/** One kind of event a logsource selects: Sysmon EventID 1, or Security 4688 with its field names. */
export interface LogsourceVariant {
  /** Short name for messages and reports (`sysmon/1`, `security/4688`). */
  readonly name: string;
  /**
   * Conditions on the event, every one required; each field matches any of its values (strings compare
   * case-insensitively, numbers also match their decimal string). Also the keys of the dispatch index.
   */
  readonly conditions: Readonly<Record<string, readonly (string | number)[]>>;
  /**
   * Fields the event must not have (absent or null): `_path` for a bare `product: windows`, since a Zeek
   * record (which names its log in `_path`) is never a Windows log. Also a dispatch key: such a variant is
   * not even offered an event that has the field.
   */
  readonly absent?: readonly string[];
  /** Sigma field name → the event's field name, where they differ. */
  readonly fieldMap: Readonly<Record<string, string>>;
}

export interface ProcessingPipeline {
  readonly name: string;
  /** The variants a logsource selects, or the reason it selects nothing this pipeline knows. */
  resolve(logsource: SigmaLogsource): readonly LogsourceVariant[] | string;
}

/** Several pipelines, by product: the first that knows the product answers. */
export function pipelineByProduct(
  pipelines: Readonly<Record<string, ProcessingPipeline>>,
): ProcessingPipeline {
  return {
    name: Object.values(pipelines)
      .map((p) => p.name)
      .join('+'),
    resolve(logsource) {
      const product = logsource.product;
      if (product === undefined)
        return 'a logsource without `product` is not supported (no pipeline knows its events)';
      const pipeline = pipelines[product];
      if (pipeline === undefined) {
        return `no processing pipeline for product \`${product}\` (known: ${Object.keys(pipelines).join(', ')})`;
      }
      return pipeline.resolve(logsource);
    },
  };
}
