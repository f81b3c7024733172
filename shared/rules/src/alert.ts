/**
 * The alert as published on the alerts topic: the TypeScript shape of `schemas/alert.avsc` (record
 * `sequor.Alert`). Hand-written; test/alert.test.ts (`schemas/alert.avsc`) encodes and decodes sample
 * alerts with avsc against the schema file so the two cannot drift.
 */

export interface AlertAttackRef {
  readonly id: string;
  readonly name: string;
}

export interface AlertThreat {
  readonly framework: string;
  readonly tactic: AlertAttackRef;
  readonly technique: AlertAttackRef | null;
  readonly subtechnique: AlertAttackRef | null;
}

export interface AlertRule {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly type: string;
  readonly severity: string;
  readonly risk_score: number;
  readonly references: readonly string[];
}

export interface AlertEntity {
  readonly host: { readonly id: string | null; readonly name: string | null };
  readonly user: { readonly id: string | null; readonly name: string | null };
}

export interface AlertKey {
  readonly field: string;
  readonly value: string | null;
}

export interface AlertEvidenceField {
  readonly name: string;
  /** Scalars rendered as strings; multi-valued fields (registry.data.strings) as arrays. */
  readonly value: string | readonly string[] | null;
}

export interface AlertEvidence {
  readonly event_id: string;
  /** The event's @timestamp, epoch ms. */
  readonly timestamp: number;
  readonly origin: {
    readonly format: string;
    readonly topic: string | null;
    readonly partition: number | null;
    readonly offset: number | null;
  };
  readonly fields: readonly AlertEvidenceField[];
}

export interface Alert {
  readonly alert: { readonly id: string };
  /** Detection time, epoch ms (ECS @timestamp of the alert). */
  readonly timestamp: number;
  readonly rule: AlertRule;
  readonly threat: readonly AlertThreat[];
  readonly entity: AlertEntity;
  readonly keys: readonly AlertKey[];
  readonly event: { readonly first_time: number; readonly last_time: number; readonly count: number };
  readonly evidence: readonly AlertEvidence[];
  readonly message: string;
  readonly trace_id: string | null;
}
