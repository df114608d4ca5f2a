package streams_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
)

// changelogCollector keeps what tasks send, per topic.
type changelogCollector struct{ sent map[string][][2][]byte }

func (c *changelogCollector) Send(topic string, _ int32, key, value []byte, _ int64, _ []streams.Header) error {
	if c.sent == nil {
		c.sent = map[string][][2][]byte{}
	}
	c.sent[topic] = append(c.sent[topic], [2][]byte{key, value})
	return nil
}
func (c *changelogCollector) Partitions(string) (int, error) { return 1, nil }
func (c *changelogCollector) Flush() error                   { return nil }

type rawSerde struct{}

func (rawSerde) Serialize(_ string, _ *[]streams.Header, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return []byte(v.(string)), nil
}
func (rawSerde) Deserialize(_ string, _ []streams.Header, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return string(b), nil
}

// windowTopology writes every record to a window store (window start =
// timestamp) and a session store ([ts, ts+10]), removing the session of the
// previous record of the key.
func windowTopology(t *testing.T) *streams.Topology {
	topo := streams.NewTopology("app")
	if err := topo.AddSource("src", []string{"in"}, streams.SourceOptions{KeySerde: rawSerde{}, ValueSerde: rawSerde{}}); err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	err := topo.AddProcessor("p", func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error {
			ws, _ := ctx.Store("w")
			ss, _ := ctx.Store("s")
			k := []byte(r.Key.(string))
			if err := ws.(streams.WindowStore).Put(k, r.Timestamp, []byte(r.Value.(string))); err != nil {
				return err
			}
			if prev, ok := last[r.Key.(string)]; ok {
				if err := ss.(streams.SessionStore).Remove(k, prev, prev+10); err != nil {
					return err
				}
			}
			last[r.Key.(string)] = r.Timestamp
			return ss.(streams.SessionStore).Put(k, r.Timestamp, r.Timestamp+10, []byte(r.Value.(string)))
		})
	}, "src")
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.AddStateStore(&store.WindowBuilder{StoreName: "w", WindowSize: 10, Retention: 100, LoggingOn: true}, "p"); err != nil {
		t.Fatal(err)
	}
	if err := topo.AddStateStore(&store.SessionBuilder{StoreName: "s", Retention: 100, LoggingOn: true}, "p"); err != nil {
		t.Fatal(err)
	}
	if err := topo.Build(); err != nil {
		t.Fatal(err)
	}
	return topo
}

func dumpWindow(t *testing.T, s streams.StateStore) string {
	var parts []string
	s.(streams.WindowStore).FetchRange(nil, nil, 0, 1000, false, func(k []byte, start int64, v []byte) bool {
		parts = append(parts, fmt.Sprintf("%s@%d=%s", k, start, v))
		return true
	})
	return strings.Join(parts, " ")
}

func dumpSessions(t *testing.T, s streams.StateStore) string {
	var parts []string
	s.(streams.SessionStore).FindSessions(nil, nil, 0, 1000, false, func(k []byte, start, end int64, v []byte) bool {
		parts = append(parts, fmt.Sprintf("%s@[%d,%d]=%s", k, start, end, v))
		return true
	})
	return strings.Join(parts, " ")
}

func TestWindowAndSessionStoresLogAndRestore(t *testing.T) {
	topo := windowTopology(t)
	sub := topo.SubTopologies()[0]
	col := &changelogCollector{}
	task, err := streams.NewTask(topo, sub, 0, col)
	if err != nil {
		t.Fatal(err)
	}
	for i, kv := range [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}} {
		raw := &streams.RawRecord{Topic: "in", Offset: int64(i), Timestamp: int64(10 * (i + 1)), Key: []byte(kv[0]), Value: []byte(kv[1])}
		if err := task.Process(raw); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := task.Store("w")
	s, _ := task.Store("s")
	wantW, wantS := "a@10=1 a@30=3 b@20=2", "a@[30,40]=3 b@[20,30]=2"
	if got := dumpWindow(t, w); got != wantW {
		t.Errorf("window store: %q", got)
	}
	if got := dumpSessions(t, s); got != wantS {
		t.Errorf("session store: %q", got)
	}
	if n := len(col.sent["app-w-changelog"]); n != 3 {
		t.Errorf("window changelog records: %d", n)
	}
	if n := len(col.sent["app-s-changelog"]); n != 4 { // 3 puts, 1 removal
		t.Errorf("session changelog records: %d", n)
	}
	k, start, err := streams.SplitWindowChangelogKey(col.sent["app-w-changelog"][1][0])
	if string(k) != "b" || start != 20 || err != nil {
		t.Errorf("window changelog key: %q %d %v", k, start, err)
	}
	task.Close()

	// A new task restores both stores from the changelogs, without logging.
	col2 := &changelogCollector{}
	task2, err := streams.NewTask(topo, sub, 0, col2)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, cl := range task2.Changelogs() {
		parts = append(parts, cl.Topic)
		for _, rec := range col.sent[cl.Topic] {
			if err := task2.Restore(cl.Store, rec[0], rec[1], 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if strings.Join(parts, ",") != "app-w-changelog,app-s-changelog" {
		t.Errorf("changelogs: %v", parts)
	}
	w, _ = task2.Store("w")
	s, _ = task2.Store("s")
	if got := dumpWindow(t, w); got != wantW {
		t.Errorf("restored window store: %q", got)
	}
	if got := dumpSessions(t, s); got != wantS {
		t.Errorf("restored session store: %q", got)
	}
	if len(col2.sent) != 0 {
		t.Errorf("restore logged %v", col2.sent)
	}
	if err := task2.Restore("w", []byte("short"), nil, 0); err == nil {
		t.Error("a malformed changelog key must fail")
	}
}
