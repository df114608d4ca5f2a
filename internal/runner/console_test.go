package runner_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksml-dev/ksml/internal/console"
	"github.com/ksml-dev/ksml/internal/runner"
)

// TestConsoleOnTheApplicationServer: with the application server on, `/`
// leads to the console, whose API shows the running topology's node
// counts, the topic counters and the latest output records decoded with
// the topology's serdes (a long, not its 8 bytes).
func TestConsoleOnTheApplicationServer(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "visits.yaml", visitsDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf(`  configDirectory: %q
  storageDirectory: %q
  definitions:
    visits: visits.yaml
  applicationServer:
    enabled: true
    host: 127.0.0.1
    port: %d
`, work, work, freePort(t)), map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "visits"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work})
	app := "http://" + rr.r.AppServerAddr()

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(app + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/console/" {
		t.Errorf("GET / = %d to %q, want 302 to /console/", resp.StatusCode, resp.Header.Get("Location"))
	}

	cl := newClient(t, b.Bootstrap)
	produce(t, cl, &kgo.Record{Topic: "visits", Key: []byte("home"), Value: []byte("a")},
		&kgo.Record{Topic: "visits", Key: []byte("home"), Value: []byte("b")})
	waitFor(t, "two counts", 10*time.Second, func() bool { return rr.r.Counters().Get("produced", "visit-counts") == 2 })

	if code, body := httpGet(t, app+"/console/api/overview"); code != http.StatusOK || body != `{"applicationId":"visits",`+
		`"status":{"state":"STARTED","streams":"RUNNING","live":true,"ready":true},"topology":true,"topics":true,"stateQueries":true,`+
		`"pipelines":[{"namespace":"visits","name":"count","from":["visits"],"to":["visit-counts"]}],"deadLetterTopics":[]}` {
		t.Errorf("overview: %d %s", code, body)
	}
	var m console.Metrics
	_, body := httpGet(t, app+"/console/api/metrics")
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	records := map[string]int64{}
	for _, n := range m.Nodes {
		records[n.Name] = n.Records
	}
	for _, name := range []string{"visits", "visits_pipelines_count_via_step1_transformValue", "visits_pipelines_count_to"} {
		if records[name] != 2 {
			t.Errorf("node %s: %d records, want 2 (nodes: %v)", name, records[name], records)
		}
	}
	if fmt.Sprint(m.Topics) != "[{visit-counts 0 2 0} {visits 2 0 0} {visits-visit_counts-changelog 0 2 0}]" || fmt.Sprint(m.Lag) != "[{visits 0 0}]" {
		t.Errorf("topics %v lag %v", m.Topics, m.Lag)
	}
	code, body := httpGet(t, app+"/console/api/topics/visit-counts/records")
	var recs console.Records
	if err := json.Unmarshal([]byte(body), &recs); code != http.StatusOK || err != nil {
		t.Fatalf("records: %d %s %v", code, body, err)
	}
	var got []string
	for _, r := range recs.Records {
		got = append(got, fmt.Sprintf("%d %s=%s (%s)", r.Offset, r.Key, r.Value, r.ValueFormat))
	}
	if fmt.Sprint(got) != `[1 "home"=2 (decoded) 0 "home"=1 (decoded)]` {
		t.Errorf("records: %q", got)
	}
}
