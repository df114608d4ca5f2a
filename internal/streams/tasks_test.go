package streams

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

type captureCollector struct{ sent []string }

func (c *captureCollector) Send(topic string, partition int32, key, value []byte, ts int64, _ []Header) error {
	c.sent = append(c.sent, fmt.Sprintf("%s/%d %s=%s@%d", topic, partition, key, value, ts))
	return nil
}
func (c *captureCollector) Partitions(string) (int, error) { return 3, nil }
func (c *captureCollector) Flush() error                   { return nil }

type bytesSerde struct{}

func (bytesSerde) Serialize(_ string, _ *[]Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return []byte(fmt.Sprint(v)), nil
}
func (bytesSerde) Deserialize(_ string, _ []Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return string(b), nil
}

// counter counts records per task: each task has its own processor instance.
type counter struct{ n int }

func (c *counter) Init(*ProcessorContext) error { return nil }
func (c *counter) Close() error                 { return nil }
func (c *counter) Process(ctx *ProcessorContext, r Record) error {
	c.n++
	return ctx.Forward(r.WithValue(fmt.Sprintf("%v#%d@task%s", r.Value, c.n, ctx.TaskID())))
}

func TestTasksPerPartitionAreIndependent(t *testing.T) {
	topo := NewTopology("app")
	if err := topo.AddSource("in", []string{"a", "b"}, SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddProcessor("count", func() Processor { return &counter{} }, "in"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddSink("out", "out", SinkOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{},
		Partitioner: func(_ string, key, _ any, n int) ([]int32, error) { return []int32{int32(len(key.(string)) % n)}, nil },
	}, "count"); err != nil {
		t.Fatal(err)
	}
	c := &captureCollector{}
	tasks, err := NewTasks(topo, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tasks.Assign(0, 1); err != nil {
		t.Fatal(err)
	}
	for i, r := range []RawRecord{
		{Topic: "a", Partition: 0, Key: []byte("k"), Value: []byte("x"), Timestamp: 5},
		{Topic: "b", Partition: 1, Key: []byte("kk"), Value: []byte("y"), Timestamp: 6},
		{Topic: "b", Partition: 0, Key: []byte("kkk"), Value: []byte("z"), Timestamp: 7},
	} {
		r.Offset = int64(i)
		if err := tasks.Process(&r); err != nil {
			t.Fatal(err)
		}
	}
	err = tasks.Process(&RawRecord{Topic: "a", Partition: 2})
	if err == nil || err.Error() != `no task owns partition 2 of topic "a"` {
		t.Errorf("unowned partition: %v", err)
	}
	want := "out/1 k=x#1@task0_0@5 | out/2 kk=y#1@task0_1@6 | out/0 kkk=z#2@task0_0@7"
	if got := strings.Join(c.sent, " | "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if err := tasks.Revoke(1); err != nil {
		t.Fatal(err)
	}
	if tasks.Owns("b", 1) || !tasks.Owns("b", 0) || len(tasks.List()) != 1 {
		t.Errorf("after revoke: %v", tasks.List())
	}
	if err := tasks.Close(); err != nil {
		t.Fatal(err)
	}
}

type memKV struct {
	name string
	m    map[string][]byte
}

func (s *memKV) Name() string                 { return s.name }
func (s *memKV) Persistent() bool             { return false }
func (s *memKV) Flush() error                 { return nil }
func (s *memKV) Close() error                 { return nil }
func (s *memKV) Get(k []byte) ([]byte, error) { return s.m[string(k)], nil }
func (s *memKV) Put(k, v []byte) error        { s.m[string(k)] = v; return nil }
func (s *memKV) ApproximateNumEntries() int64 { return int64(len(s.m)) }
func (s *memKV) Delete(k []byte) ([]byte, error) {
	p := s.m[string(k)]
	delete(s.m, string(k))
	return p, nil
}
func (s *memKV) PutIfAbsent(k, v []byte) ([]byte, error)                   { return nil, s.Put(k, v) }
func (s *memKV) Range(_, _ []byte, _ bool, _ func(k, v []byte) bool) error { return nil }

type memKVBuilder struct{}

func (memKVBuilder) Name() string    { return "kv" }
func (memKVBuilder) Kind() StoreKind { return KeyValueKind }
func (memKVBuilder) Logging() bool   { return true }
func (memKVBuilder) Build(TaskID) (StateStore, error) {
	return &memKV{name: "kv", m: map[string][]byte{}}, nil
}

func TestRestoreBypassesTheChangelog(t *testing.T) {
	topo := NewTopology("app")
	if err := topo.AddSource("in", []string{"a"}, SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddProcessor("p", func() Processor { return ProcessorFunc(func(*ProcessorContext, Record) error { return nil }) }, "in"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddStateStore(memKVBuilder{}, "p"); err != nil {
		t.Fatal(err)
	}
	c := &captureCollector{}
	tasks, err := NewTasks(topo, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tasks.Assign(2); err != nil {
		t.Fatal(err)
	}
	task := tasks.List()[0]
	if got := task.Changelogs(); len(got) != 1 || got[0] != (ChangelogPartition{Store: "kv", Topic: "app-kv-changelog", Partition: 2}) {
		t.Fatalf("changelogs: %+v", got)
	}
	if err := task.Restore("kv", []byte("k"), []byte("v"), 5); err != nil {
		t.Fatal(err)
	}
	if err := task.Restore("kv", []byte("gone"), nil, 6); err != nil {
		t.Fatal(err)
	}
	st, _ := tasks.Store("kv", 2)
	if v, _ := st.(KeyValueStore).Get([]byte("k")); string(v) != "v" || len(c.sent) != 0 {
		t.Errorf("restored %q, changelog writes %v", v, c.sent)
	}
	if err := task.Restore("nope", nil, nil, 0); err == nil {
		t.Error("unknown store must fail")
	}
}

// tsKVBuilder builds a logged key/value store whose values carry Kafka
// Streams' ValueAndTimestamp layout.
type tsKVBuilder struct{ memKVBuilder }

func (tsKVBuilder) TimestampedValues() bool { return true }

// A timestamped store's changelog holds what Kafka Streams' timestamped
// stores write: the value without its 8-byte timestamp, with that timestamp
// as the record's; a tombstone carries the current record's timestamp.
// Restoring puts the record's timestamp back in front of the value.
func TestTimestampedStoreChangelogLayout(t *testing.T) {
	topo := NewTopology("app")
	if err := topo.AddSource("in", []string{"a"}, SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}); err != nil {
		t.Fatal(err)
	}
	// The processor stores "v<value>" stamped 100 less than the record,
	// then deletes key "x".
	if err := topo.AddProcessor("p", func() Processor {
		return ProcessorFunc(func(ctx *ProcessorContext, r Record) error {
			st, _ := ctx.Store("kv")
			kv := st.(KeyValueStore)
			stored := binary.BigEndian.AppendUint64(nil, uint64(r.Timestamp-100))
			if err := kv.Put([]byte(r.Key.(string)), append(stored, r.Value.(string)...)); err != nil {
				return err
			}
			_, err := kv.Delete([]byte("x"))
			return err
		})
	}, "in"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddStateStore(tsKVBuilder{}, "p"); err != nil {
		t.Fatal(err)
	}
	c := &captureCollector{}
	tasks, err := NewTasks(topo, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tasks.Assign(0); err != nil {
		t.Fatal(err)
	}
	task := tasks.List()[0]
	if err := task.Process(&RawRecord{Topic: "a", Timestamp: 1000, Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	want := []string{"app-kv-changelog/0 k=v@900", "app-kv-changelog/0 x=@1000"}
	if strings.Join(c.sent, " | ") != strings.Join(want, " | ") {
		t.Errorf("changelog records:\n got %q\nwant %q", c.sent, want)
	}

	restored, err := NewTasks(topo, &captureCollector{})
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.Assign(0); err != nil {
		t.Fatal(err)
	}
	if err := restored.List()[0].Restore("kv", []byte("k"), []byte("v"), 900); err != nil {
		t.Fatal(err)
	}
	st, _ := restored.Store("kv", 0)
	got, _ := st.(KeyValueStore).Get([]byte("k"))
	if wantV := append(binary.BigEndian.AppendUint64(nil, 900), 'v'); !bytes.Equal(got, wantV) {
		t.Errorf("restored value % x, want % x", got, wantV)
	}
}
