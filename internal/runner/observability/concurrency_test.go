package observability

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ksml-dev/ksml/internal/python"
)

// Recording from many goroutines while scraping loses nothing (run with
// -race to check the locking).
func TestConcurrentRecordingAndScraping(t *testing.T) {
	r := New(Options{})
	const workers, perWorker = 4, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tm := r.ExecutionTimer(FunctionLabels{Namespace: "ns", FunctionName: "f"})
			c := r.UserMetric(python.CounterMetric, "c", map[string]string{"w": strconv.Itoa(w % 2)})
			m := r.UserMetric(python.MeterMetric, "m", nil)
			p := r.Pipeline("ns", "p")
			l := r.NodeLatency("0_"+strconv.Itoa(w), "ns_pipelines_p_to")
			for i := range perWorker {
				tm.Observe(time.Duration(i))
				c.Record(1)
				m.Record(1)
				p.Consumed(1)
				l.Observe(time.Millisecond)
				r.SetConsumerLag("t", int32(w), int64(i))
			}
		}()
	}
	stop := make(chan struct{})
	scraped := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				scraped <- n
				return
			default:
			}
			if _, err := r.Gather(); err != nil {
				t.Errorf("Gather: %v", err)
			}
			n++
		}
	}()
	wg.Wait()
	close(stop)
	if n := <-scraped; n == 0 {
		t.Log("no scrape overlapped the recording")
	}
	body := scrape(t, r)
	total := strconv.Itoa(workers * perWorker)
	half := strconv.Itoa(workers * perWorker / 2)
	for _, want := range []string{
		`ksml_execution_time_count{function_name="f",namespace="ns"} ` + total,
		`ksml_user_defined_counter_count{custom_name="c",w="0"} ` + half,
		`ksml_user_defined_counter_count{custom_name="c",w="1"} ` + half,
		`ksml_user_defined_meter_count{custom_name="m"} ` + total,
		`ksml_pipeline_records_consumed_total{namespace="ns",pipeline="p"} ` + total,
		`ksml_consumer_records_lag{partition="3",topic="t"} ` + strconv.Itoa(perWorker-1),
	} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}

// Any tag name becomes a valid Prometheus label name, and any node name
// parses or is rejected without a panic.
func FuzzLabelAndNodeNames(f *testing.F) {
	for _, s := range []string{"custom-name", "__name__", "9x", "é", "", "_", "a b", "ns_pipelines_p_via_step1_op", "x_pipelines__"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := LabelName(s); n != "" && (!model.LegacyValidation.IsValidLabelName(n) || strings.HasPrefix(n, "__")) {
			t.Errorf("LabelName(%q) = %q is not a valid label name", s, n)
		}
		if nn, ok := ParseNodeName(s); ok {
			if nn.Namespace == "" || nn.Pipeline == "" || nn.Operation == "" || strings.Contains(nn.Operation, "_") {
				t.Errorf("ParseNodeName(%q) = %+v", s, nn)
			}
		}
	})
}
