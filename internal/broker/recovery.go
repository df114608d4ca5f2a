package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// runningFile marks a data directory in use. It is created when the broker
// has started and removed by Close, so finding it at Start means the
// previous broker on the directory did not shut down cleanly (it was
// killed, or the machine stopped).
const runningFile = "ksml-broker.running"

// An open transaction found in a partition's log after an unclean stop.
type openTxn struct {
	topic     string
	partition int32
	pid       int64
	epoch     int16 // the epoch of its last data batch
}

// writeAbortMarkers makes the log of every partition what a real broker
// would hold after an unclean stop: a transaction still open in the log
// (data batches of a transactional producer without a commit or abort
// marker after them) gets an abort marker.
//
// kfake, reloading a data directory after a crash, treats such
// transactions as aborted (read_committed consumers skip them and the last
// stable offset moves past them) but writes no marker; a Kafka
// transaction coordinator instead writes abort markers when it expires the
// transaction. Without the marker the log ends in records that nothing
// closes, which confuses readers that compare positions with the high
// watermark, and a later full replay of the log must guess again.
//
// The marker carries the producer epoch after the one of the transaction,
// as a coordinator's abort after a timeout bumps the epoch (kfake bumps the
// producer's epoch on reload in the same way). It reads every partition
// from its start, over the Kafka protocol, so it runs only after an unclean
// stop. It returns the transactions it closed.
func writeAbortMarkers(ctx context.Context, bootstrap string) ([]openTxn, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.RequestRetries(3))
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	meta := kmsg.NewPtrMetadataRequest()
	meta.Topics = nil // all topics
	resp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	var open []openTxn
	for _, t := range resp.Topics {
		if t.Topic == nil || t.IsInternal {
			continue
		}
		for _, p := range t.Partitions {
			found, err := openTransactions(ctx, cl, *t.Topic, t.TopicID, p.Partition)
			if err != nil {
				return nil, fmt.Errorf("reading %s[%d]: %w", *t.Topic, p.Partition, err)
			}
			open = append(open, found...)
		}
	}
	for _, o := range open {
		if err := abort(ctx, cl, o); err != nil {
			return open, fmt.Errorf("writing the abort marker of producer %d in %s[%d]: %w", o.pid, o.topic, o.partition, err)
		}
	}
	return open, nil
}

// openTransactions reads one partition's log, read_uncommitted, from its
// start to its high watermark and returns the transactions without an end
// marker.
func openTransactions(ctx context.Context, cl *kgo.Client, topic string, id [16]byte, partition int32) ([]openTxn, error) {
	open := map[int64]int16{} // producer id -> epoch
	offset := int64(0)
	for {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis = 0
		req.MaxBytes = 16 << 20
		req.IsolationLevel = 0
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rt.TopicID = id // fetch v13+ addresses topics by id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = partition
		rp.FetchOffset = offset
		rp.PartitionMaxBytes = 16 << 20
		rp.CurrentLeaderEpoch = -1
		rp.LogStartOffset = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return nil, errors.New("unexpected fetch response shape")
		}
		rp2 := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(rp2.ErrorCode); err != nil {
			if errors.Is(err, kerr.OffsetOutOfRange) && offset == 0 {
				offset = rp2.LogStartOffset
				continue
			}
			return nil, err
		}
		next := offset
		for b := rp2.RecordBatches; len(b) >= 61; {
			length := int(int32(binary.BigEndian.Uint32(b[8:12])))
			if length < 49 || 12+length > len(b) {
				break // a partial batch at the end of the response
			}
			var batch kmsg.RecordBatch
			if err := batch.ReadFrom(b[:12+length]); err != nil {
				return nil, fmt.Errorf("batch at offset %d: %w", next, err)
			}
			b = b[12+length:]
			next = batch.FirstOffset + int64(batch.LastOffsetDelta) + 1
			transactional := batch.Attributes&0x10 != 0
			control := batch.Attributes&0x20 != 0
			switch {
			case control:
				delete(open, batch.ProducerID)
			case transactional:
				open[batch.ProducerID] = batch.ProducerEpoch
			}
		}
		if next >= rp2.HighWatermark || next == offset {
			if next == offset && next < rp2.HighWatermark {
				return nil, fmt.Errorf("no progress at offset %d (high watermark %d)", next, rp2.HighWatermark)
			}
			break
		}
		offset = next
	}
	var out []openTxn
	for pid, epoch := range open {
		out = append(out, openTxn{topic: topic, partition: partition, pid: pid, epoch: epoch})
	}
	return out, nil
}

func abort(ctx context.Context, cl *kgo.Client, o openTxn) error {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID = o.pid
	m.ProducerEpoch = o.epoch + 1
	m.Committed = false
	t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	t.Topic = o.topic
	t.Partitions = []int32{o.partition}
	m.Topics = append(m.Topics, t)
	req.Markers = append(req.Markers, m)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// recoverAfterUncleanStop writes the abort markers the previous broker on
// dataDir left out, if it did not stop cleanly, and marks the directory in
// use. It is called once the broker accepts connections.
func (b *Broker) recoverAfterUncleanStop(ctx context.Context, dataDir string) error {
	marker := filepath.Join(dataDir, runningFile)
	_, err := os.Stat(marker)
	unclean := err == nil
	if unclean {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		closed, err := writeAbortMarkers(rctx, b.advertise)
		if err != nil {
			return fmt.Errorf("closing the transactions left open by an unclean stop: %w", err)
		}
		for _, o := range closed {
			b.logger.Info("embedded broker: wrote the abort marker of a transaction left open by an unclean stop",
				"topic", o.topic, "partition", o.partition, "producerId", o.pid)
		}
	}
	if err := os.WriteFile(marker, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("marking the data directory in use: %w", err)
	}
	return nil
}
