package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/streams"
)

// Ports of upstream's KSML*Test classes for stateless operations: the same
// definitions, inputs and expected outputs.

func TestUpstreamFlatMap(t *testing.T) {
	h := corpusHarness(t, "test-flatmap.yaml")
	h.mustPipe("input_topic", "string", "string", "someKey", "someValue", 1)
	expect(t, "output", h.out("output_topic", "string", "string"), "someKey=someValue", "someKey-b=someValue-b")
}

func TestUpstreamFlatMapValues(t *testing.T) {
	for file, want := range map[string][]string{
		"test-flatmapvalues-code.yaml":                      {"keyFirst=value1a", "keyFirst=value1b", "keyFirst=value1c"},
		"test-flatmapvalues-expression.yaml":                {"keyFirst=value1-1", "keyFirst=value1-2", "keyFirst=value1-3"},
		"test-transformkeyvaluetovaluelist-code.yaml":       {"keyFirst=value1a", "keyFirst=value1b", "keyFirst=value1c"},
		"test-transformkeyvaluetovaluelist-expression.yaml": {"keyFirst=value1-1", "keyFirst=value1-2", "keyFirst=value1-3"},
	} {
		h := corpusHarness(t, file)
		h.mustPipe("input_topic", "string", "string", "keyFirst", "value1", 1)
		expect(t, file, h.out("output_topic", "string", "string"), want...)
	}
}

func TestUpstreamTransformKeyValueToKeyValueList(t *testing.T) {
	h := corpusHarness(t, "test-transformkeyvaluetokeyvaluelist.yaml")
	h.mustPipe("input_topic", "string", "string", "somekey", "somevalue", 1)
	expect(t, "output", h.out("output_topic", "string", "string"), "somekey-a=somevalue-a", "somekey-b=somevalue-b")
}

func TestUpstreamMerge(t *testing.T) {
	h := corpusHarness(t, "test-merge.yaml")
	h.mustPipe("input1", "string", "string", "1", "one", 1)
	h.mustPipe("input1", "string", "string", "2", "two", 2)
	h.mustPipe("input2", "string", "string", "1", "eins", 3)
	h.mustPipe("input2", "string", "string", "2", "zwei", 4)
	expect(t, "merged", h.out("merged", "string", "string"), "1=one", "2=two", "1=eins", "2=zwei")
}

func TestUpstreamStreamPartitioner(t *testing.T) {
	h := corpusHarness(t, "test-stream-partitioner.yaml")
	for _, u := range [][2]string{{"A", "admin"}, {"B", "premium"}, {"C", "standard"}, {"D", "trial"}} {
		h.mustPipe("user_events", "string", "string", u[0], fmt.Sprintf(`{"user_id":%q,"user_type":%q}`, u[0], u[1]), 1)
	}
	var got []string
	for _, r := range h.drv.Output("partitioned_user_events") {
		got = append(got, fmt.Sprintf("%s@%d", r.Key, r.Partition))
	}
	expect(t, "partitions", got, "A@0", "B@1", "C@2", "D@3")
}

func TestUpstreamTupleListTypes(t *testing.T) {
	h := corpusHarness(t, "test-tuple-list-types.yaml")
	h.mustPipe("input_topic", "string", "string", "key1", "value1", 1)
	expect(t, "tuple", h.out("output_tuple_topic", "string", "string"), "tuple_key1=tuple_value1")
	expect(t, "list", h.out("output_list_topic", "string", "string"), "key1=key1_0_value1", "key1=key1_1_value1", "key1=key1_2_value1")
	expect(t, "list of tuples", h.out("output_list_of_tuples_topic", "string", "string"),
		"key1_tuple_0=value1_modified_0", "key1_tuple_1=value1_modified_1")
}

const jsonStreams = `
streams:
  in:
    topic: in
    keyType: string
    valueType: json
  out:
    topic: out
    keyType: string
    valueType: json
`

func TestFilterAndFilterNotWithNullsAndTombstones(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  keep:
    from: in
    via:
      - type: filter
        if:
          expression: value is not None and value.get("ok") == True
    to: out
  drop:
    from: in
    via:
      - type: filterNot
        if:
          expression: key is None
    to:
      topic: rest
      keyType: string
      valueType: json
`)
	h.mustPipe("in", "string", "json", "a", map[string]any{"ok": true}, 1)
	h.mustPipe("in", "string", "json", "b", map[string]any{"ok": false}, 2)
	h.mustPipe("in", "string", "json", "c", nil, 3) // tombstone
	h.mustPipe("in", "string", "json", nil, map[string]any{"ok": true}, 4)
	expect(t, "filter", h.out("out", "string", "json"), `a={"ok":true}`, `null={"ok":true}`)
	expect(t, "filterNot", h.out("rest", "string", "json"), `a={"ok":true}`, `b={"ok":false}`, `c=null`)
}

func TestMapOperations(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: mapKey
        mapper:
          expression: value["id"]
          resultType: string
      - type: map
        mapper:
          expression: '(key.upper(), {"id": key, "n": value["n"] * 2})'
          resultType: (string, json)
      - type: mapValues
        mapper:
          code: |
            if value["n"] > 10:
              return None
            value["small"] = True
            return value
          resultType: json
    to: out
`)
	h.mustPipe("in", "string", "json", "x", map[string]any{"id": "a", "n": 2}, 1)
	h.mustPipe("in", "string", "json", "y", map[string]any{"id": "b", "n": 20}, 2)
	expect(t, "out", h.out("out", "string", "json"), `A={"id":"a","n":4,"small":true}`, `B=null`)
}

func TestFlatMapEmptyAndNoneProduceNothing(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: flatMap
        mapper:
          code: |
            if value["n"] == 0:
              return []
            if value["n"] < 0:
              return None
            return [(key + str(i), {"i": i}) for i in range(value["n"])]
          resultType: "[(string, json)]"
    to: out
`)
	h.mustPipe("in", "string", "json", "z", map[string]any{"n": 0}, 1)
	h.mustPipe("in", "string", "json", "m", map[string]any{"n": -1}, 2)
	h.mustPipe("in", "string", "json", "k", map[string]any{"n": 2}, 3)
	expect(t, "out", h.out("out", "string", "json"), `k0={"i":0}`, `k1={"i":1}`)
}

func TestTransformMetadataRewritesTimestampAndHeaders(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: transformMetadata
        mapper:
          code: |
            metadata["timestamp"] = metadata["timestamp"] + 1000
            metadata["headers"] = metadata["headers"] + [{"key": "seen", "value": "yes"}]
            return metadata
    to: out
`)
	h.mustPipe("in", "string", "json", "k", map[string]any{"v": 1}, 5, streams.Header{Key: "origin", Value: []byte("test")})
	recs := h.drv.Output("out")
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	var hs []string
	for _, hd := range r.Headers {
		hs = append(hs, hd.Key+"="+string(hd.Value))
	}
	if r.Timestamp != 1005 || strings.Join(hs, ",") != "origin=test,seen=yes" || string(r.Value) != `{"v":1}` {
		t.Errorf("got ts %d headers %v value %s", r.Timestamp, hs, r.Value)
	}
}

func TestPeekForEachAndStores(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
stores:
  last_seen:
    type: keyValue
    keyType: string
    valueType: json
functions:
  remember:
    type: forEach
    stores: [last_seen]
    code: |
      previous = last_seen.get(key)
      count = previous["count"] + 1 if previous else 1
      last_seen.put(key, {"count": count, "value": value})
pipelines:
  p:
    from: in
    via:
      - type: peek
        forEach: remember
    forEach:
      code: |
        log.info("saw {}", key)
`)
	h.mustPipe("in", "string", "json", "a", map[string]any{"x": 1}, 1)
	h.mustPipe("in", "string", "json", "a", map[string]any{"x": 2}, 2)
	h.mustPipe("in", "string", "json", "b", map[string]any{"x": 3}, 3)
	st, ok := h.drv.Store("last_seen")
	if !ok {
		t.Fatal("store last_seen not found")
	}
	kv, err := h.res.Stores.KeyValue("last_seen").Typed(st)
	if err != nil {
		t.Fatal(err)
	}
	all, err := kv.All()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		got = append(got, Format(e.Key)+"="+Format(e.Value))
	}
	expect(t, "store", got, `a={"count":2,"value":{"x":2}}`, `b={"count":1,"value":{"x":3}}`)
}

func TestBranchNestedWithCatchAll(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    branch:
      - if:
          expression: value["kind"] == "a"
        branch:
          - if:
              expression: value["n"] > 5
            to:
              topic: big-a
              keyType: string
              valueType: json
          - to:
              topic: small-a
              keyType: string
              valueType: json
      - if:
          expression: value["kind"] == "b"
        via:
          - type: mapValues
            mapper:
              expression: '{"b": value["n"]}'
              resultType: json
        to: out
      - forEach:
          code: log.info("other {}", key)
`)
	for i, v := range []map[string]any{{"kind": "a", "n": 9}, {"kind": "a", "n": 1}, {"kind": "b", "n": 2}, {"kind": "c", "n": 3}} {
		h.mustPipe("in", "string", "json", fmt.Sprint("k", i), v, int64(i))
	}
	expect(t, "big-a", h.out("big-a", "string", "json"), `k0={"kind":"a","n":9}`)
	expect(t, "small-a", h.out("small-a", "string", "json"), `k1={"kind":"a","n":1}`)
	expect(t, "out", h.out("out", "string", "json"), `k2={"b":2}`)
}

func TestToTopicNameExtractorAndPrint(t *testing.T) {
	file := filepath.Join(t.TempDir(), "printed.txt")
	h := yamlHarness(t, jsonStreams+`
pipelines:
  route:
    from: in
    toTopicNameExtractor:
      topicNameExtractor:
        expression: '"route-" + value["to"] + "-" + recordContext["topic"]'
  show:
    from: in
    print:
      label: seen
  save:
    from: in
    print:
      filename: `+file+`
      mapper:
        expression: key + " -> " + value["to"]
`)
	h.mustPipe("in", "string", "json", "k1", map[string]any{"to": "x"}, 1)
	h.mustPipe("in", "string", "json", "k2", map[string]any{"to": "y"}, 2)
	expect(t, "route-x", h.out("route-x-in", "string", "json"), `k1={"to":"x"}`)
	expect(t, "route-y", h.out("route-y-in", "string", "json"), `k2={"to":"y"}`)
	expect(t, "stdout", strings.Split(strings.TrimSpace(h.stdout.String()), "\n"), `[seen]: k1, {"to": "x"}`, `[seen]: k2, {"to": "y"}`)
	h.drv.Close()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "file", strings.Split(strings.TrimSpace(string(b)), "\n"), `[test_pipelines_save_print]: k1 -> x`, `[test_pipelines_save_print]: k2 -> y`)
}

func TestConvertValueBetweenJSONAndString(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: convertValue
        into: string
      - type: mapValues
        mapper:
          expression: value + "!"
          resultType: string
    to:
      topic: text
      keyType: string
      valueType: string
  q:
    from:
      topic: text-in
      keyType: string
      valueType: string
    via:
      - type: convertValue
        into: json
    to: out
`)
	h.mustPipe("in", "string", "json", "k", map[string]any{"a": 1}, 1)
	expect(t, "text", h.out("text", "string", "string"), `k={"a":1}!`)
	h.mustPipe("text-in", "string", "string", "k", `{"b":[1,2]}`, 1)
	expect(t, "out", h.out("out", "string", "json"), `k={"b":[1,2]}`)
}

func TestRepartitionAndPipelineChaining(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  rekey:
    from: in
    via:
      - type: selectKey
        mapper:
          expression: value["user"]
          resultType: string
      - type: repartition
    as: by_user
  tag:
    from: by_user
    via:
      - type: mapValues
        mapper:
          expression: '{"user": key, "n": value["n"]}'
          resultType: json
  emit:
    from: tag
    to: out
`)
	if n := len(h.res.Topology.SubTopologies()); n != 2 {
		t.Errorf("sub-topologies: got %d want 2\n%s", n, h.res.Topology.Describe())
	}
	h.mustPipe("in", "string", "json", "r1", map[string]any{"user": "u1", "n": 1}, 1)
	h.mustPipe("in", "string", "json", "r2", map[string]any{"user": "u2", "n": 2}, 2)
	expect(t, "out", h.out("out", "string", "json"), `u1={"user":"u1","n":1}`, `u2={"user":"u2","n":2}`)
	topic := "app-test_pipelines_rekey_via_step2_repartition-repartition"
	if got := len(h.drv.Output(topic)); got != 2 {
		t.Errorf("repartition topic %s holds %d records, want 2 (topics: %v)", topic, got, h.drv.Topics())
	}
}

func TestTimestampExtractor(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: json
    timestampExtractor:
      expression: record["value"]["ts"] if record["value"]["ts"] > 0 else previousTimestamp
pipelines:
  p:
    from: in
    to:
      topic: out
      keyType: string
      valueType: json
`)
	h.mustPipe("in", "string", "json", "a", map[string]any{"ts": 500}, 1)
	h.mustPipe("in", "string", "json", "b", map[string]any{"ts": 0}, 2)
	var got []string
	for _, r := range h.drv.Output("out") {
		got = append(got, fmt.Sprintf("%s@%d", r.Key, r.Timestamp))
	}
	expect(t, "timestamps", got, "a@500", "b@500")
}

func TestFunctionErrorNamesTheNode(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: mapValues
        mapper:
          expression: value["missing"]
          resultType: json
    to: out
`)
	err := h.pipe("in", "string", "json", "k", map[string]any{"a": 1}, 1)
	if err == nil || !strings.Contains(err.Error(), "test_pipelines_p_via_step1_transformValue: ") || !strings.Contains(err.Error(), "KeyError") {
		t.Fatalf("got %v", err)
	}
	h.mustPipe("in", "string", "json", "k", map[string]any{"missing": map[string]any{"x": 2}}, 2)
	expect(t, "out", h.out("out", "string", "json"), `k={"x":2}`)
}

func TestBranchResultUsedByLaterPipeline(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  split:
    from: in
    branch:
      - if:
          expression: value["n"] > 1
        as: big
      - to: out
  big_ones:
    from: big
    to:
      topic: big
      keyType: string
      valueType: json
`)
	h.mustPipe("in", "string", "json", "a", map[string]any{"n": 1}, 1)
	h.mustPipe("in", "string", "json", "b", map[string]any{"n": 2}, 2)
	expect(t, "out", h.out("out", "string", "json"), `a={"n":1}`)
	expect(t, "big", h.out("big", "string", "json"), `b={"n":2}`)
}

func TestConvertKeyValueAndRepartitionWithPartitioner(t *testing.T) {
	h := yamlHarness(t, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: convertKeyValue
        into: (json, string)
      - type: repartition
        numberOfPartitions: 4
        partitioner:
          expression: 3 if value.startswith('{"big"') else 1
    to:
      topic: converted
      keyType: json
      valueType: string
`)
	h.mustPipe("in", "string", "json", `{"id":1}`, map[string]any{"big": true}, 1)
	h.mustPipe("in", "string", "json", `[2]`, map[string]any{"small": true}, 2)
	expect(t, "converted", h.out("converted", "json", "string"), `{"id":1}={"big":true}`, `[2]={"small":true}`)
	var parts []string
	for _, r := range h.drv.Output("app-test_pipelines_p_via_step2_repartition-repartition") {
		parts = append(parts, fmt.Sprint(r.Partition))
	}
	expect(t, "repartition partitions", parts, "3", "1")
	its := h.res.Topology.InternalTopics()
	if len(its) != 1 || its[0].Partitions != 4 || its[0].Kind != "repartition" {
		t.Errorf("internal topics: %+v", its)
	}
}

func TestFlatMapValuesNoneAndOffsetReset(t *testing.T) {
	h := yamlHarness(t, `
streams:
  in:
    topic: in
    keyType: string
    valueType: string
    offsetResetPolicy: latest
pipelines:
  p:
    from: in
    via:
      - type: flatMapValues
        mapper:
          expression: None if value == "none" else value.split(",")
          resultType: "[string]"
    to:
      topic: out
      keyType: string
      valueType: string
`)
	h.mustPipe("in", "string", "string", "k", "none", 1)
	h.mustPipe("in", "string", "string", "k", "a,b", 2)
	expect(t, "out", h.out("out", "string", "string"), "k=a", "k=b")
	n, _ := h.res.Topology.Node("in")
	if n.Source.OffsetReset.Policy != "latest" {
		t.Errorf("offset reset: %+v", n.Source.OffsetReset)
	}
}
