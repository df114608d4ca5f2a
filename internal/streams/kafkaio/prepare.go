package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ksml-dev/ksml/internal/streams"
)

// prepareTopics makes sure every topic the topology reads or writes
// exists: source topics (created with the default partition count when
// missing), internal repartition and changelog topics and fixed output
// topics (created with the highest source partition count). It returns the
// co-partitioned topic groups (the source topics of each sub-topology) and
// all source topics.
func (e *Engine) prepareTopics(ctx context.Context) (groups [][]string, sources []string, err error) {
	internal := map[string]streams.InternalTopic{}
	for _, it := range e.topo.InternalTopics() {
		internal[it.Name] = it
	}
	maxParts := 0
	for _, topic := range e.topo.SourceTopics() {
		if _, ok := internal[topic]; ok {
			continue
		}
		n, err := e.topics.Exists(ctx, topic)
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			if e.opts.NoTopicCreation {
				return nil, nil, fmt.Errorf("source topic %q does not exist (topic creation is disabled)", topic)
			}
			if n, err = e.topics.Ensure(ctx, topic, 0, nil); err != nil {
				return nil, nil, err
			}
		}
		maxParts = max(maxParts, n)
	}
	if maxParts == 0 {
		maxParts = max(e.opts.DefaultPartitions, 1)
	}
	// Output topics named at run time (topic name extractors, dead-letter
	// topics) get the same count.
	e.topics.SetDefaultPartitions(maxParts)
	copart, err := e.copartitionedCounts(ctx, internal)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(internal))
	for name := range internal {
		names = append(names, name)
	}
	sort.Strings(names)
	compact := "compact"
	for _, name := range names {
		it := internal[name]
		parts := it.Partitions
		if parts <= 0 {
			parts = copart[name]
		}
		if parts <= 0 {
			parts = maxParts
		}
		var configs map[string]*string
		if it.Kind == "changelog" {
			configs = map[string]*string{"cleanup.policy": &compact}
		}
		if _, err := e.topics.Ensure(ctx, name, parts, configs); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range e.topo.Nodes() {
		if n.Kind == streams.SinkNode && len(n.Topics) > 0 {
			if _, err := e.topics.Ensure(ctx, n.Topics[0], maxParts, nil); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, sub := range e.topo.SubTopologies() {
		var ts []string
		for _, t := range sub.SourceTopics() {
			if !e.topo.IsGlobal(t) {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			continue
		}
		groups = append(groups, ts)
		sources = append(sources, ts...)
		counts := map[int][]string{}
		for _, t := range ts {
			n, _ := e.topics.Exists(ctx, t)
			counts[n] = append(counts[n], t)
		}
		if len(counts) > 1 {
			e.log.Warn("co-partitioned topics have different partition counts; joins may miss records",
				"subTopology", sub.ID, "topics", fmt.Sprint(counts))
		}
	}
	sort.Strings(sources)
	return groups, sources, nil
}

// copartitionedCounts returns the partition count of repartition topics
// (without a count of their own) that a sub-topology reads together with
// topics of the user: as Kafka Streams does, such a topic (a join's
// re-keyed stream) gets their partition count, so partition p of both
// meets in one task. With several user topics of different counts it gets
// the highest; the co-partitioning warning names them.
func (e *Engine) copartitionedCounts(ctx context.Context, internal map[string]streams.InternalTopic) (map[string]int, error) {
	counts := map[string]int{}
	for _, sub := range e.topo.SubTopologies() {
		var repartition []string
		user := 0
		for _, t := range sub.SourceTopics() {
			if e.topo.IsGlobal(t) {
				continue
			}
			if it, ok := internal[t]; ok {
				if it.Kind == "repartition" && it.Partitions <= 0 {
					repartition = append(repartition, t)
				}
				continue
			}
			n, err := e.topics.Exists(ctx, t)
			if err != nil {
				return nil, err
			}
			user = max(user, n)
		}
		if user == 0 {
			continue
		}
		for _, t := range repartition {
			counts[t] = user
		}
	}
	return counts, nil
}

// applyOffsetResets sets the group's starting offsets for source partitions
// without a committed offset whose source asks for a reset policy of its
// own; the client-wide auto.offset.reset covers all other sources. It runs
// before the group is joined, so the first fetch starts at those offsets.
func (e *Engine) applyOffsetResets(ctx context.Context) error {
	type want struct {
		topic  string
		policy streams.OffsetReset
	}
	var wants []want
	for _, n := range e.topo.Nodes() {
		if n.Kind != streams.SourceNode || n.Source.OffsetReset.Policy == "" {
			continue
		}
		if string(e.opts.Client.AutoOffsetReset) == n.Source.OffsetReset.Policy {
			continue
		}
		for _, t := range n.Topics {
			wants = append(wants, want{t, n.Source.OffsetReset})
		}
	}
	if len(wants) == 0 {
		return nil
	}
	group := e.opts.Client.ApplicationID
	committed, err := e.adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = kadm.OffsetResponses{}, nil // a new group has no offsets
	}
	if err != nil {
		return fmt.Errorf("fetching committed offsets of group %q: %w", group, err)
	}
	toCommit := kadm.Offsets{}
	for _, w := range wants {
		listed, err := e.listOffsetsForReset(ctx, w.topic, w.policy)
		if err != nil {
			return err
		}
		for _, lo := range listed[w.topic] {
			if _, ok := committed.Lookup(w.topic, lo.Partition); ok {
				continue
			}
			if w.policy.Policy == "none" {
				return fmt.Errorf("topic %q partition %d has no committed offset for group %q and its offset reset policy is none", w.topic, lo.Partition, group)
			}
			if lo.Err != nil {
				return fmt.Errorf("listing offsets of topic %q partition %d: %w", w.topic, lo.Partition, lo.Err)
			}
			toCommit.Add(kadm.Offset{Topic: w.topic, Partition: lo.Partition, At: lo.Offset, LeaderEpoch: -1})
		}
	}
	if len(toCommit) == 0 {
		return nil
	}
	resp, err := e.adm.CommitOffsets(ctx, group, toCommit)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		// A running member of the group already owns the offsets.
		e.log.Warn("could not set starting offsets for the offset reset policies", "group", group, "error", err)
		return nil
	}
	e.log.Info("starting offsets set by offset reset policy", "group", group, "partitions", len(resp))
	return nil
}

// listOffsetsForReset lists the offsets a reset policy starts from. A topic
// created a moment ago (by this engine, a producer of the same runner or
// another client) may not be in every broker's metadata yet, so retriable
// errors are retried for a few seconds before they stop the start-up.
func (e *Engine) listOffsetsForReset(ctx context.Context, topic string, policy streams.OffsetReset) (kadm.ListedOffsets, error) {
	const patience = 10 * time.Second
	deadline := time.Now().Add(patience)
	backoff := 50 * time.Millisecond
	for {
		var listed kadm.ListedOffsets
		var err error
		switch policy.Policy {
		case "earliest":
			listed, err = e.adm.ListStartOffsets(ctx, topic)
		case "latest", "none":
			listed, err = e.adm.ListEndOffsets(ctx, topic)
		case "by_duration":
			listed, err = e.adm.ListOffsetsAfterMilli(ctx, time.Now().UnixMilli()-policy.DurationMs, topic)
		default:
			return nil, fmt.Errorf("topic %q: unknown offset reset policy %q", topic, policy.Policy)
		}
		if err != nil {
			return nil, fmt.Errorf("listing offsets of topic %q: %w", topic, err)
		}
		retry := false
		for _, lo := range listed[topic] {
			if lo.Err != nil && kerr.IsRetriable(lo.Err) {
				retry = true
			}
		}
		if !retry || time.Now().After(deadline) {
			return listed, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}
