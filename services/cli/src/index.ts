// @sequor/cli as a library: the command runner (for tests and embedding) and the embedded detection run.
export { runCli, usage } from './cli.js';
export type { CommandContext, OutputStream } from './context.js';
export { processContext } from './context.js';
export { EXIT, InputError, ReportedError, UsageError } from './errors.js';
export { runEmbeddedDetection, EVENTS_TOPIC } from './embedded.js';
export type { DetectionSummary, EmbeddedDetectionOptions, InputSummary } from './embedded.js';
export { expandInputs, openInputs, MAX_LINE_BYTES } from './io/inputs.js';
export type { InputFile, OpenInput } from './io/inputs.js';
export { compareWithGroundTruth } from './ground-truth.js';
export type { GroundTruthComparison } from './ground-truth.js';
