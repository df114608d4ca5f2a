package console_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestConsoleInChromium runs `ksml run` with the order-enrichment example on
// the embedded broker and looks at the console in a headless Chromium: the
// graph's nodes are drawn, the node rates and the topic browser update as
// the example's producer writes, a dead-lettered order shows the Python
// error that stopped it, and the page asks only its own host for anything.
// A screenshot is saved to $KSML_CONSOLE_SCREENSHOT (default: the test's
// temporary directory).
//
// It runs with KSML_CONSOLE_E2E=1 (.ci/console) and needs Debian's
// chromium; without it the test skips, and fails under CI=true.
func TestConsoleInChromium(t *testing.T) {
	if os.Getenv("KSML_CONSOLE_E2E") != "1" {
		t.Skip("the browser test runs with KSML_CONSOLE_E2E=1 (.ci/console)")
	}
	browser := chromiumPath()
	if browser == "" {
		msg := "no chromium on PATH (apt-get install chromium, or set KSML_CHROMIUM)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	// The example runs from a copy, so error messages name a neutral path.
	examples := filepath.Join(work, "examples")
	must(t, os.Mkdir(examples, 0o755))
	for _, f := range []string{"order-enrichment.yaml", "order-enrichment-producer.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", f))
		must(t, err)
		writeFile(t, filepath.Join(examples, f), string(b))
	}
	// Beside it, a windowed count, for the store browser's window stores.
	writeFile(t, filepath.Join(examples, "clicks.yaml"), `streams:
  clicks:
    topic: clicks
    keyType: string
    valueType: string
pipelines:
  per_window:
    from: clicks
    via:
      - type: groupByKey
      - type: windowByTime
        windowType: tumbling
        duration: 10s
      - type: count
        store:
          name: click_counts
          type: window
          retention: 1h
`)
	bin := filepath.Join(work, "ksml")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ksml")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building ksml: %v\n%s", err, out)
	}
	appAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := filepath.Join(work, "ksml-runner.yaml")
	host, port, _ := net.SplitHostPort(appAddr)
	writeFile(t, cfg, fmt.Sprintf(`ksml:
  configDirectory: %[1]q
  schemaDirectory: %[1]q
  storageDirectory: %[2]q
  createStorageDirectory: true
  definitions:
    orders: order-enrichment.yaml
    feed: order-enrichment-producer.yaml
    clicks: clicks.yaml
  errorHandling:
    process:
      handler: continueOnFail
      deadLetterTopic: orders-process-dlt
  applicationServer:
    enabled: true
    host: %[3]s
    port: %[4]s
kafka:
  application.id: order-enrichment
`, examples, filepath.Join(work, "state"), host, port))
	logFile, err := os.Create(filepath.Join(work, "ksml.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	run := exec.Command(bin, "run", "-c", cfg, "--embedded-broker", brokerAddr)
	run.Stdout, run.Stderr = logFile, logFile
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = run.Wait(); close(exited) }()
	defer func() {
		_ = run.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = run.Process.Kill()
			<-exited
		}
	}()
	logTail := func() string { b, _ := os.ReadFile(logFile.Name()); return tail(string(b), 3000) }
	poll(t, "ksml run is ready", 60*time.Second, logTail, func() bool {
		select {
		case <-exited:
			t.Fatalf("ksml run exited:\n%s", logTail())
		default:
		}
		resp, err := http.Get("http://" + appAddr + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNoContent
	})

	// An order without customerId fails in the first selectKey (KeyError)
	// and goes to the dead-letter topic.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "orders", Key: []byte("bad-order"),
		Value: []byte(`{"orderId":"bad-order","amount":1}`)},
		&kgo.Record{Topic: "clicks", Key: []byte("home"), Value: []byte("x"), Timestamp: time.UnixMilli(1000)},
		&kgo.Record{Topic: "clicks", Key: []byte("home"), Value: []byte("x"), Timestamp: time.UnixMilli(2000)}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1600, 1000), chromedp.Flag("headless", "new"))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var mu sync.Mutex
	var requested []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	})
	page := "http://" + appAddr + "/console/"
	must(t, chromedp.Run(ctx, network.Enable(), chromedp.Navigate(page)))
	// The graph shows the topology's nodes, stores and topics, internal
	// topics included. Node names start with the definition's namespace
	// ("orders" in this configuration).
	var kinds string
	poll(t, "the graph", 30*time.Second, logTail, func() bool {
		must(t, chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll("svg.graph g.node")].map(n => n.dataset.kind + ":" + n.dataset.name).sort().join("\n")`, &kinds)))
		return kinds != ""
	})
	for _, want := range []string{
		"source:orders", "processor:orders_pipelines_enrich_orders_via_step1_transformKey", "processor:orders_pipelines_enrich_orders_via_step2_leftJoin",
		"sink:orders_pipelines_enrich_orders_to", "store:customers", "topic:orders", "topic:customers", "topic:enriched-orders",
		"topic:order-enrichment-orders_pipelines_enrich_orders_via_step2_leftJoin-repartition",
	} {
		if !strings.Contains("\n"+kinds+"\n", "\n"+want+"\n") {
			t.Errorf("graph lacks %s; it has:\n%s", want, kinds)
		}
	}
	// Rates update: the join node's record count grows and its figures
	// show a rate.
	nodeRecords := func(name string) (n int) {
		must(t, chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`Number(document.querySelector('g.node[data-kind=processor][data-name=%q]').dataset.records || 0)`, name), &n)))
		return n
	}
	first := nodeRecords("orders_pipelines_enrich_orders_via_step2_leftJoin")
	poll(t, "the join node's count to grow", 30*time.Second, logTail, func() bool { return nodeRecords("orders_pipelines_enrich_orders_via_step2_leftJoin") > first })
	poll(t, "a rate on the source node", 30*time.Second, logTail, func() bool {
		var fig string
		must(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('g.node.source[data-name="orders"] text.figures').textContent`, &fig)))
		return strings.Contains(fig, "/s") && !strings.HasPrefix(fig, "0.0/s") && !strings.HasPrefix(fig, "–")
	})
	// The node that failed shows its error, in red, and a latency.
	var failing string
	must(t, chromedp.Run(ctx, chromedp.Evaluate(`(() => { const n = document.querySelector('g.node.failing'); return n ? n.dataset.name + " " + n.querySelector("text.figures").textContent : "" })()`, &failing)))
	if !strings.HasPrefix(failing, "orders_pipelines_enrich_orders_via_step1_transformKey ") || !strings.Contains(failing, " · 1 err · ") || !strings.HasSuffix(failing, " ms") {
		t.Errorf("failing node %q: want step1_transformKey with 1 error and a latency in ms", failing)
	}
	// The topic browser shows enriched orders, and newer ones as they come.
	browse := func(topic string) {
		var ok bool
		must(t, chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`(() => { const s = document.querySelector("#topic-select");
			if (![...s.options].some(o => o.value === %[1]q)) s.append(new Option(%[1]q, %[1]q));
			s.value = %[1]q; s.dispatchEvent(new Event("change")); return true; })()`, topic), &ok)))
	}
	browse("enriched-orders")
	firstOffset := func() (off int) {
		must(t, chromedp.Run(ctx, chromedp.Evaluate(`(() => { const c = document.querySelector("#records tbody tr td:nth-child(2)"); return c ? Number(c.textContent) : -1 })()`, &off)))
		return off
	}
	poll(t, "enriched orders in the topic browser", 30*time.Second, logTail, func() bool { return firstOffset() >= 0 })
	seen := firstOffset()
	poll(t, "the topic browser to show a newer record", 30*time.Second, logTail, func() bool { return firstOffset() > seen })
	var value string
	must(t, chromedp.Run(ctx, chromedp.Text(`#records tbody tr td:nth-child(5)`, &value)))
	if !strings.Contains(value, `"customerId"`) || !strings.Contains(value, `"processedAt"`) {
		t.Errorf("enriched order value %s lacks customerId or processedAt", value)
	}
	// The dead-lettered order shows why.
	browse("orders-process-dlt")
	var reason string
	poll(t, "the dead-letter reason", 30*time.Second, logTail, func() bool {
		_ = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const r = document.querySelector("#records tr.dead-letter .reason"); return r ? r.textContent : "" })()`, &reason))
		return reason != ""
	})
	if !strings.Contains(reason, "process: ") || !strings.Contains(reason, "KeyError") || !strings.Contains(reason, "customerId") {
		t.Errorf("dead-letter reason %q: want the process handler and the KeyError on customerId", reason)
	}
	// The state store browser lists the customers table's store through
	// the application server's /state query.
	var storeTitle string
	must(t, chromedp.Run(ctx, chromedp.Click(`button[data-store="customers"]`, chromedp.ByQuery)))
	poll(t, "the customers store's entries", 30*time.Second, logTail, func() bool {
		_ = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const h = document.querySelector("#store-entries h3"); return h ? h.textContent : "" })()`, &storeTitle))
		return storeTitle != ""
	})
	if storeTitle != "customers: 3 entries" {
		t.Errorf("store browser shows %q, want the example's 3 customers", storeTitle)
	}
	// A window store lists its windows (/state/windowed/...).
	var windowed string
	must(t, chromedp.Run(ctx, chromedp.Click(`button[data-store="click_counts"]`, chromedp.ByQuery)))
	poll(t, "the click_counts windows", 30*time.Second, logTail, func() bool {
		_ = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const h = document.querySelector("#store-entries h3");
			return h && h.textContent.startsWith("click_counts") ? h.textContent + " | " + document.querySelector("#store-entries tbody").innerText : "" })()`, &windowed))
		return windowed != ""
	})
	if want := "click_counts: 1 entry | \"home\"\t1970-01-01T00:00:00Z – 1970-01-01T00:00:10Z\t2"; windowed != want {
		t.Errorf("window store browser shows %q, want %q", windowed, want)
	}
	// Leave the customers store in view for the screenshot.
	must(t, chromedp.Run(ctx, chromedp.Click(`button[data-store="customers"]`, chromedp.ByQuery)))
	poll(t, "the customers store again", 30*time.Second, logTail, func() bool {
		_ = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const h = document.querySelector("#store-entries h3"); return h ? h.textContent : "" })()`, &storeTitle))
		return strings.HasPrefix(storeTitle, "customers")
	})
	// The status bar says the runner runs.
	var status string
	must(t, chromedp.Run(ctx, chromedp.Text(`#status`, &status)))
	if !strings.Contains(status, "runner STARTED") || !strings.Contains(status, "streams RUNNING") {
		t.Errorf("status %q", status)
	}
	shot := os.Getenv("KSML_CONSOLE_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "console.png")
	}
	// The screenshot shows the topology and the dead letter together.
	var png []byte
	must(t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)))
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))

	mu.Lock()
	defer mu.Unlock()
	if len(requested) < 5 {
		t.Errorf("only %d requests seen: %q", len(requested), requested)
	}
	for _, u := range requested {
		p, err := url.Parse(u)
		if err != nil || p.Host != appAddr || p.Scheme != "http" {
			t.Errorf("the page requested %s, not from its own host %s", u, appAddr)
		}
	}
}

func chromiumPath() string {
	if p := os.Getenv("KSML_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// poll waits for cond, checking every 200 ms, and fails with the log's tail
// after timeout.
func poll(t *testing.T, what string, timeout time.Duration, logTail func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s\nksml log:\n%s", timeout, what, logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
