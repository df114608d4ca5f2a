package streams

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirBuilder is a logged key/value store builder whose stores "live" in
// base/<task>: it builds memory stores but reports the directory, which is
// all the state manager looks at.
type dirBuilder struct {
	name string
	base string
}

func (b *dirBuilder) Name() string    { return b.name }
func (b *dirBuilder) Kind() StoreKind { return KeyValueKind }
func (b *dirBuilder) Logging() bool   { return true }
func (b *dirBuilder) Build(TaskID) (StateStore, error) {
	return &memKV{name: b.name, m: map[string][]byte{}}, nil
}
func (b *dirBuilder) TaskDir(id TaskID) string { return filepath.Join(b.base, id.String()) }

// ackingCollector acknowledges every record at the next offset of its
// partition, like a producer after a flush.
type ackingCollector struct {
	captureCollector
	next map[string]int64
}

func (c *ackingCollector) Send(topic string, p int32, k, v []byte, ts int64, h []Header) error {
	c.next[topic]++
	return c.captureCollector.Send(topic, p, k, v, ts, h)
}
func (c *ackingCollector) LastOffset(topic string, _ int32) (int64, bool) {
	n, ok := c.next[topic]
	return n - 1, ok
}

func TestCheckpointWrittenAndRead(t *testing.T) {
	base := t.TempDir()
	build := func(c RecordCollector) *Task {
		topo := NewTopology("app")
		if err := topo.AddSource("in", []string{"in"}, SourceOptions{KeySerde: bytesSerde{}, ValueSerde: bytesSerde{}}); err != nil {
			t.Fatal(err)
		}
		if err := topo.AddProcessor("put", func() Processor {
			return ProcessorFunc(func(ctx *ProcessorContext, r Record) error {
				st, err := ctx.Store("s")
				if err != nil {
					return err
				}
				return st.(KeyValueStore).Put([]byte(r.Key.(string)), []byte(r.Value.(string)))
			})
		}, "in"); err != nil {
			t.Fatal(err)
		}
		if err := topo.AddStateStore(&dirBuilder{name: "s", base: base}, "put"); err != nil {
			t.Fatal(err)
		}
		if err := topo.Build(); err != nil {
			t.Fatal(err)
		}
		task, err := NewTask(topo, topo.SubTopologies()[0], 3, c)
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	c := &ackingCollector{next: map[string]int64{}}
	task := build(c)
	if cl := task.Changelogs(); len(cl) != 1 || cl[0].From != 0 || cl[0].Topic != "app-s-changelog" || cl[0].Partition != 3 {
		t.Fatalf("changelogs without a checkpoint: %+v", cl)
	}
	for _, kv := range []string{"a=1", "b=2", "a=3"} {
		k, v, _ := strings.Cut(kv, "=")
		if err := task.Process(&RawRecord{Topic: "in", Partition: 3, Key: []byte(k), Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := task.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(base, "0_3", CheckpointFile)
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "0\n1\napp-s-changelog 3 3\n" {
		t.Fatalf("checkpoint %q (%v)", got, err)
	}
	task.Close()

	task = build(&ackingCollector{next: map[string]int64{}})
	if cl := task.Changelogs(); len(cl) != 1 || cl[0].From != 3 {
		t.Fatalf("changelogs after the checkpoint: %+v", cl)
	}
	// Restored but nothing new written: the checkpoint keeps the restore's end.
	task.Restored("s", 5)
	if err := task.DeleteCheckpoint(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("checkpoint not deleted: %v", err)
	}
	if err := task.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "0\n1\napp-s-changelog 3 5\n" {
		t.Fatalf("checkpoint after restore %q", got)
	}
	task.Close()

	if err := os.WriteFile(path, []byte("0\n2\napp-s-changelog 3 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadCheckpoint(path)
	if err == nil || !strings.Contains(err.Error(), "is corrupt (entry count); delete it to restore the task's stores in full") {
		t.Fatalf("corrupt checkpoint: %v", err)
	}
}
