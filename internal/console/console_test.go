package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/streams"
)

type testStore struct {
	name string
	kind streams.StoreKind
	log  bool
}

func (s testStore) Name() string            { return s.name }
func (s testStore) Kind() streams.StoreKind { return s.kind }
func (s testStore) Logging() bool           { return s.log }
func (s testStore) Build(streams.TaskID) (streams.StateStore, error) {
	return nil, errors.New("not built in these tests")
}

// testTopology: orders -> count (store "counts", logged) -> sink to
// totals, and a repartition topic read by a second sub-topology.
func testTopology(t *testing.T) *streams.Topology {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	topo := streams.NewTopology("app")
	pass := func() streams.Processor {
		return streams.ProcessorFunc(func(ctx *streams.ProcessorContext, r streams.Record) error { return ctx.Forward(r) })
	}
	must(topo.AddSource("ns_pipelines_p_source", []string{"orders"}, streams.SourceOptions{KeySerde: upperSerde{}, ValueSerde: upperSerde{}}))
	must(topo.AddProcessor("ns_pipelines_p_via_step1_mapValues", pass, "ns_pipelines_p_source"))
	must(topo.AddSink("ns_pipelines_p_to_repartition", "app-by-user-repartition", streams.SinkOptions{KeySerde: upperSerde{}, ValueSerde: upperSerde{}}, "ns_pipelines_p_via_step1_mapValues"))
	must(topo.AddSource("ns_pipelines_p_from_repartition", []string{"app-by-user-repartition"}, streams.SourceOptions{KeySerde: upperSerde{}, ValueSerde: upperSerde{}}))
	must(topo.AddProcessor("ns_pipelines_p_count", pass, "ns_pipelines_p_from_repartition"))
	must(topo.AddStateStore(testStore{"counts", streams.KeyValueKind, true}, "ns_pipelines_p_count"))
	must(topo.AddSink("ns_pipelines_p_to", "totals", streams.SinkOptions{KeySerde: upperSerde{}, ValueSerde: upperSerde{}}, "ns_pipelines_p_count"))
	topo.AddInternalTopic(streams.InternalTopic{Name: "app-by-user-repartition", Kind: "repartition"})
	must(topo.Build())
	return topo
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func wantJSON(t *testing.T, h http.Handler, path, want string) {
	t.Helper()
	code, body := get(t, h, path)
	if code != http.StatusOK || body != want {
		t.Errorf("GET %s: %d\n got %s\nwant %s", path, code, body, want)
	}
}

func TestTopologyAPI(t *testing.T) {
	c := New(Options{Topology: testTopology(t)})
	wantJSON(t, c, "/console/api/topology", `{"applicationId":"app","subTopologies":[`+
		`{"id":0,"nodes":[`+
		`{"name":"ns_pipelines_p_source","kind":"source","topics":["orders"],"stores":[],"children":["ns_pipelines_p_via_step1_mapValues"]},`+
		`{"name":"ns_pipelines_p_via_step1_mapValues","kind":"processor","topics":[],"stores":[],"children":["ns_pipelines_p_to_repartition"]},`+
		`{"name":"ns_pipelines_p_to_repartition","kind":"sink","topics":["app-by-user-repartition"],"stores":[],"children":[]}]},`+
		`{"id":1,"nodes":[`+
		`{"name":"ns_pipelines_p_from_repartition","kind":"source","topics":["app-by-user-repartition"],"stores":[],"children":["ns_pipelines_p_count"]},`+
		`{"name":"ns_pipelines_p_count","kind":"processor","topics":[],"stores":["counts"],"children":["ns_pipelines_p_to"]},`+
		`{"name":"ns_pipelines_p_to","kind":"sink","topics":["totals"],"stores":[],"children":[]}]}],`+
		`"stores":[{"name":"counts","kind":"keyValue","changelog":"app-counts-changelog"}],`+
		`"topics":[{"name":"app-by-user-repartition","kind":"repartition"},{"name":"app-counts-changelog","kind":"changelog"},`+
		`{"name":"orders","kind":"topic"},{"name":"totals","kind":"topic"}]}`)
}

func TestMetricsAPICountsNodesTopicsAndLag(t *testing.T) {
	topo := testTopology(t)
	task, err := streams.NewTask(topo, topo.SubTopologies()[0], 0, discard{})
	if err != nil {
		t.Fatal(err)
	}
	defer task.Close()
	for i := 0; i < 3; i++ {
		if err := task.Process(&streams.RawRecord{Topic: "orders", Offset: int64(i), Timestamp: 5}); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Options{
		Topology: topo,
		Status:   func() Status { return Status{State: "STARTED", Streams: "RUNNING", Live: true, Ready: true} },
		Topics: func() []TopicCount {
			return []TopicCount{{Topic: "totals", Produced: 2}, {Topic: "orders", Consumed: 3, Failed: 1}}
		},
		Lags: func() []PartitionLag { return []PartitionLag{{"orders", 1, 4}, {"orders", 0, 7}} },
		Now:  func() time.Time { return time.UnixMilli(1700000000123) },
	})
	// Latency is sampled one record in 64, the first included: its time
	// varies, so it is checked and then left out of the comparison.
	code, body := get(t, c, "/console/api/metrics")
	var m Metrics
	if err := json.Unmarshal([]byte(body), &m); code != http.StatusOK || err != nil {
		t.Fatalf("metrics: %d %s %v", code, body, err)
	}
	for _, n := range m.Nodes[:3] {
		if n.Sampled != 1 || n.SampledNanos <= 0 {
			t.Errorf("%s: %d sampled in %d ns, want 1 in more than 0", n.Name, n.Sampled, n.SampledNanos)
		}
		body = strings.Replace(body, fmt.Sprintf(`"sampled":1,"sampledNanos":%d}`, n.SampledNanos), `"sampled":1,"sampledNanos":0}`, 1)
	}
	if want := `{"time":1700000000123,` +
		`"status":{"state":"STARTED","streams":"RUNNING","live":true,"ready":true},"nodes":[` +
		`{"name":"ns_pipelines_p_source","records":3,"errors":0,"sampled":1,"sampledNanos":0},` +
		`{"name":"ns_pipelines_p_via_step1_mapValues","records":3,"errors":0,"sampled":1,"sampledNanos":0},` +
		`{"name":"ns_pipelines_p_to_repartition","records":3,"errors":0,"sampled":1,"sampledNanos":0},` +
		`{"name":"ns_pipelines_p_from_repartition","records":0,"errors":0,"sampled":0,"sampledNanos":0},` +
		`{"name":"ns_pipelines_p_count","records":0,"errors":0,"sampled":0,"sampledNanos":0},` +
		`{"name":"ns_pipelines_p_to","records":0,"errors":0,"sampled":0,"sampledNanos":0}],` +
		`"topics":[{"topic":"orders","consumed":3,"produced":0,"failed":1},{"topic":"totals","consumed":0,"produced":2,"failed":0}],` +
		`"lag":[{"topic":"orders","partition":0,"lag":7},{"topic":"orders","partition":1,"lag":4}]}`; body != want {
		t.Errorf("metrics:\n got %s\nwant %s", body, want)
	}
}

type discard struct{}

func (discard) Send(string, int32, []byte, []byte, int64, []streams.Header) error { return nil }
func (discard) Partitions(string) (int, error)                                    { return 1, nil }
func (discard) Flush() error                                                      { return nil }

func TestOverviewAndTheBrokersTopicsOnlyConsole(t *testing.T) {
	c := New(Options{Topology: testTopology(t), StateQueries: true,
		Pipelines:        []Pipeline{{Namespace: "ns", Name: "p", From: []string{"orders"}, To: []string{"totals"}}},
		DeadLetterTopics: []string{"dlq"},
		Status:           func() Status { return Status{State: "FAILED", Streams: "ERROR", Error: "pipelines: boom", Live: false} },
	})
	wantJSON(t, c, "/console/api/overview", `{"applicationId":"app","status":{"state":"FAILED","streams":"ERROR","error":"pipelines: boom","live":false,"ready":false},`+
		`"topology":true,"topics":false,"stateQueries":true,"pipelines":[{"namespace":"ns","name":"p","from":["orders"],"to":["totals"]}],"deadLetterTopics":["dlq"]}`)
	broker := New(Options{Kafka: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}})
	wantJSON(t, broker, "/console/api/overview", `{"topology":false,"topics":true,"stateQueries":false,"pipelines":[],"deadLetterTopics":[]}`)
	if code, body := get(t, broker, "/console/api/topology"); code != http.StatusNotFound || body != "no topology: this console serves only topics\n" {
		t.Errorf("topology of the broker's console: %d %q", code, body)
	}
}

// TestPageIsServedAndSelfContained: the page and its bundle are served, and
// nothing in them names another host (no CDN, no web font): the browser
// test checks the requests the page makes.
func TestPageIsServedAndSelfContained(t *testing.T) {
	c := New(Options{})
	for path, ctype := range map[string]string{"/console/": "text/html; charset=utf-8", "/console/console.js": "text/javascript; charset=utf-8",
		"/console/console.css": "text/css; charset=utf-8"} {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		body := rec.Body.String()
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			// The SVG namespace is a name, not a request.
			if strings.Contains(strings.ReplaceAll(body, "http://www.w3.org/2000/svg", ""), bad) {
				t.Errorf("%s mentions %q", path, bad)
			}
		}
	}
}

func TestStandalonePageInlinesGraphAndBundle(t *testing.T) {
	g := GraphOf(testTopology(t))
	g.ApplicationID = "</script><b>"
	page, err := StandalonePage(g)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	if n := strings.Count(s, "</script>"); n != 2 {
		t.Errorf("%d </script> in the page, want 2 (the graph's and the bundle's)", n)
	}
	for _, want := range []string{`window.KSML_GRAPH = {"applicationId":"\u003c/script\u003e\u003cb\u003e"`, "<style>\n:root", "app-counts-changelog"} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(s, `src="console.js"`) || strings.Contains(s, `href="console.css"`) {
		t.Error("page still refers to the separate files")
	}
}

func TestExposed(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": false, "localhost:8080": false, "[::1]:8080": false,
		"0.0.0.0:8080": true, ":8080": true, "10.1.2.3:8080": true, "example.com:80": true, "nonsense": true} {
		if got := Exposed(addr); got != want {
			t.Errorf("Exposed(%q) = %v, want %v", addr, got, want)
		}
	}
}
