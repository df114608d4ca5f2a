package definition_test

import (
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/sharedtest"
)

func loadValid(t *testing.T, path string, dirs ...string) *definition.Definition {
	t.Helper()
	def, err := definition.Load(path, definition.Options{SchemaDirs: dirs, Code: pythonChecker()})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return def
}

func TestFullDefinitionModel(t *testing.T) {
	def := loadValid(t, "testdata/valid/full.yaml")
	if def.Dialect != definition.DialectKSML || def.Name != "full" || def.Version != "1.0" || def.Namespace != "full" {
		t.Errorf("header: dialect %v name %q version %q namespace %q", def.Dialect, def.Name, def.Version, def.Namespace)
	}
	if len(def.Streams) != 2 || len(def.Tables) != 1 || len(def.GlobalTables) != 1 || len(def.Stores) != 2 || len(def.Functions) != 3 {
		t.Fatalf("sections: %d streams %d tables %d globalTables %d stores %d functions",
			len(def.Streams), len(def.Tables), len(def.GlobalTables), len(def.Stores), len(def.Functions))
	}

	orders := def.Topic("orders")
	if orders.OffsetResetPolicy == nil || orders.OffsetResetPolicy.Policy != "by_duration" || orders.OffsetResetPolicy.Duration != time.Hour {
		t.Errorf("offsetResetPolicy = %+v", orders.OffsetResetPolicy)
	}
	ts := orders.TimestampExtractor
	if ts == nil || !ts.Inline || ts.Def.Name != "streams_orders_timestampExtractor" || ts.Def.Type != definition.FuncTimestampExtractor {
		t.Errorf("timestampExtractor = %+v", ts)
	}
	if p := def.Topic("audit").Partitioner; p == nil || p.Def != def.Function("pick_partition") {
		t.Errorf("audit partitioner not resolved: %+v", p)
	}
	if s := def.Topic("customers").Store; s == nil || s.Def.Name != "customer_store" || !s.Def.Persistent || s.Def.Type != definition.StoreKeyValue {
		t.Errorf("table store = %+v", s)
	}
	if w := def.Store("windows"); w.WindowSize != 10*time.Minute || w.Retention != time.Hour || !w.RetainDuplicates || w.Type != definition.StoreWindow {
		t.Errorf("window store = %+v", w)
	}
	if !def.Store("seen").Logging {
		t.Error("seen store: logging not set")
	}

	isBig := def.Function("is_big")
	if len(isBig.Parameters) != 1 || isBig.Parameters[0].Name != "limit" || isBig.Parameters[0].Type.Text != "int" || *isBig.Parameters[0].DefaultValue != "10" {
		t.Errorf("parameters = %+v", isBig.Parameters)
	}
	if isBig.Code == nil || isBig.Code.Pos.Line != 55 || isBig.Code.Pos.Col != 7 || isBig.Code.Text != "size = value.get(\"size\", 0)\nreturn size > limit\n" {
		t.Errorf("code = %+v", isBig.Code)
	}
	if len(isBig.Stores) != 1 || isBig.Stores[0].Def != def.Store("seen") {
		t.Errorf("function stores = %+v", isBig.Stores)
	}
	if h := def.Function("helpers"); h.Type != definition.FuncGeneric || h.GlobalCode == nil || h.GlobalCode.Pos.Line != 61 {
		t.Errorf("generic function = %+v", h)
	}

	if len(def.Pipelines) != 2 {
		t.Fatalf("%d pipelines", len(def.Pipelines))
	}
	if n := len(def.AllFunctions()); n != 3+len(def.InlineFunctions) || def.AllFunctions()[0] != def.Function("pick_partition") {
		t.Errorf("AllFunctions: %d", n)
	}
	main := def.Pipelines[0]
	if main.From.Def != orders || len(main.Via) != 3 || main.Sink.Type != definition.SinkAs || main.Sink.As != "enriched" || main.Sink.Implicit {
		t.Fatalf("main = %+v sink %+v", main, main.Sink)
	}
	filter := main.Via[0]
	if filter.Type != definition.OpFilter || filter.If.Def != isBig || filter.DerivedName != "pipelines_main_via_step1_filter" || filter.Pos.Line != 66 {
		t.Errorf("filter = %+v", filter)
	}
	mv := main.Via[1]
	if mv.Type != definition.OpTransformValue || mv.Keyword != "mapValues" || mv.Name != "enrich" ||
		mv.Mapper.Def.Name != "pipelines_main_via_step2_mapper" || mv.Mapper.Def.Type != definition.FuncValueTransformer ||
		mv.Mapper.Def.Expression.Text != "value" || mv.Mapper.Def.Expression.Pos.Line != 73 || mv.Mapper.Def.Expression.Pos.Col != 23 {
		t.Errorf("mapValues = %+v mapper %+v", mv, mv.Mapper.Def)
	}
	join := main.Via[2]
	if join.Type != definition.OpJoin || join.JoinKind != definition.JoinTable || join.Target.Def != def.Topic("customers") || join.ValueJoiner.Def.Type != definition.FuncValueJoiner {
		t.Errorf("join = %+v", join)
	}
	if def.PipelineResult("enriched") != main {
		t.Error("enriched not registered")
	}

	counted := def.Pipelines[1]
	if counted.From.Pipeline != main {
		t.Errorf("counted.from = %+v", counted.From)
	}
	win := counted.Via[1]
	if win.WindowType != "hopping" || win.Duration != 5*time.Minute || win.AdvanceBy != time.Minute || win.Grace != 30*time.Second {
		t.Errorf("window = %+v", win)
	}
	if r := counted.Via[2].Result; r.Kind != definition.FlowTable || r.Key.Text != "windowed(string)" || r.Value.Text != "long" {
		t.Errorf("count result = %v key %q value %q", r.Kind, r.Key.Text, r.Value.Text)
	}
	if r := counted.Via[1].Result; r.Kind != definition.FlowTimeWindowed {
		t.Errorf("windowByTime result = %v", r.Kind)
	}
	if in := counted.Sink.Input; in.Kind != definition.FlowStream || in.Key.Text != "json:windowed(string)" || in.Value.Text != "long" {
		t.Errorf("branch input = %v key %q value %q", in.Kind, in.Key.Text, in.Value.Text)
	}
	if src := main.Source; src.Kind != definition.FlowStream || src.Key.Text != "string" || src.Value.Text != "json" {
		t.Errorf("main source = %+v", src)
	}
	if counted.Via[4].Into.Text != "json:windowed(string)" {
		t.Errorf("convertKey into = %q", counted.Via[4].Into.Text)
	}
	br := counted.Sink
	if br.Type != definition.SinkBranch || len(br.Branches) != 2 {
		t.Fatalf("branch sink = %+v", br)
	}
	if b := br.Branches[0]; b.If == nil || b.If.Def.Name != "pipelines_counted_branch_branch1_if" || b.Sink.Type != definition.SinkTo || b.Sink.To.Def != def.Topic("audit") {
		t.Errorf("branch 1 = %+v", b)
	}
	if b := br.Branches[1]; b.If != nil || len(b.Via) != 1 || b.Via[0].ForEach.Def.Name != "pipelines_counted_branch_branch2_via_step1_forEach" || b.Sink.Type != definition.SinkForEach {
		t.Errorf("branch 2 = %+v", b)
	}

	gen := def.Producers[0]
	if gen.Name != "gen" || gen.Generator.Def.Type != definition.FuncGenerator || gen.To.Def != orders ||
		gen.Interval != 2*time.Second || gen.Count != 5 || gen.BatchSize != 2 {
		t.Errorf("producer = %+v", gen)
	}
}

func TestSeedBranchTranslation(t *testing.T) {
	def := loadValid(t, sharedtest.Path(t, "acceptance/seed/definitions/event-sourcing.yaml"))
	if def.Dialect != definition.DialectSeed || len(def.Pipelines) != 1 || len(def.Streams) != 1 {
		t.Fatalf("dialect %v, %d pipelines, %d streams", def.Dialect, len(def.Pipelines), len(def.Streams))
	}
	pl := def.Pipelines[0]
	in := def.Topic("domain-events")
	if pl.From.Def != in || in.Topic != "domain-events" || in.KeyType.Text != "string" || in.ValueType.Text != "json" {
		t.Errorf("input = %+v", in)
	}
	if pl.Sink.Type != definition.SinkBranch || len(pl.Sink.Branches) != 3 {
		t.Fatalf("sink = %+v", pl.Sink)
	}
	for i, topic := range []string{"user-events", "order-events", "payment-events"} {
		b := pl.Sink.Branches[i]
		if b.If == nil || b.If.Def.Type != definition.FuncPredicate || b.Sink.To.Def.Topic != topic {
			t.Errorf("branch %d = %+v", i, b)
		}
	}
}

func TestSeedInputsOutputsAndConfiguration(t *testing.T) {
	def := loadValid(t, "testdata/valid/seed-fan.yaml", sharedtest.Path(t, "acceptance/seed/schemas"))
	if def.Configuration == nil || def.Configuration.Properties["service.discovery.url"] != "http://registry:8500" ||
		def.Configuration.Metrics == nil || !def.Configuration.Metrics.Enabled || def.Configuration.Metrics.Tags["team"] != "platform" {
		t.Fatalf("configuration = %+v", def.Configuration)
	}
	orders := def.Topic("orders")
	if orders.ValueType.Text != "avro:Order" || orders.SchemaRegistry != "http://schema-registry:8081" {
		t.Errorf("orders = %+v", orders)
	}
	// One pipeline that merges and registers its result, plus one per output.
	if len(def.Pipelines) != 3 {
		t.Fatalf("%d pipelines", len(def.Pipelines))
	}
	main := def.Pipelines[0]
	if main.From.Def != orders || main.Via[0].Type != definition.OpMerge || main.Via[0].Target.Def != def.Topic("returns") {
		t.Errorf("merge = %+v", main.Via)
	}
	if f := main.Via[1]; f.Type != definition.OpFilter || f.If == nil || f.If.Def.Expression.Text != "value is not None" {
		t.Errorf("filter = %+v", f)
	}
	if main.Sink.Type != definition.SinkAs || main.Sink.As != "fan" {
		t.Errorf("sink = %+v", main.Sink)
	}
	for i, topic := range []string{"copy-a", "copy-b"} {
		fan := def.Pipelines[i+1]
		if fan.From.Pipeline != main || fan.Sink.Type != definition.SinkTo || fan.Sink.To.Def.Topic != topic {
			t.Errorf("fan-out %d = %+v", i, fan)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"100": 100 * time.Millisecond, "5s": 5 * time.Second, " 2M ": 2 * time.Minute, "1h": time.Hour,
		"3d": 72 * time.Hour, "1w": 7 * 24 * time.Hour, "250ms": 250 * time.Millisecond, "0": 0,
		"-1s": -time.Second, "+2s": 2 * time.Second,
	} {
		got, err := definition.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "1.5s", "5 minutes", "1y", "99999999999999999999", "1 000ms"} {
		if _, err := definition.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

func TestOperationKeywords(t *testing.T) {
	if got := len(definition.OpKeywords()); got != 35 {
		t.Errorf("%d operation keywords, want 35", got)
	}
}

func TestSignatures(t *testing.T) {
	def := loadValid(t, "testdata/valid/full.yaml")
	if got := def.Function("is_big").AllParams(); len(got) != 3 || got[0] != "key" || got[1] != "value" || got[2] != "limit" {
		t.Errorf("is_big params = %v", got)
	}
	if got := definition.FuncStreamPartitioner.Signature().Params; len(got) != 4 || got[3] != "numPartitions" {
		t.Errorf("streamPartitioner params = %v", got)
	}
	if s := definition.FuncAggregator.Signature(); s.DefaultExpression != "aggregatedValue" || !s.ResultRequired {
		t.Errorf("aggregator signature = %+v", s)
	}
	if !definition.FuncForEach.Signature().NoResult {
		t.Error("forEach must return nothing")
	}
}

func TestInlineStoreNames(t *testing.T) {
	src := []byte(`
tables:
  t:
    topic: table-topic
    keyType: string
    valueType: json
    store:
      type: keyValue
      persistent: true
streams:
  s:
    topic: s
    keyType: string
    valueType: json
pipelines:
  p:
    from: s
    via:
      - type: groupByKey
      - type: count
        store:
          type: keyValue
      - type: toStream
    to:
      topic: counts
      valueType: long
`)
	def, err := definition.Parse("stores.yaml", src, definition.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := def.Topic("t").Store; s.Name != "table-topic" || s.Def.Name != "table-topic" || !s.Inline {
		t.Errorf("table store = %+v", s)
	}
	if s := def.Pipelines[0].Via[1].Store; s.Def.Name != "pipelines_p_via_step2_store" || s.Def.Type != definition.StoreKeyValue {
		t.Errorf("count store = %+v", s.Def)
	}
	if len(def.InlineStores) != 2 || len(def.AllStores()) != 2 {
		t.Errorf("%d inline stores", len(def.InlineStores))
	}
}

func TestCodeScalars(t *testing.T) {
	src := []byte(`
functions:
  always:
    type: predicate
    expression: true
  pair:
    type: keyValueToValueListTransformer
    expression: [key, value]
    resultType: "[string]"
  quoted:
    type: valueTransformer
    expression: "value['a']"
    resultType: json
  folded:
    type: forEach
    code: >
      log.info("one")
`)
	def, err := definition.Parse("code.yaml", src, definition.Options{Code: pythonChecker()})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"always": "True", "pair": "[key,value]", "quoted": "value['a']"} {
		if got := def.Function(name).Expression.Text; got != want {
			t.Errorf("%s expression = %q, want %q", name, got, want)
		}
	}
	if p := def.Function("quoted").Expression.Pos; p.Line != 12 || p.Col != 18 {
		t.Errorf("quoted expression at %v, want line 12 col 18", p)
	}
	if c := def.Function("folded").Code; c.Pos.Line != 17 || c.Pos.Col != 7 {
		t.Errorf("folded code at %v, want 17:7", c.Pos)
	}
}

func TestBranchResultsFeedLaterPipelines(t *testing.T) {
	src := []byte(`
streams:
  s: {topic: s, keyType: string, valueType: json}
pipelines:
  split:
    from: s
    branch:
      - if: {expression: value is None}
        as: empty
      - toTopicNameExtractor:
          topicNameExtractor: {expression: "'t-' + key"}
  later:
    from: empty
    print:
      label: empty
      mapper: {expression: "str(key)"}
`)
	def, err := definition.Parse("branch.yaml", src, definition.Options{Code: pythonChecker()})
	if err != nil {
		t.Fatal(err)
	}
	b := def.BranchResult("empty")
	if b == nil || def.Pipelines[0].Sink.Branches[0] != b {
		t.Fatalf("branch result not registered: %+v", b)
	}
	later := def.Pipelines[1]
	if later.From.Branch != b || later.Sink.Type != definition.SinkPrint || later.Sink.Print.Label != "empty" ||
		later.Sink.Print.Mapper.Def.Type != definition.FuncKeyValuePrinter || later.Sink.Print.Mapper.Def.Name != "pipelines_later_print_mapper" {
		t.Errorf("later = %+v sink %+v", later, later.Sink)
	}
	tne := def.Pipelines[0].Sink.Branches[1].Sink
	if tne.Type != definition.SinkToTopicNameExtract || tne.TopicNameExtractor.Def.Type != definition.FuncTopicNameExtractor ||
		tne.DerivedName != "pipelines_split_branch_branch2_toTopicNameExtractor" {
		t.Errorf("toTopicNameExtractor = %+v", tne)
	}
}

func TestPythonErrorPositionAfterBlankLines(t *testing.T) {
	src := []byte("functions:\n  f:\n    type: forEach\n    code: |\n\n      x = 1\n      y = (\n")
	_, err := definition.Parse("blank.yaml", src, definition.Options{Code: pythonChecker()})
	ds, ok := err.(definition.Diagnostics)
	if !ok || len(ds) != 1 {
		t.Fatalf("got %v", err)
	}
	if ds[0].Pos.Line != 7 || ds[0].Pos.Col != 11 {
		t.Errorf("error at %v, want line 7 col 11: %s", ds[0].Pos, ds[0].Msg)
	}
}

func TestConvertKeyValueNeedsTuple(t *testing.T) {
	src := []byte("streams:\n  s: {topic: s, keyType: string, valueType: json}\npipelines:\n  p:\n    from: s\n    via:\n      - type: convertKeyValue\n        into: json\n    to: s\n")
	_, err := definition.Parse("ckv.yaml", src, definition.Options{})
	want := "ckv.yaml:8:15: into of convertKeyValue must be a (key, value) tuple type such as (string, json), not \"json\""
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
