/**
 * The Zeek processing pipeline: `service` is the Zeek log (`dns`, `smb_files`, …), selected by the
 * record's `_path` as Zeek's JSON writer names it; SigmaHQ's Zeek rules use Zeek's own field names.
 */
import type { ProcessingPipeline } from './pipeline.js';

export const zeekPipeline: ProcessingPipeline = {
  name: 'zeek',
  resolve(logsource) {
    if (logsource.service === undefined) return 'a Zeek logsource needs `service` (the Zeek log, e.g. dns)';
    if (logsource.category !== undefined) return `Zeek category \`${logsource.category}\` is not mapped`;
    return [{ name: `zeek/${logsource.service}`, conditions: { _path: [logsource.service] }, fieldMap: {} }];
  },
};
