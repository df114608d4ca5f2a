package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topics knows the partition counts of topics and creates missing ones when
// allowed. It is safe for concurrent use; counts are cached after the first
// look-up (partition counts only grow, and the engine never relies on a
// topic growing while it runs).
type Topics struct {
	adm         *kadm.Client
	create      bool
	partitions  int32
	replication int16
	log         *slog.Logger

	mu    sync.RWMutex
	known map[string]*topicInfo
}

type topicInfo struct {
	partitions int32
	next       uint32 // round robin for null keys
}

// NewTopics returns a topic cache over adm. When create is set, topics that
// do not exist are created with defaultPartitions partitions (0: one;
// negative: the cluster's num.partitions) or the count given to Ensure,
// and the given replication factor (-1: broker default).
func NewTopics(adm *kadm.Client, create bool, defaultPartitions int, replication int, log *slog.Logger) *Topics {
	switch {
	case defaultPartitions == 0:
		defaultPartitions = 1
	case defaultPartitions < 0:
		defaultPartitions = -1
	}
	if replication == 0 {
		replication = -1
	}
	if log == nil {
		log = slog.Default()
	}
	return &Topics{adm: adm, create: create, partitions: int32(defaultPartitions), replication: int16(replication),
		log: log, known: map[string]*topicInfo{}}
}

// SetDefaultPartitions changes the partition count of topics created from
// now on; the engine sets it to the highest source partition count.
func (t *Topics) SetDefaultPartitions(n int) {
	if n > 0 {
		t.mu.Lock()
		t.partitions = int32(n)
		t.mu.Unlock()
	}
}

// Partitions returns the partition count of topic, creating it with the
// default count when it is missing and creation is allowed.
func (t *Topics) Partitions(ctx context.Context, topic string) (int, error) {
	if info := t.lookup(topic); info != nil {
		return int(info.partitions), nil
	}
	t.mu.RLock()
	n := t.partitions
	t.mu.RUnlock()
	info, err := t.ensure(ctx, topic, n, nil)
	if err != nil {
		return 0, err
	}
	return int(info.partitions), nil
}

// Ensure returns the partition count of topic, creating it with partitions
// partitions and the given topic configs when it is missing and creation is
// allowed.
func (t *Topics) Ensure(ctx context.Context, topic string, partitions int, configs map[string]*string) (int, error) {
	if partitions <= 0 {
		t.mu.RLock()
		partitions = int(t.partitions)
		t.mu.RUnlock()
	}
	info, err := t.ensure(ctx, topic, int32(partitions), configs)
	if err != nil {
		return 0, err
	}
	return int(info.partitions), nil
}

// Exists reports the partition count of topic, 0 when it does not exist;
// it never creates.
func (t *Topics) Exists(ctx context.Context, topic string) (int, error) {
	if info := t.lookup(topic); info != nil {
		return int(info.partitions), nil
	}
	n, err := t.describe(ctx, topic)
	if err != nil || n == 0 {
		return 0, err
	}
	t.store(topic, n)
	return int(n), nil
}

func (t *Topics) lookup(topic string) *topicInfo {
	t.mu.RLock()
	info := t.known[topic]
	t.mu.RUnlock()
	return info
}

func (t *Topics) store(topic string, n int32) *topicInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	if info, ok := t.known[topic]; ok {
		return info
	}
	info := &topicInfo{partitions: n}
	t.known[topic] = info
	return info
}

func (t *Topics) describe(ctx context.Context, topic string) (int32, error) {
	details, err := t.adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describing topic %q: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return 0, nil
	}
	if d.Err != nil {
		return 0, fmt.Errorf("describing topic %q: %w", topic, d.Err)
	}
	return int32(len(d.Partitions)), nil
}

func (t *Topics) ensure(ctx context.Context, topic string, partitions int32, configs map[string]*string) (*topicInfo, error) {
	if info := t.lookup(topic); info != nil {
		return info, nil
	}
	n, err := t.describe(ctx, topic)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return t.store(topic, n), nil
	}
	if !t.create {
		return nil, fmt.Errorf("topic %q does not exist and topic creation is disabled", topic)
	}
	resp, err := t.adm.CreateTopic(ctx, partitions, t.replication, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("creating topic %q: %w", topic, err)
	}
	created := err == nil
	if created && resp.NumPartitions > 0 {
		// The count the cluster chose (partitions may be -1).
		n = resp.NumPartitions
	} else if n, err = t.describe(ctx, topic); err != nil {
		// Another client created it, maybe with another count: read it.
		return nil, err
	}
	if n == 0 {
		n = max(partitions, 1)
	}
	if created {
		t.log.Info("created topic", "topic", topic, "partitions", n)
	}
	return t.store(topic, n), nil
}
