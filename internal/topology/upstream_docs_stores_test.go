package topology

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// Ports of upstream's docs-examples tests for the state-store tutorial
// (InlineStoreTest, PredefinedStoreTest): the same definitions, inputs and
// expectations.

func ownership(id string, owner any, typ string) string {
	o := "null"
	if s, ok := owner.(string); ok {
		o = fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf(`{"sensor_id":%q,"owner":%s,"type":%q,"timestamp":%d}`, id, o, typ, time.Now().UnixMilli())
}

func TestTutorialInlineStore(t *testing.T) {
	const def = "intermediate-tutorial/state-stores/processor-inline-store.yaml"
	sensor := func(id, owner, typ string, v float64) string {
		return fmt.Sprintf(`{"sensor_id":%q,"owner":%q,"sensor_type":%q,"value":%v,"timestamp":%d}`, id, owner, typ, v, time.Now().UnixMilli())
	}
	near := func(v any, want float64) bool {
		f, ok := v.(float64)
		if !ok {
			if n, isInt := v.(int64); isInt {
				f, ok = float64(n), true
			}
		}
		return ok && math.Abs(f-want) <= 0.01
	}
	t.Run("single type", func(t *testing.T) {
		h := docsHarness(t, def)
		h.pipeJSON("sensor_ownership_data", "temp_001", sensor("temp_001", "alice", "temperature", 25.5))
		h.pipeJSON("sensor_ownership_data", "temp_002", sensor("temp_002", "bob", "temperature", 26.5))
		h.pipeJSON("sensor_ownership_data", "temp_003", sensor("temp_003", "charlie", "temperature", 24.0))
		out := h.jsonValues("sensor_type_totals")
		if len(out) != 3 {
			t.Fatalf("%d results, want 3", len(out))
		}
		last := out[2]
		if !near(path(last, "total_value"), 76.0) || path(last, "count") != int64(3) || !near(path(last, "average"), 25.33) {
			t.Errorf("final aggregate %v", Format(last))
		}
	})
	t.Run("several types", func(t *testing.T) {
		h := docsHarness(t, def)
		for _, r := range []struct {
			id, owner, typ string
			v              float64
		}{{"temp_001", "alice", "temperature", 25.0}, {"hum_001", "bob", "humidity", 60.0}, {"temp_002", "charlie", "temperature", 27.0},
			{"pres_001", "diana", "pressure", 1013.25}, {"hum_002", "eve", "humidity", 65.0}} {
			h.pipeJSON("sensor_ownership_data", r.id, sensor(r.id, r.owner, r.typ, r.v))
		}
		recs := h.drv.ReadOutput("sensor_type_totals")
		if len(recs) != 5 {
			t.Fatalf("%d results, want 5", len(recs))
		}
		final := map[string]any{}
		for _, r := range recs {
			v, err := h.serde("json", false).Deserialize("sensor_type_totals", nil, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			final[string(r.Key)] = v
		}
		for typ, want := range map[string]struct {
			count int64
			avg   float64
		}{"temperature": {2, 26.0}, "humidity": {2, 62.5}, "pressure": {1, 1013.25}} {
			v := final[typ]
			if v == nil {
				t.Errorf("%s: no result", typ)
				continue
			}
			res := resolvedValue(t, v)
			if path(res, "count") != want.count || !near(path(res, "average"), want.avg) {
				t.Errorf("%s: %s", typ, Format(res))
			}
		}
	})
}

func resolvedValue(t *testing.T, v any) any {
	t.Helper()
	if d, ok := v.(interface{ Resolve() (any, error) }); ok {
		r, err := d.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return v
}

func TestTutorialPredefinedStore(t *testing.T) {
	const def = "intermediate-tutorial/state-stores/processor-predefined-store.yaml"
	keysOf := func(h *harness) []string {
		var keys []string
		for _, r := range h.drv.ReadOutput("owner_sensor_counts") {
			if r.Value == nil {
				t.Errorf("%s: null count", r.Key)
			}
			keys = append(keys, string(r.Key))
		}
		return keys
	}
	all := func(keys []string, want string) bool {
		for _, k := range keys {
			if k != want {
				return false
			}
		}
		return len(keys) > 0
	}
	h := docsHarness(t, def)
	h.pipeJSON("sensor_ownership_data", "sensor_001", ownership("sensor_001", "alice", "temperature"))
	h.pipeJSON("sensor_ownership_data", "sensor_001", ownership("sensor_001", "alice", "humidity"))
	if keys := keysOf(h); !all(keys, "alice") {
		t.Errorf("group by owner: keys %v", keys)
	}

	h = docsHarness(t, def)
	for _, id := range []string{"sensor_002", "sensor_003", "sensor_004"} {
		h.pipeJSON("sensor_ownership_data", id, ownership(id, "bob", "temperature"))
	}
	if keys := keysOf(h); !all(keys, "bob") {
		t.Errorf("count: keys %v", keys)
	}

	h = docsHarness(t, def)
	h.pipeJSON("sensor_ownership_data", "sensor_005", ownership("sensor_005", nil, "temperature"))
	h.pipeJSON("sensor_ownership_data", "sensor_006", `{"sensor_id":"sensor_006","type":"pressure"}`)
	if keys := keysOf(h); !all(keys, "unknown") {
		t.Errorf("unknown owner: keys %v", keys)
	}

	h = docsHarness(t, def)
	for i, owner := range []string{"alice", "alice", "bob", "bob", "bob", "charlie"} {
		id := fmt.Sprintf("sensor_%03d", 8+i)
		h.pipeJSON("sensor_ownership_data", id, ownership(id, owner, "temperature"))
	}
	seen := map[string]bool{}
	for _, k := range keysOf(h) {
		seen[k] = true
	}
	if !seen["alice"] || !seen["bob"] || !seen["charlie"] {
		t.Errorf("owners seen %v", seen)
	}
}

// StreamTableJoinTest: orders are re-keyed by customer, joined with the
// customer table and re-keyed back to the order id.
func TestTutorialStreamTableJoin(t *testing.T) {
	const def = "intermediate-tutorial/joins/processor-stream-table-join.yaml"
	customer := func(name, email, region string) string {
		return fmt.Sprintf(`{"name":%q,"email":%q,"region":%q,"status":"active"}`, name, email, region)
	}
	order := func(id, cust, prod string, qty int, amount float64) string {
		return fmt.Sprintf(`{"order_id":%q,"customer_id":%q,"product_id":%q,"quantity":%d,"amount":%v,"timestamp":%d}`,
			id, cust, prod, qty, amount, time.Now().UnixMilli())
	}
	h := docsHarness(t, def)
	h.pipeJSON("customer_data", "CUST001", customer("Alice Johnson", "alice@email.com", "US-WEST"))
	h.pipeJSON("new_orders", "ORD0001", order("ORD0001", "CUST001", "PROD001", 2, 100.00))
	recs := h.drv.ReadOutput("orders_with_customer_data")
	if len(recs) != 1 {
		t.Fatalf("enriched: %d records", len(recs))
	}
	if string(recs[0].Key) != "ORD0001" {
		t.Errorf("key %s, want the order id back", recs[0].Key)
	}
	v, err := h.serde("json", false).Deserialize("orders_with_customer_data", nil, recs[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	v = resolvedValue(t, v)
	for k, want := range map[string]any{"order_id": "ORD0001", "customer_id": "CUST001", "quantity": int64(2)} {
		if got := path(v, k); got != want {
			t.Errorf("%s = %#v", k, got)
		}
	}
	for k, want := range map[string]string{"name": "Alice Johnson", "email": "alice@email.com", "region": "US-WEST"} {
		if got := path(v, "customer", k); got != want {
			t.Errorf("customer.%s = %#v", k, got)
		}
	}

	h = docsHarness(t, def)
	h.pipeJSON("customer_data", "CUST004", customer("David Wilson", "david@email.com", "ASIA-PACIFIC"))
	h.pipeJSON("new_orders", "ORD0004", order("ORD0004", "CUST004", "PROD001", 1, 25.00))
	h.pipeJSON("new_orders", "ORD0005", order("ORD0005", "CUST004", "PROD002", 2, 50.00))
	h.pipeJSON("new_orders", "ORD0006", order("ORD0006", "CUST004", "PROD003", 1, 75.00))
	out := h.jsonValues("orders_with_customer_data")
	if len(out) != 3 {
		t.Fatalf("same customer: %d records, want 3", len(out))
	}
	for _, v := range out {
		if path(v, "customer", "name") != "David Wilson" || path(v, "customer", "region") != "ASIA-PACIFIC" {
			t.Errorf("enriched %s", Format(v))
		}
	}
}

// PatternDetectionTest: an A->B->C sequence per session, tracked in a store,
// is detected on C; other sequences reset it.
func TestTutorialPatternDetection(t *testing.T) {
	const def = "advanced-tutorial/complex-event-processing/processor-pattern-detection.yaml"
	event := func(session, typ string, seq int) string {
		return fmt.Sprintf(`{"event_id":"evt_%04d","session_id":%q,"event_type":%q,"timestamp":%d,"sequence_number":%d,`+
			`"data":"event_data_%s","metadata":{"simulation":true,"pattern_type":"abc_sequence"}}`, seq, session, typ, time.Now().UnixMilli(), seq, typ)
	}
	seq := 0
	send := func(h *harness, session string, types ...string) {
		for _, typ := range types {
			seq++
			h.pipeJSON("pattern_events", session, event(session, typ, seq))
		}
	}
	h := docsHarness(t, def)
	send(h, "session_001", "A", "B", "C")
	out := h.jsonValues("detected_patterns")
	if len(out) != 1 {
		t.Fatalf("complete: %d detections", len(out))
	}
	d := out[0]
	if path(d, "pattern_type") != "ABC_SEQUENCE" || path(d, "status") != "DETECTED" || path(d, "session_id") != "session_001" ||
		path(d, "completing_event", "event_type") != "C" {
		t.Errorf("detection %s", Format(d))
	}

	h = docsHarness(t, def)
	send(h, "session_002", "A", "B")
	if out := h.jsonValues("detected_patterns"); len(out) != 0 {
		t.Errorf("incomplete: %v", out)
	}

	h = docsHarness(t, def)
	send(h, "session_003", "A", "B", "D")
	if out := h.jsonValues("detected_patterns"); len(out) != 0 {
		t.Errorf("reset: %v", out)
	}
	send(h, "session_003", "A", "B", "C")
	if out := h.jsonValues("detected_patterns"); len(out) != 1 || path(out[0], "pattern_type") != "ABC_SEQUENCE" {
		t.Errorf("after reset: %v", out)
	}

	h = docsHarness(t, def)
	send(h, "session_001", "A", "B")
	send(h, "session_002", "A")
	send(h, "session_001", "C")
	if out := h.jsonValues("detected_patterns"); len(out) != 1 || path(out[0], "session_id") != "session_001" {
		t.Errorf("independent sessions: %v", out)
	}
}
