// The partitioner is pure, so it lives in @sequor/model where the in-memory transport (@sequor/pipeline,
// no kafkajs) can use it too; re-exported here so Kafka code keeps importing it from @sequor/kafka.
export { murmur2, partitionFor } from '@sequor/model';
