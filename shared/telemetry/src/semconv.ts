// Attribute names from the OpenTelemetry messaging semantic conventions (v1.3x, status Development), copied
// here as the semantic-conventions package recommends for incubating names, so that a rename upstream
// does not change what Sequor emits without a commit saying so.

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
/** A string, as the conventions define it (replaces `messaging.kafka.destination.partition`). */
export const ATTR_MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
export const ATTR_MESSAGING_KAFKA_OFFSET = 'messaging.kafka.offset';
export const ATTR_MESSAGING_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key';
export const MESSAGING_SYSTEM_KAFKA = 'kafka';

export type MessagingOperationType = 'receive' | 'process' | 'send';

// Sequor's own attributes.
/** `true` on alert spans and on the spans that send an alert record: the sampler always records them. */
export const ATTR_SEQUOR_ALERT = 'sequor.alert';
export const ATTR_SEQUOR_ALERT_ID = 'sequor.alert.id';
export const ATTR_SEQUOR_RULE_ID = 'sequor.rule.id';
export const ATTR_SEQUOR_RULE_NAME = 'sequor.rule.name';
export const ATTR_SEQUOR_RULE_VERSION = 'sequor.rule.version';
export const ATTR_SEQUOR_ALERT_SEVERITY = 'sequor.alert.severity';
export const ATTR_SEQUOR_EVIDENCE_COUNT = 'sequor.alert.evidence_count';
/** On an alert span's link: the evidence event's position in the alert's evidence list. */
export const ATTR_SEQUOR_EVIDENCE_INDEX = 'sequor.evidence.index';
export const ATTR_SEQUOR_EVIDENCE_EVENT_ID = 'sequor.evidence.event_id';
/** The host the alert is about (not `host.name`, which names the detector's own host in the resource). */
export const ATTR_SEQUOR_ALERT_HOST_NAME = 'sequor.alert.entity.host.name';
