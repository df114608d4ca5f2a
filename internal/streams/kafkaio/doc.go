// Package kafkaio runs a streams.Topology on Kafka with franz-go: the I/O
// layer that the in-memory test driver stands in for in tests.
//
// An Engine joins the consumer group named by the application id with the
// co-partitioning balancer, so partition p of all topics one sub-topology
// reads lands on the same member. It creates a task per (sub-topology,
// partition) when partitions are assigned, restores the task's
// changelog-backed stores from their checkpoints before the first record,
// and flushes, commits, checkpoints and closes the task when the partitions
// are revoked. Record selection is the task's: the engine appends fetched
// records to the task's partition queues with the fetched lag, lets every
// ready task process, and pauses fetching partitions whose queue is full.
//
// Topics that feed global tables (Topology.GlobalTopics) stay out of the
// group: every instance reads all their partitions to the end before it
// processes anything else, then follows them between batches.
//
// Delivery is at-least-once: every commit interval the engine flushes the
// producer (waits until every record sent so far is acknowledged), flushes
// the stores, then commits the offsets of the records processed. A crash
// between two commits replays the records after the last commit; nothing is
// committed before the output it caused is durable.
//
// Checkpoints: after every commit (and at a clean shutdown) each task writes
// the changelog offsets its stores on disk hold to their .checkpoint file.
//
// With processing.guarantee exactly_once_v2 the engine runs in a franz-go
// group transact session instead: the output of a commit interval, the
// changelog writes and the consumed offsets commit in one transaction
// (read_committed consumers see all or nothing of it). When a transaction
// aborts (a failing record, a rebalance), the tasks are rebuilt from the
// committed changelogs and the records since the last commit are processed
// again. Checkpoints exist only between a clean shutdown and the restore of
// the next start; a task without one wipes its on-disk stores and restores
// them in full. Restores read committed records up to the last stable
// offset.
//
// Broker failures follow Kafka Streams' retry model (retry.go): a transient
// failure (the broker unreachable, a coordinator moving, a timeout, a
// commit rejected because the group moved on, a producer the broker fenced
// or forgot) pauses the tasks and is retried; only a streak longer than
// task.timeout.ms makes Run return an error. Under exactly_once_v2 a
// transaction that cannot commit is aborted and the tasks rebuilt from the
// changelogs; a fenced producer is replaced by a new client that rejoins
// the group from the last commit.
//
// The hot path is one goroutine: batched polls (PollRecords), records queued
// per partition and taken by their tasks in timestamp order, asynchronous
// produces through a single promise. The promise never produces: records to
// retry go back to the engine's goroutine.
// Rebalance callbacks run only between batches (BlockRebalanceOnPoll).
//
// Errors of a record are classified (consume: the source could not
// deserialize it; produce: a sink could not serialize it or the broker
// rejected it; process: anything else) and handled by the configured
// Handler: logged, optionally with the payload, optionally written to a
// dead-letter topic with headers that describe the error, and then either
// skipped (continue) or fatal (stop). A fatal error makes Run return it after
// committing the offsets of the records before the failing one; the failing
// record is processed again on the next start.
package kafkaio
