package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

var consoleURLRe = regexp.MustCompile(`msg="web console started" url=(\S+)`)

// TestBrokerConsoleServesTheTopicBrowser: `ksml broker --console` serves
// the console's topic parts (no topology) for the broker's topics, and
// warns nothing on loopback.
func TestBrokerConsoleServesTheTopicBrowser(t *testing.T) {
	addr, logs, stop := startBrokerCommand(t, "--listen", "127.0.0.1:0", "--console", "127.0.0.1:0")
	defer func() { brokerFlags.console = ""; _ = stop() }()
	m := consoleURLRe.FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no console URL in the log:\n%s", logs)
	}
	if strings.Contains(logs.String(), "without authentication") {
		t.Errorf("a loopback console warns:\n%s", logs)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "greetings", Key: []byte("k"), Value: []byte(`{"hi":1}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(strings.TrimSuffix(m[1], "/console/") + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, b)
		}
		return string(b)
	}
	if got, want := get("/console/api/overview"), `{"topology":false,"topics":true,"stateQueries":false,"pipelines":[],"deadLetterTopics":[]}`; got != want {
		t.Errorf("overview:\n got %s\nwant %s", got, want)
	}
	if got, want := get("/console/api/topics"), `[{"name":"greetings","partitions":1,"records":1,"kind":"topic"}]`; got != want {
		t.Errorf("topics:\n got %s\nwant %s", got, want)
	}
	if got := get("/console/api/topics/greetings/records"); !strings.Contains(got, `"key":"k","keyFormat":"string","value":{"hi":1},"valueFormat":"json"`) {
		t.Errorf("records: %s", got)
	}
	if got := get("/console/"); !strings.Contains(got, `<script src="console.js"></script>`) {
		t.Errorf("page: %.200s", got)
	}
}

// TestTopologyHTML: --format html writes one page with the graph and the
// bundle inlined.
func TestTopologyHTML(t *testing.T) {
	out, err := runCLI(t, "topology", "--format", "html", "../../examples/order-enrichment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!doctype html>", `window.KSML_GRAPH = {"applicationId":"order-enrichment"`,
		`"name":"order-enrichment_pipelines_enrich_orders_via_step2_leftJoin","kind":"processor"`,
		`{"name":"order-enrichment-order-enrichment_pipelines_enrich_orders_via_step2_leftJoin-repartition","kind":"repartition"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(out, `src="console.js"`) {
		t.Error("page refers to console.js instead of inlining it")
	}
}
