#!/usr/bin/env bash
# The compose stack's `topics` job: creates every Sequor topic before the services start, with the
# partitions and configs deploy/k8s/base/kafka/topics.yaml gives them (test/unit/deploy/compose.test.ts
# checks the two agree), replication factor 1 (one broker). Existing topics are left as they are.
# Runs in the apache/kafka image: BOOTSTRAP [kafka:9092].
set -euo pipefail
BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"

# name partitions configs (comma-separated key=value)
TOPICS=(
  # Raw topics (NORMALIZER_SOURCES). The replay job stamps records with their event time, which for a
  # generated scenario is in the past: keep them forever here so retention does not delete them at once.
  "winlogbeat 6 retention.ms=-1,max.message.bytes=1048588"
  "endpoint 6 retention.ms=-1,max.message.bytes=1048588"
  "windows 6 retention.ms=-1,max.message.bytes=1048588"
  "zeek.dce_rpc 6 retention.ms=-1,max.message.bytes=1048588"
  # NORMALIZED_TOPIC: Avro events keyed by host; the detectors' input (and their state-rebuild source).
  "sequor.events 6 cleanup.policy=delete,retention.ms=604800000,max.message.bytes=1638400"
  # ALERTS_TOPIC: Avro alerts keyed by entity, written in transactions.
  "sequor.alerts 6 cleanup.policy=delete,retention.ms=2592000000,max.message.bytes=2097152"
  # ALERT_UPDATES_TOPIC: suppression counts (rule `suppress`), keyed like the alerts, same partitions.
  "sequor.alert-updates 6 cleanup.policy=delete,retention.ms=2592000000,max.message.bytes=1048576"
  # LATE_EVENTS_TOPIC: normalized records that arrived behind the watermark.
  "sequor.late-events 1 cleanup.policy=delete,retention.ms=604800000,max.message.bytes=1638400"
  # DEAD_LETTER_TOPIC: records neither service could use, with the reason in headers.
  "sequor.dead-letters 1 cleanup.policy=delete,retention.ms=1209600000,max.message.bytes=1638400"
  # RULES_TOPIC (when set): rules and value lists for hot reload (sequor rules publish), compacted.
  "sequor.rules 1 cleanup.policy=compact,min.compaction.lag.ms=86400000,max.message.bytes=67108864"
)

for spec in "${TOPICS[@]}"; do
  read -r name partitions configs <<<"$spec"
  args=()
  IFS=',' read -r -a pairs <<<"$configs"
  for pair in "${pairs[@]}"; do args+=(--config "$pair"); done
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor 1 "${args[@]}"
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --list
