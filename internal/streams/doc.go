// Package streams is the runtime core: it moves records through a processor
// graph with Kafka Streams semantics, independent of where records come from.
//
// A Topology is a graph of source, processor and sink nodes plus the state
// stores connected to them. Build splits it into sub-topologies (connected
// components; repartition topics cut the graph because they are written by a
// sink and read again by a source). At runtime a Task is created per
// (sub-topology, partition): it owns fresh processor instances, its stores,
// its stream time and its punctuators, and processes one record at a time,
// depth first, from the source that reads the record's topic to every sink.
//
// A task owns three parts, as Kafka Streams' StreamTask: a partition group
// (one queue per input partition; the head with the lowest timestamp is
// processed next, and max.task.idle.ms decides how long to wait for an empty
// partition), a state manager (changelog partitions and the .checkpoint file
// of stores on disk, so a restart restores only the changelog's tail) and a
// RecordCollector.
//
// The I/O boundary is small on purpose: an I/O layer (the in-memory test
// driver in streams/testdriver, or the Kafka client layer) assigns
// partitions, appends fetched records to the tasks' queues (Task.AddRecord,
// with Task.SetFetchedLag) and lets them process (Task.ProcessNext),
// restores logged stores through Task.Changelogs, Task.Restore and
// Task.Restored, commits with Flush and Checkpoint, and receives produced
// records (sinks and changelogs) through a RecordCollector. Processors never
// learn which layer feeds them. Errors are returned, never
// panicked: a processor error aborts the record and is reported with the node
// name; what to do with it (stop, log and continue) is the caller's policy.
package streams
