package streams

import (
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

func (bytesSerde) Serialize(_ string, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return []byte(fmt.Sprint(v)), nil
}
func (bytesSerde) Deserialize(_ string, b []byte) (any, error) {
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
