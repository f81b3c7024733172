/**
 * @sequor/scenarios: seeded, deterministic raw telemetry for the demo, the benchmarks and the Kafka
 * scaling tests. Benign noise from many hosts and users in four real formats (Winlogbeat ECS JSON,
 * Elastic Endpoint file events, flat Windows event JSON, Zeek dce_rpc TSV/JSON) with injected attacks
 * and near-misses for the four seed analytics, and a ground-truth file naming every alert's evidence
 * by file and line.
 */
export { generateScenario, writeScenario } from './generate.js';
export type { GeneratedScenario, WriteResult } from './generate.js';
export { ScenarioStream, ScenarioStreamError, SCENARIO_FILES } from './stream.js';
export type { ScenarioRecord } from './stream.js';
export { resolveOptions, DEFAULT_START, MAX_OUT_OF_ORDER_MS, MIN_HOSTS, MIN_USERS } from './options.js';
export type { ResolvedScenarioOptions, ScenarioOptions } from './options.js';
export { formatGroundTruth, GENERATOR_NAME, GENERATOR_VERSION } from './ground-truth.js';
export type {
  EvidenceRef,
  FileFormat,
  GroundTruth,
  GroundTruthAlert,
  GroundTruthFile,
  GroundTruthNearMiss,
} from './ground-truth.js';
export type { AlertEntity } from './scenarios/plan.js';
export { RULE_SLUGS } from './rules.js';
export type { RuleSlug } from './rules.js';
