package runner_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/broker"
	"github.com/ksml-dev/ksml/internal/kafkatest"
	"github.com/ksml-dev/ksml/internal/runner"
)

// --on-error continue (Options.OnError) skips a failing record that the
// configuration's default stopOnFail would stop at.
func TestOnErrorContinueSkipsFailingRecords(t *testing.T) {
	kafkatest.Parallel(t)
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, fmt.Sprintf("  configDirectory: %q\n  storageDirectory: %q\n  definitions:\n    orders: double.yaml\n", work, work),
		map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "errs-flag"})
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, OnError: "continue", Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	produce(t, newClient(t, b.Bootstrap), orderRecords("o1", "bad", "o3")...)
	var got []string
	for _, r := range readAll(t, b.Bootstrap, "orders-out", 2, 500*time.Millisecond) {
		got = append(got, string(r.Key))
	}
	if strings.Join(got, ",") != "o1,o3" {
		t.Errorf("output keys %v, want o1,o3", got)
	}
	if err := rr.stop(t); err != nil {
		t.Errorf("runner stopped with %v", err)
	}
	if _, err := runner.New(runner.Options{ConfigFile: cfg, WorkDir: work, OnError: "ignore", Logger: slog.New(slog.DiscardHandler)}); err == nil ||
		err.Error() != `--on-error "ignore": want stop or continue` {
		t.Errorf("bad --on-error: %v", err)
	}
}

// Relative paths of a runner configuration are relative to the file, not
// to the working directory.
func TestRunnerConfigPathsAreRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "defs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeDefinition(t, filepath.Join(dir, "defs"), "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, dir, "  configDirectory: defs\n  storageDirectory: state\n  createStorageDirectory: true\n  definitions:\n    orders: double.yaml\n",
		map[string]string{"application.id": "rel"})
	r, err := runner.New(runner.Options{ConfigFile: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.StateDir(), filepath.Join(dir, "state", "rel"); got != want {
		t.Errorf("state dir %s, want %s", got, want)
	}
}

// Cluster settings without bootstrap.servers are an error rather than a
// silent switch to the embedded broker.
func TestClusterSettingsWithoutBootstrapServersFail(t *testing.T) {
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := filepath.Join(work, "ksml-runner.yaml")
	writeDefinition(t, work, "ksml-runner.yaml", "ksml:\n  definitions:\n    orders: double.yaml\nkafka:\n  application.id: x\n  security.protocol: SASL_SSL\n")
	_, err := runner.New(runner.Options{ConfigFile: cfg, Logger: slog.New(slog.DiscardHandler)})
	want := cfg + ":6:22: kafka.security.protocol is set but kafka.bootstrap.servers is not: set bootstrap.servers (or --bootstrap-servers, KSML_BOOTSTRAP_SERVERS) to the cluster, or remove the cluster settings to use the embedded broker"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// --bootstrap-servers and --application-id override the configuration,
// and the log names the cluster and where its address came from.
func TestOverridesAndTheClusterLine(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, "  definitions:\n    orders: double.yaml\n", map[string]string{"bootstrap.servers": "127.0.0.1:1", "application.id": "configured"})
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, BootstrapServers: b.Bootstrap, ApplicationID: "overridden",
		Sources: map[string]string{"bootstrap.servers": "KSML_BOOTSTRAP_SERVERS"}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if rr.r.ApplicationID() != "overridden" || rr.r.BootstrapServers() != b.Bootstrap {
		t.Errorf("application %s on %s", rr.r.ApplicationID(), rr.r.BootstrapServers())
	}
	want := fmt.Sprintf(`msg="using the Kafka cluster at %s (KSML_BOOTSTRAP_SERVERS)" bootstrap.servers=%s`, b.Bootstrap, b.Bootstrap)
	if !strings.Contains(logs.String(), want) {
		t.Errorf("no %s in\n%s", want, logs.String())
	}
	if err := rr.stop(t); err != nil {
		t.Error(err)
	}
}

// The embedded broker starts only when no cluster is configured, or when
// --embedded-broker forces it; one line says which and why.
func TestEmbeddedBrokerLine(t *testing.T) {
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, "  definitions:\n    orders: double.yaml\n", map[string]string{"bootstrap.servers": "cluster.example:9092", "application.id": "forced"})
	var logs syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, EmbeddedBroker: "0", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	addr := rr.r.BootstrapServers()
	if !strings.HasPrefix(addr, "127.0.0.1:") || addr == "127.0.0.1:0" {
		t.Errorf("embedded broker at %q", addr)
	}
	want := fmt.Sprintf(`msg="using the embedded Kafka broker on %s: --embedded-broker forces it instead of the configured cluster cluster.example:9092; its data is in %s" bootstrap.servers=%s dataDir=%s`,
		addr, filepath.Join(work, "broker"), addr, filepath.Join(work, "broker"))
	if !strings.Contains(logs.String(), want) {
		t.Errorf("no %s in\n%s", want, logs.String())
	}
	if err := rr.stop(t); err != nil {
		t.Error(err)
	}
}

// The logs a Kafka Streams user reads: the topology as text, state
// transitions in Kafka Streams' words, a periodic progress summary, and no
// Avro warning when nothing uses Avro.
func TestReadableLogs(t *testing.T) {
	b := startBroker(t)
	work := t.TempDir()
	writeDefinition(t, work, "double.yaml", doubleDefinition)
	cfg := runnerConfig(t, work, "  definitions:\n    orders: double.yaml\n", map[string]string{"bootstrap.servers": b.Bootstrap, "application.id": "logs"})
	var logs, console syncBuffer
	rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Console: &console, ProgressInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	produce(t, newClient(t, b.Bootstrap), orderRecords("o1", "o2", "o3")...)
	waitFor(t, "a progress line with the three records", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), "msg=progress consumed=3 consumedSinceLast=") &&
			strings.Contains(logs.String(), "produced=3 producedSinceLast=0 failed=0 lag=0")
	})
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
	wantConsole := "Topology of application logs:\nTopologies:\n   Sub-topology: 0\n    Source: orders-in (topics: [orders-in])\n"
	if !strings.HasPrefix(console.String(), wantConsole) {
		t.Errorf("console:\n%s\nwant it to start with\n%s", console.String(), wantConsole)
	}
	var transitions []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if i := strings.Index(line, `msg="State transition from `); i >= 0 {
			transitions = append(transitions, strings.SplitN(line[i+len(`msg="State transition from `):], `"`, 2)[0])
		}
	}
	if got := strings.Join(transitions, "; "); got != "CREATED to REBALANCING; REBALANCING to RUNNING; RUNNING to PENDING_SHUTDOWN; PENDING_SHUTDOWN to NOT_RUNNING" {
		t.Errorf("transitions: %s", got)
	}
	if strings.Contains(logs.String(), "Avro") {
		t.Errorf("an Avro warning although nothing uses Avro:\n%s", logs.String())
	}
}

// Topics ksml creates follow the cluster's num.partitions (here a broker
// started like `ksml broker --partitions 3`), or --partitions, instead of
// always one partition, so a second instance gets work.
func TestCreatedTopicsTakeTheClusterOrConfiguredPartitions(t *testing.T) {
	for _, tc := range []struct {
		name             string
		broker, override int
		want             int
	}{{"cluster default", 3, 0, 3}, {"--partitions", 1, 2, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := broker.Start(context.Background(), broker.Options{Listen: "127.0.0.1:0", Partitions: tc.broker})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			work := t.TempDir()
			writeDefinition(t, work, "double.yaml", doubleDefinition)
			cfg := runnerConfig(t, work, "  definitions:\n    orders: double.yaml\n", map[string]string{"bootstrap.servers": b.BootstrapServers(), "application.id": "parts"})
			rr := startRunner(t, runner.Options{ConfigFile: cfg, WorkDir: work, Partitions: tc.override, Logger: slog.New(slog.DiscardHandler)})
			details, err := admin(newClient(t, b.BootstrapServers())).ListTopics(context.Background(), "orders-in", "orders-out")
			if err != nil {
				t.Fatal(err)
			}
			for _, topic := range []string{"orders-in", "orders-out"} {
				if n := len(details[topic].Partitions); n != tc.want {
					t.Errorf("%s has %d partitions, want %d", topic, n, tc.want)
				}
			}
			if err := rr.stop(t); err != nil {
				t.Error(err)
			}
		})
	}
}

// A store of a stateful operation declared with only a name is in memory
// and not logged (upstream's defaults): startup warns that a restart loses
// it. A logged store gets no warning.
func TestUnloggedStoreWarning(t *testing.T) {
	work := t.TempDir()
	def := writeDefinition(t, work, "counts.yaml", `streams:
  in: {topic: words, keyType: string, valueType: string}
stores:
  counts: {type: keyValue, keyType: string, valueType: long}
  kept: {type: keyValue, keyType: string, valueType: long, logging: true}
pipelines:
  count_words:
    from: in
    via:
      - type: groupByKey
      - type: count
        store: counts
      - type: toStream
    to: {topic: word-counts, keyType: string, valueType: long}
  count_kept:
    from: in
    via:
      - type: groupByKey
      - type: count
        store: kept
      - type: toStream
    to: {topic: word-counts-2, keyType: string, valueType: long}
`)
	var logs syncBuffer
	if _, err := runner.New(runner.Options{Definitions: []string{def}, WorkDir: work, Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") {
			warnings = append(warnings, l[strings.Index(l, "msg="):])
		}
	}
	want := `msg="` + def + `:11:9: store \"counts\" of count is in memory and not logged, so its contents are lost when the runner restarts; ` +
		`set logging: true on the store to keep them in a changelog topic (or persistent: true to keep them on disk)"`
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(warnings, "\n"), want)
	}
}

// --embedded-broker takes a bare port (loopback) as well as host:port.
func TestEmbeddedBrokerAddr(t *testing.T) {
	for in, want := range map[string]string{"": "127.0.0.1:9092", "19495": "127.0.0.1:19495", "0.0.0.0:9093": "0.0.0.0:9093", "localhost:9094": "localhost:9094"} {
		if got := runner.EmbeddedBrokerAddr(in); got != want {
			t.Errorf("EmbeddedBrokerAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

const avroSchema = `{"type": "record", "name": "Reading", "namespace": "example",
 "fields": [{"name": "room", "type": "string"}, {"name": "celsius", "type": "double"}]}`

const avroDefinition = `streams:
  readings: {topic: readings, keyType: string, valueType: avro:Reading}
  copies: {topic: reading-copies, keyType: string, valueType: json}
functions:
  next_reading:
    type: generator
    globalCode: |
      n = 0
    code: |
      global n
      n += 1
      return ("r" + str(n), {"room": "lab", "celsius": 20.0 + n})
    resultType: (string, avro:Reading)
producers:
  readings:
    generator: next_reading
    interval: 10ms
    count: 3
    to: readings
pipelines:
  copy:
    from: readings
    to: copies
`

// Avro runs on the embedded broker with no setup: the notations use the
// embedded schema registry, which is served over HTTP beside the broker
// and keeps its schemas in the storage directory.
func TestAvroRunsOnTheEmbeddedRegistry(t *testing.T) {
	kafkatest.Parallel(t)
	work := t.TempDir()
	writeDefinition(t, work, "Reading.avsc", avroSchema)
	def := writeDefinition(t, work, "avro.yaml", avroDefinition)
	var logs syncBuffer
	rr := startRunner(t, runner.Options{Definitions: []string{def}, WorkDir: work, EmbeddedBroker: "0", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	bootstrap := rr.r.BootstrapServers()
	var got []string
	for _, r := range readAll(t, bootstrap, "reading-copies", 3, 300*time.Millisecond) {
		got = append(got, string(r.Key)+"="+string(r.Value))
	}
	want := `r1={"room":"lab","celsius":21.0} r2={"room":"lab","celsius":22.0} r3={"room":"lab","celsius":23.0}`
	if strings.Join(got, " ") != want {
		t.Errorf("copies:\n got %v\nwant %s", got, want)
	}
	url := rr.r.SchemaRegistryURL()
	resp, err := http.Get(url + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != `["readings-value"]` || strings.HasSuffix(url, ":8081") {
		t.Errorf("GET %s/subjects = %s", url, body)
	}
	if err := rr.stop(t); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(filepath.Join(work, "schema-registry.jsonl"))
	if err != nil || !strings.HasPrefix(string(saved), `{"subject":"readings-value","schema":`) || strings.Count(string(saved), "\n") != 1 {
		t.Errorf("registry file: %v\n%s", err, saved)
	}
	if !strings.Contains(logs.String(), "serving the embedded schema registry (Confluent and Apicurio APIs) on "+url) {
		t.Errorf("no registry line in\n%s", logs.String())
	}
}
