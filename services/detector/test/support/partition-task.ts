import { createEventCodec } from '@sequor/model';
import { singleObjectAlertEncoder } from '../../src/outputs.js';
import type { PartitionTaskOptions } from '../../src/partition-task.js';
import { PartitionTask } from '../../src/partition-task.js';

const codec = createEventCodec();

/**
 * A live partition task as the tests run one: partition 0 of `events`, the full event codec, single-object
 * alerts to `alerts`, late events to `late`, dead letters to `dead`, a clock at 0, live from offset 0,
 * partitioned by host. What a test varies (its rules, lateness and horizon at least) it passes in `options`.
 */
export function testPartitionTask(
  options: Pick<PartitionTaskOptions, 'rules' | 'allowedLatenessMs' | 'horizonMs'> &
    Partial<PartitionTaskOptions>,
): PartitionTask {
  return new PartitionTask({
    topic: 'events',
    partition: 0,
    decode: (value) => codec.decode(value),
    alertEncoder: singleObjectAlertEncoder(),
    alertsTopic: 'alerts',
    lateEventsTopic: 'late',
    deadLetterTopic: 'dead',
    clock: () => 0,
    startOffset: 0,
    liveFrom: 0,
    partitionKeyFields: 'host.id,host.name,user.id',
    ...options,
  });
}
