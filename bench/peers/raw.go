package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// rawWorkerArg makes this executable the raw peer: a franz-go consume and
// produce loop doing the workload's work natively in Go, with in-memory
// state and no changelog. It is the limit of the client, not a stream
// processor.
const rawWorkerArg = "-raw-worker"

// rawWorker runs until SIGTERM. Arguments: workload, bootstrap servers,
// input topic, output topic, consumer group (a group as the stream
// processors have, so the harness sees when it has its partitions).
func rawWorker(args []string) error {
	if len(args) != 5 {
		return fmt.Errorf("want workload bootstrap input output group, got %q", args)
	}
	w, bootstrap, in, out, group := args[0], args[1], args[2], args[3], args[4]
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.DefaultProduceTopic(out),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(in), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	counts := map[string]int64{}
	// produce callbacks run on the client's goroutines: the first error
	// is handed over through a channel.
	produceErr := make(chan error, 1)
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			select {
			case produceErr <- err:
			default:
			}
		}
	}
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		if err := fs.Err0(); err != nil {
			return err
		}
		var ferr error
		fs.EachRecord(func(r *kgo.Record) {
			if ferr != nil {
				return
			}
			key, value, ok, err := rawStep(w, r, counts)
			if err != nil {
				ferr = err
				return
			}
			if ok {
				cl.Produce(ctx, &kgo.Record{Key: key, Value: value, Timestamp: r.Timestamp}, done)
			}
		})
		if ferr != nil {
			return ferr
		}
		select {
		case err := <-produceErr:
			return err
		default:
		}
	}
	return nil
}

// rawStep is one record's work; ok is false when the record is dropped.
func rawStep(w string, r *kgo.Record, counts map[string]int64) (key, value []byte, ok bool, err error) {
	switch w {
	case "passthrough":
		return r.Key, r.Value, true, nil
	case "python_map":
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return nil, nil, false, err
		}
		data, _ := v["data"].(map[string]any)
		out := map[string]any{"id": v["entityId"], "timestamp": time.Now().UnixMilli(), "type": v["eventType"]}
		switch v["eventType"] {
		case "USER_CREATED":
			out["username"], out["email"] = data["username"], data["email"]
		case "USER_UPDATED":
			out["updatedFields"] = data["changedFields"]
		}
		b, err := json.Marshal(out)
		return r.Key, b, true, err
	case "filter_map":
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return nil, nil, false, err
		}
		if v["eventType"] == "USER_SUSPENDED" {
			return nil, nil, false, nil
		}
		b, err := json.Marshal(map[string]any{"id": v["entityId"], "type": v["eventType"], "region": v["region"]})
		return r.Key, b, true, err
	case "count", "window_count":
		k := string(r.Key)
		if w == "window_count" {
			ms := r.Timestamp.UnixMilli()
			k += "@" + strconv.FormatInt(ms-ms%60000, 10)
		}
		counts[k]++
		return []byte(k), binary.BigEndian.AppendUint64(nil, uint64(counts[k])), true, nil
	}
	return nil, nil, false, fmt.Errorf("unknown workload %q", w)
}
