package topology

import (
	"fmt"
	"strings"
	"testing"
)

// Joins: ports of upstream's join tests (KSMLOuterJoinTest, KSMLJoinTest,
// the intermediate-tutorial joins) with every emitted record checked, and
// edge cases of our own.

func TestUpstreamOuterJoin(t *testing.T) {
	for _, file := range []string{"test-outerjoin-reference.yaml", "test-outerjoin-inline.yaml", "test-outerjoin-inline-timestamped.yaml"} {
		t.Run(file, func(t *testing.T) {
			h := corpusHarness(t, file)
			h.mustPipe("input1", "string", "string", "1", "one", 100)
			h.mustPipe("input1", "string", "string", "2", "two", 100)
			h.mustPipe("input1", "string", "string", "3", "three", 100)
			h.mustPipe("input2", "string", "string", "1", "eins", 120)
			h.mustPipe("input2", "string", "string", "2", "zwei", 120)
			h.mustPipe("input2", "string", "string", "4", "vier", 120)
			expect(t, "matched", h.out("joined", "string", "string"), "1=one,eins", "2=two,zwei")
			// The join window has passed for the unmatched ones.
			h.mustPipe("input1", "string", "string", "5", "trois", 6000)
			expect(t, "unmatched", h.out("joined", "string", "string"), "3=three,?", "4=?,vier")
		})
	}
}

func TestUpstreamStreamTableJoin(t *testing.T) {
	h := corpusHarness(t, "test-joining.yaml")
	setting := func(city, typ, unit, above string) any {
		return jsonValue(t, fmt.Sprintf(`{"city":null,"alertSettings":[{"name":"%s alert","type":%q,"alertBelow":null,"alertAbove":%q,"unit":%q}]}`, city, typ, above, unit))
	}
	h.mustPipe("ksml_sensoralert_settings", "string", "avro:SensorAlertSettings", "Amsterdam", setting("Amsterdam", "HUMIDITY", "%", "50"), 1)
	h.mustPipe("ksml_sensoralert_settings", "string", "avro:SensorAlertSettings", "Utrecht", setting("Utrecht", "TEMPERATURE", "C", "25"), 2)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor1", sensor("city", "Amsterdam", "type", "HUMIDITY", "unit", "%", "value", "80"), 3)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor2", sensor("city", "Utrecht", "type", "TEMPERATURE", "unit", "C", "value", "26"), 4)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor3", sensor("city", "Utrecht", "type", "TEMPERATURE", "unit", "C", "value", "20"), 5)
	h.mustPipe("ksml_sensordata_avro", "string", sensorType, "sensor4", sensor("city", "Rotterdam", "type", "TEMPERATURE", "unit", "C", "value", "40"), 6)
	out := h.out("ksml_sensoralert", "json", "json")
	if len(out) != 2 {
		t.Fatalf("want 2 alerts, got %q", out)
	}
	expect(t, "alert", field(t, out, "alert"),
		`{"name":"Amsterdam alert","type":"HUMIDITY","alertBelow":null,"alertAbove":"50","unit":"%"}`,
		`{"name":"Utrecht alert","type":"TEMPERATURE","alertBelow":null,"alertAbove":"25","unit":"C"}`)
}

func tutorialJoin(t *testing.T, file string) *harness {
	return tutorialHarness(t, "joins/"+file)
}

func TestTutorialGlobalTableJoin(t *testing.T) {
	h := tutorialJoin(t, "processor-foreign-key-join.yaml")
	product := func(name, cat string, price float64) any {
		return jsonValue(t, fmt.Sprintf(`{"name":%q,"category":%q,"price":%v,"in_stock":true}`, name, cat, price))
	}
	order := func(id, product string, qty int) any {
		return jsonValue(t, fmt.Sprintf(`{"order_id":%q,"customer_id":"C","product_id":%q,"quantity":%d}`, id, product, qty))
	}
	h.mustPipe("product_catalog", "string", "json", "PROD001", product("Laptop", "Electronics", 999.99), 1)
	h.mustPipe("product_catalog", "string", "json", "PROD004", product("Backpack", "Accessories", 49.99), 1)
	h.mustPipe("new_orders", "string", "json", "ORD1", order("ORD1", "PROD001", 2), 2)
	h.mustPipe("new_orders", "string", "json", "ORD2", order("ORD2", "PROD999", 1), 3) // no product: inner join drops it
	h.mustPipe("new_orders", "string", "json", "ORD4", order("ORD4", "PROD004", 5), 4)
	out := h.out("orders_with_product_details", "string", "json")
	if g := h.res.Topology.GlobalTopics(); len(g) != 1 || g[0] != "product_catalog" {
		t.Errorf("global topics: %v", g)
	}
	price := 49.99
	expect(t, "totals", field(t, out, "total_price"), "1999.98", fmt.Sprint(5*price))
	expect(t, "products", field(t, out, "product_details"),
		`{"name":"Laptop","category":"Electronics","price":999.99,"in_stock":true}`,
		`{"name":"Backpack","category":"Accessories","price":49.99,"in_stock":true}`)
}

func TestTutorialStreamTableLeftJoin(t *testing.T) {
	h := tutorialJoin(t, "processor-stream-table-left-join.yaml")
	h.mustPipe("user_location_data", "string", "json", "user001",
		jsonValue(t, `{"user_id":"user001","country":"USA","city":"New York","timezone":"EST"}`), 1)
	h.mustPipe("user_activity_events", "string", "json", "user001",
		jsonValue(t, `{"activity_id":"a1","user_id":"user001","activity_type":"login","session_id":"s1"}`), 2)
	h.mustPipe("user_activity_events", "string", "json", "user004",
		jsonValue(t, `{"activity_id":"a2","user_id":"user004","activity_type":"page_view","session_id":"s4"}`), 3)
	out := h.out("activity_with_location", "string", "json")
	expect(t, "enriched", field(t, out, "enriched"), "true", "false")
	expect(t, "location", field(t, out, "location"),
		`{"country":"USA","city":"New York","timezone":"EST"}`,
		`{"country":"UNKNOWN","city":"UNKNOWN","timezone":"UTC"}`)
}

func TestTutorialCogroup(t *testing.T) {
	h := tutorialHarness(t, "aggregations/processor-cogroup.yaml")
	for i, amount := range []float64{10, 20, 30} {
		h.mustPipe("customer_orders", "string", "json", "bob", jsonValue(t, fmt.Sprintf(`{"order_id":"O%d","amount":%v}`, i, amount)), int64(i))
	}
	out := h.out("customer_totals", "string", "json")
	expect(t, "totals", out,
		`bob={"total_amount":10.0,"order_count":1,"customer":"bob"}`,
		`bob={"total_amount":30.0,"order_count":2,"customer":"bob"}`,
		`bob={"total_amount":60.0,"order_count":3,"customer":"bob"}`)
}

const twoStreams = `
streams:
  left:
    topic: left
    keyType: string
    valueType: string
  right:
    topic: right
    keyType: string
    valueType: string
  out:
    topic: out
    keyType: string
    valueType: string
pipelines:
  main:
    from: left
    via:
      - type: %s
        stream: right
        valueJoiner:
          expression: str(value1) + "+" + str(value2)
          resultType: string
        timeDifference: 10s
        grace: 5s
        thisStore:
          name: left_store
          type: window
          windowSize: 20s
          retention: 25s
          retainDuplicates: true
        otherStore:
          name: right_store
          type: window
          windowSize: 20s
          retention: 25s
          retainDuplicates: true
    to: out
`

func TestStreamStreamJoinWindows(t *testing.T) {
	run := func(kind string) *harness {
		h := yamlHarness(t, fmt.Sprintf(twoStreams, kind))
		h.mustPipe("left", "string", "string", "k", "L1", 10000)
		h.mustPipe("right", "string", "string", "k", "R1", 20000) // exactly timeDifference later: joins
		h.mustPipe("right", "string", "string", "k", "R2", 20001) // one ms outside L1's window
		h.mustPipe("left", "string", "string", "k", "L2", 25000)  // joins R1 and R2
		h.mustPipe("left", "string", "string", "x", "L3", 26000)  // no partner yet
		h.mustPipe("right", "string", "string", "x", "R3", 17000) // late but within L3's window: joins
		h.mustPipe("left", "string", "string", "y", "L4", 26000)
		h.mustPipe("right", "string", "string", "z", "R5", 41001) // closes L4's window (26000+10000+5000)
		return h
	}
	h := run("join")
	expect(t, "inner", h.out("out", "string", "string"), "k=L1+R1", "k=L2+R1", "k=L2+R2", "x=L3+R3")
	h = run("leftJoin")
	expect(t, "left", h.out("out", "string", "string"), "k=L1+R1", "k=L2+R1", "k=L2+R2", "x=L3+R3", "y=L4+None")
	h = run("outerJoin")
	// R2 at 20001 stays unmatched until L2 joins it; R5 waits for its window.
	expect(t, "outer", h.out("out", "string", "string"), "k=L1+R1", "k=L2+R1", "k=L2+R2", "x=L3+R3", "y=L4+None")
	h.mustPipe("left", "string", "string", "q", "L9", 60000)
	expect(t, "outer later", h.out("out", "string", "string"), "z=None+R5")
}

const twoTables = `
tables:
  users:
    topic: users
    keyType: string
    valueType: string
  scores:
    topic: scores
    keyType: string
    valueType: string
streams:
  out:
    topic: out
    keyType: string
    valueType: string
pipelines:
  main:
    from: users
    via:
      - type: %s
        table: scores
        valueJoiner:
          expression: str(value1) + "+" + str(value2)
          resultType: string
      - type: toStream
    to: out
`

func TestTableTableJoins(t *testing.T) {
	steps := func(h *harness) {
		h.mustPipe("users", "string", "string", "a", "alice", 1)
		h.mustPipe("scores", "string", "string", "a", "10", 2)
		h.mustPipe("scores", "string", "string", "b", "20", 3)
		h.mustPipe("users", "string", "string", "b", "bob", 4)
		h.mustPipe("users", "string", "string", "a", "ann", 5)
		h.mustPipe("scores", "string", "string", "a", nil, 6) // tombstone on the right
		h.mustPipe("users", "string", "string", "b", nil, 7)  // tombstone on the left
	}
	for kind, want := range map[string][]string{
		"join":      {"a=alice+10", "b=bob+20", "a=ann+10", "a=null", "b=null"},
		"leftJoin":  {"a=alice+None", "a=alice+10", "b=bob+20", "a=ann+10", "a=ann+None", "b=null"},
		"outerJoin": {"a=alice+None", "a=alice+10", "b=None+20", "b=bob+20", "a=ann+10", "a=ann+None", "b=None+20"},
	} {
		t.Run(kind, func(t *testing.T) {
			h := yamlHarness(t, fmt.Sprintf(twoTables, kind))
			steps(h)
			expect(t, kind, h.out("out", "string", "string"), want...)
		})
	}
}

func TestForeignKeyTableJoin(t *testing.T) {
	h := yamlHarness(t, `
tables:
  orders:
    topic: orders
    keyType: string
    valueType: json
  products:
    topic: products
    keyType: string
    valueType: string
streams:
  out:
    topic: out
    keyType: string
    valueType: string
pipelines:
  main:
    from: orders
    via:
      - type: join
        table: products
        foreignKeyExtractor:
          expression: value["product"]
          resultType: string
        valueJoiner:
          expression: value1["id"] + ":" + value2
          resultType: string
      - type: toStream
    to: out
`)
	h.mustPipe("products", "string", "string", "p1", "laptop", 1)
	h.mustPipe("orders", "string", "json", "o1", jsonValue(t, `{"id":"o1","product":"p1"}`), 2)
	h.mustPipe("orders", "string", "json", "o2", jsonValue(t, `{"id":"o2","product":"p2"}`), 3) // no product yet
	h.mustPipe("orders", "string", "json", "o3", jsonValue(t, `{"id":"o3","product":"p1"}`), 4)
	h.mustPipe("products", "string", "string", "p2", "phone", 5)
	h.mustPipe("products", "string", "string", "p1", "notebook", 6) // updates both orders of p1
	h.mustPipe("orders", "string", "json", "o1", nil, 7)
	// A new order whose product does not exist yet produces nothing (Kafka
	// Streams' PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE).
	expect(t, "fk join", h.out("out", "string", "string"),
		"o1=o1:laptop", "o3=o3:laptop", "o2=o2:phone", "o1=o1:notebook", "o3=o3:notebook", "o1=null")
	// Subscriptions and responses go through topics, so the tables need not
	// be co-partitioned.
	if n := len(h.drv.Output("app-test_pipelines_main_via_step1_join-subscription-registration-topic")); n != 4 {
		t.Errorf("subscription records: %d (topics %v)", n, h.drv.Topics())
	}
}

func TestForeignKeyTableLeftJoin(t *testing.T) {
	h := yamlHarness(t, `
tables:
  orders:
    topic: orders
    keyType: string
    valueType: json
  products:
    topic: products
    keyType: string
    valueType: string
streams:
  out:
    topic: out
    keyType: string
    valueType: string
pipelines:
  main:
    from: orders
    via:
      - type: leftJoin
        table: products
        foreignKeyExtractor:
          expression: value.get("product")
          resultType: string
        valueJoiner:
          expression: value1["id"] + ":" + str(value2)
          resultType: string
      - type: toStream
    to: out
`)
	h.mustPipe("products", "string", "string", "p1", "laptop", 1)
	h.mustPipe("orders", "string", "json", "o1", jsonValue(t, `{"id":"o1","product":"p1"}`), 2)
	h.mustPipe("orders", "string", "json", "o1", jsonValue(t, `{"id":"o1","product":"p2"}`), 3) // moves to p2
	h.mustPipe("products", "string", "string", "p1", "desk", 4)                                 // no subscriber left
	h.mustPipe("products", "string", "string", "p2", "phone", 5)
	h.mustPipe("orders", "string", "json", "o3", jsonValue(t, `{"id":"o3"}`), 6) // no foreign key
	// Moving o1 to p2 answers twice, as in Kafka Streams: once from the
	// old product (unsubscribed) and once from the new one (not there yet).
	expect(t, "fk left join", h.out("out", "string", "string"),
		"o1=o1:laptop", "o1=o1:None", "o1=o1:None", "o1=o1:phone", "o3=o3:None")
}

func TestGroupedTableAggregateWithSubtractor(t *testing.T) {
	h := yamlHarness(t, `
tables:
  people:
    topic: people
    keyType: string
    valueType: string
streams:
  out:
    topic: out
    keyType: string
    valueType: long
pipelines:
  main:
    from: people
    via:
      - type: groupBy
        mapper:
          expression: (value, 1)
          resultType: (string, long)
      - type: aggregate
        store:
          name: city_counts
          type: keyValue
        initializer:
          expression: 0
          resultType: long
        adder:
          expression: aggregatedValue + value
          resultType: long
        subtractor:
          expression: aggregatedValue - value
          resultType: long
      - type: toStream
    to: out
`)
	h.mustPipe("people", "string", "string", "ann", "Utrecht", 1)
	h.mustPipe("people", "string", "string", "bob", "Utrecht", 2)
	h.mustPipe("people", "string", "string", "ann", "Amsterdam", 3) // moves: subtract, then add
	h.mustPipe("people", "string", "string", "bob", nil, 4)         // deleted: subtract only
	expect(t, "counts per city", h.out("out", "string", "long"),
		"Utrecht=1", "Utrecht=2", "Utrecht=1", "Amsterdam=1", "Utrecht=0")
	if got := len(h.drv.Output("app-test_pipelines_main_via_step1_groupBy-repartition")); got != 5 {
		t.Errorf("repartitioned table updates: %d, topics %v", got, h.drv.Topics())
	}
}

func TestTutorialStreamStreamJoins(t *testing.T) {
	const m = 60000
	h := tutorialJoin(t, "processor-stream-stream-join-working.yaml")
	click := func(p string, ts int64) any {
		return jsonValue(t, fmt.Sprintf(`{"product_id":%q,"timestamp":%d}`, p, ts))
	}
	h.mustPipe("product_clicks", "string", "json", "u1", click("p1", 1000), 1000)
	h.mustPipe("product_purchases", "string", "json", "u1", click("p1", 1000+10*m), 1000+10*m)
	h.mustPipe("product_purchases", "string", "json", "u2", click("p2", 2000), 2000)
	h.mustPipe("product_purchases", "string", "json", "u1", click("p3", 1000+31*m), 1000+31*m) // 31 minutes after the click
	expect(t, "correlated", h.out("correlated_user_actions", "string", "json"),
		`u1={"click":{"product_id":"p1","timestamp":1000},"purchase":{"product_id":"p1","timestamp":601000},"converted":true,"conversion_time_ms":600000}`)

	h = tutorialJoin(t, "processor-stream-stream-outer-join.yaml")
	login := jsonValue(t, `{"user_id":"u1","device":"phone","login_time":1}`)
	logout := jsonValue(t, `{"user_id":"u2","session_duration":5,"logout_time":2}`)
	h.mustPipe("user_login_events", "string", "json", "u1", login, 1000)
	h.mustPipe("user_logout_events", "string", "json", "u2", logout, 2000)
	expect(t, "within the window", h.out("user_session_analysis", "string", "json"))
	// 10m difference + 2m grace later both unmatched records are emitted.
	h.mustPipe("user_login_events", "string", "json", "u3", login, 2001+12*m)
	out := h.out("user_session_analysis", "string", "json")
	expect(t, "unmatched", field(t, out, "session_type"), "LOGIN_ONLY", "LOGOUT_ONLY")
}

// A table changed by mapValues is materialized again before it is joined,
// so the join sees the changed values.
func TestJoinOfTransformedTable(t *testing.T) {
	h := yamlHarness(t, `
tables:
  users:
    topic: users
    keyType: string
    valueType: string
  scores:
    topic: scores
    keyType: string
    valueType: string
streams:
  out:
    topic: out
    keyType: string
    valueType: string
pipelines:
  main:
    from: users
    via:
      - type: mapValues
        mapper:
          expression: value.upper()
          resultType: string
      - type: join
        table: scores
        valueJoiner:
          expression: value1 + "+" + value2
          resultType: string
      - type: toStream
    to: out
`)
	h.mustPipe("users", "string", "string", "a", "alice", 1)
	h.mustPipe("scores", "string", "string", "a", "10", 2)
	h.mustPipe("users", "string", "string", "a", "ann", 3)
	expect(t, "joined", h.out("out", "string", "string"), "a=ALICE+10", "a=ANN+10")
}

// rekeyedJoins joins streams whose key was changed by selectKey: with a
// table, and with another re-keyed stream.
const rekeyedJoins = `
streams:
  orders:
    topic: orders
    keyType: string
    valueType: json
  payments:
    topic: payments
    keyType: string
    valueType: json
tables:
  customers:
    topic: customers
    keyType: string
    valueType: string
pipelines:
  with_table:
    from: orders
    via:
      - type: selectKey
        mapper:
          expression: value["customer"]
          resultType: string
      - type: join
        table: customers
        valueJoiner:
          expression: value1["id"] + "@" + value2
          resultType: string
    to:
      topic: order_customers
      keyType: string
      valueType: string
  with_stream:
    from: payments
    via:
      - type: selectKey
        mapper:
          expression: value["order"]
          resultType: string
      - type: join
        stream: orders
        valueJoiner:
          expression: str(value1["amount"]) + "/" + value2["customer"]
          resultType: string
        timeDifference: 1m
        grace: 1m
        thisStore:
          name: payments_store
          type: window
          windowSize: 2m
          retention: 3m
          retainDuplicates: true
        otherStore:
          name: orders_store
          type: window
          windowSize: 2m
          retention: 3m
          retainDuplicates: true
    to:
      topic: paid_orders
      keyType: string
      valueType: string
`

// TestJoinAfterKeyChangeRepartitions checks that a stream re-keyed before
// a join is written to a repartition topic and read back before joining, as
// Kafka Streams does: without it a record stays in the partition of its old
// key and, with several partitions, misses the table or stream records of
// its new key. The stream-table join reads the repartition topic in the
// sub-topology that holds the table; the stream-stream join repartitions
// only the re-keyed side.
func TestJoinAfterKeyChangeRepartitions(t *testing.T) {
	h := yamlHarness(t, rekeyedJoins)
	var internal []string
	for _, it := range h.res.Topology.InternalTopics() {
		if it.Kind == "repartition" {
			internal = append(internal, it.Name)
		}
	}
	expect(t, "repartition topics", internal,
		"app-test_pipelines_with_table_via_step2_join-repartition",
		"app-test_pipelines_with_stream_via_step2_join-left-repartition")
	sub, ok := h.res.Topology.SubTopologyFor("app-test_pipelines_with_table_via_step2_join-repartition")
	if !ok {
		t.Fatal("no sub-topology reads the stream-table join's repartition topic")
	}
	expect(t, "stream-table join sub-topology", sub.SourceTopics(), "app-test_pipelines_with_table_via_step2_join-repartition", "customers")

	h.mustPipe("customers", "string", "string", "c1", "Alice", 1)
	h.mustPipe("customers", "string", "string", "c2", "Bob", 2)
	h.mustPipe("orders", "string", "json", "o1", jsonValue(t, `{"id":"o1","customer":"c2"}`), 10)
	h.mustPipe("orders", "string", "json", "o2", jsonValue(t, `{"id":"o2","customer":"c3"}`), 11)
	h.mustPipe("orders", "string", "json", "o3", jsonValue(t, `{"id":"o3","customer":"c1"}`), 12)
	expect(t, "order_customers", h.out("order_customers", "string", "string"), "c2=o1@Bob", "c1=o3@Alice")
	h.mustPipe("payments", "string", "json", "p1", jsonValue(t, `{"order":"o3","amount":5}`), 20)
	h.mustPipe("payments", "string", "json", "p2", jsonValue(t, `{"order":"o9","amount":7}`), 21)
	expect(t, "paid_orders", h.out("paid_orders", "string", "string"), "o3=5/c1")
}

// TestToTableAfterKeyChangeRepartitions checks that toTable of a re-keyed
// stream repartitions first, as Kafka Streams does, so one key's table
// state lives in one task.
func TestToTableAfterKeyChangeRepartitions(t *testing.T) {
	h := yamlHarness(t, `
streams:
  orders:
    topic: orders
    keyType: string
    valueType: json
pipelines:
  latest:
    from: orders
    via:
      - type: selectKey
        mapper:
          expression: value["customer"]
          resultType: string
      - type: toTable
      - type: toStream
      - type: mapValues
        mapper:
          expression: value["id"]
          resultType: string
    to:
      topic: latest_order
      keyType: string
      valueType: string
`)
	var internal []string
	for _, it := range h.res.Topology.InternalTopics() {
		internal = append(internal, it.Kind+" "+it.Name)
	}
	expect(t, "internal topics", internal, "repartition app-test_pipelines_latest_via_step2_toTable-repartition", "changelog app-test_pipelines_latest_via_step2_toTable-store-changelog")
	h.mustPipe("orders", "string", "json", "o1", jsonValue(t, `{"id":"o1","customer":"c2"}`), 10)
	h.mustPipe("orders", "string", "json", "o2", jsonValue(t, `{"id":"o2","customer":"c2"}`), 11)
	expect(t, "latest_order", h.out("latest_order", "string", "string"), "c2=o1", "c2=o2")
}

// TestTopicReadAsStreamAndTable checks that a topic declared as a stream
// and as a table is a build error naming both kinds and the second use:
// Kafka Streams reads a topic through one source, and before the check
// the table silently took the stream's shape ("toStream needs a table, but
// is applied to a stream").
func TestTopicReadAsStreamAndTable(t *testing.T) {
	_, err := yamlBuild(t, `
streams:
  s:
    topic: shared
    keyType: string
    valueType: string
tables:
  t:
    topic: shared
    keyType: string
    valueType: string
pipelines:
  copy:
    from: s
    to:
      topic: s_out
  tab:
    from: t
    via:
      - type: toStream
    to:
      topic: t_out
`)
	if err == nil {
		t.Fatal("no error")
	}
	const want = `def.yaml:18:11: topic "shared" is read as a table here and as a stream elsewhere; a topic has one source: declare it once (toTable makes a table of a stream)`
	if !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("error:\n got %s\nwant suffix %s", err, want)
	}
}
