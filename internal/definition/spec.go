package definition

import (
	"sort"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// The grammar of definition files as data: yamlspec specs, like the runner
// configuration's. The parser checks keys against them (unknown keys,
// missing required fields, enums) and `ksml schema` renders them through
// yamlspec's generator (with fieldSchema for ext), so the accepted language
// and its published schema cannot drift apart.

// ext is what a definition field holds beyond yamlspec's kinds: the
// parser reads it (which function type a reference must have) and the
// schema hook renders it (see fieldSchema).
type ext struct {
	kind  extKind
	fn    FunctionType // xFunction
	store StoreType    // xStore ("" = any)
}

type extKind int

const (
	xType           extKind = iota + 1 // a KSML type string (Kind String)
	xCode                              // Python source (string, bool/number scalar or list of lines)
	xFunction                          // function name or inline function of ext.fn, or Field.Object
	xStore                             // store name or inline store of ext.store
	xTopic                             // stream/table/globalTable name or inline topic (Field.Object)
	xOperations                        // via: a list of operations
	xSeedOperations                    // operations of the list dialect
	xStoreDefs                         // stores: named store definitions of any type
	xFunctionDefs                      // functions: named function definitions of any type
)

// extOf returns f's definition-specific description (zero when it has
// none).
func extOf(f *yamlspec.Field) ext {
	x, _ := f.Ext.(ext)
	return x
}

// objectsOf is the element of a list or map of spec objects.
func objectsOf(spec *yamlspec.Spec) *yamlspec.Field {
	return &yamlspec.Field{Kind: yamlspec.Object, Object: spec}
}

func fnField(name string, t FunctionType, required bool, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Any, Ext: ext{kind: xFunction, fn: t}, Required: required, Doc: doc}
}

func storeField(name string, t StoreType, required bool, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Any, Ext: ext{kind: xStore, store: t}, Required: required, Doc: doc}
}

func typeField(name string, required bool, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.String, Ext: ext{kind: xType}, Required: required, Doc: doc}
}

func codeField(name, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Any, Ext: ext{kind: xCode}, Doc: doc}
}

func topicField(name string, spec *yamlspec.Spec, required bool, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Any, Object: spec, Ext: ext{kind: xTopic}, Required: required, Doc: doc}
}

func durField(name string, required bool, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Duration, Required: required, Doc: doc}
}

var opNameField = yamlspec.Field{Name: "name", Kind: yamlspec.String, Doc: "The name of the operation processor"}

// allFunctionTypes lists the 21 function types in a stable order.
var allFunctionTypes = []FunctionType{
	FuncAggregator, FuncForEach, FuncForeignKeyExtractor, FuncGenerator, FuncGeneric, FuncInitializer,
	FuncKeyTransformer, FuncKeyValueMapper, FuncKeyValuePrinter, FuncKeyValueToKeyValueListTransformer,
	FuncKeyValueToValueListTransformer, FuncKeyValueTransformer, FuncMerger, FuncMetadataTransformer,
	FuncPredicate, FuncReducer, FuncStreamPartitioner, FuncTimestampExtractor, FuncTopicNameExtractor,
	FuncValueJoiner, FuncValueTransformer,
}

// storeCapable are the function types that may declare stores:.
var storeCapable = map[FunctionType]bool{
	FuncForEach: true, FuncKeyTransformer: true, FuncKeyValueTransformer: true,
	FuncKeyValueToKeyValueListTransformer: true, FuncKeyValueToValueListTransformer: true,
	FuncMetadataTransformer: true, FuncPredicate: true, FuncValueTransformer: true,
}

var paramSpec = &yamlspec.Spec{Name: "ParameterDefinition", Doc: "A parameter of a function", Fields: []yamlspec.Field{
	{Name: "name", Kind: yamlspec.String, Required: true, Doc: "The name of the parameter"},
	typeField("type", true, "The type of the parameter"),
	{Name: "defaultValue", Kind: yamlspec.String, Doc: "The default value of the parameter"},
}}

// functionSpec returns the fields of a function of type t; withType adds
// the `type` key (named functions in functions:).
func functionSpec(t FunctionType, withType bool) *yamlspec.Spec {
	s := &yamlspec.Spec{Name: string(t) + "Function", Doc: "A " + string(t) + " function"}
	if withType {
		s.Name = string(t) + "FunctionDefinition"
		s.Fields = append(s.Fields, yamlspec.Field{Name: "type", Kind: yamlspec.Enum, Enum: []string{string(t)}, Required: t != FuncGeneric, Doc: "The type of the function"})
	}
	s.Fields = append(s.Fields,
		yamlspec.Field{Name: "name", Kind: yamlspec.String, Doc: "The name of the function"},
		yamlspec.Field{Name: "parameters", Kind: yamlspec.List, Elem: objectsOf(paramSpec), Doc: "Extra parameters, appended after the built-in ones"},
		codeField("globalCode", "Module-level Python code, run once"),
		codeField("code", "The function body (Python); may return"),
		codeField("expression", "The Python expression whose value is returned"),
		typeField("resultType", false, "The type of the returned value"),
	)
	if storeCapable[t] {
		s.Fields = append(s.Fields, yamlspec.Field{Name: "stores", Kind: yamlspec.List, Elem: &yamlspec.Field{Kind: yamlspec.String}, Doc: "Names of the state stores the function uses"})
	}
	return s
}

func storeSpec(t StoreType, withKV bool) *yamlspec.Spec {
	s := &yamlspec.Spec{Name: string(t) + "StoreDefinition", Doc: "A " + string(t) + " state store"}
	s.Fields = []yamlspec.Field{
		{Name: "type", Kind: yamlspec.Enum, Enum: []string{string(t)}, Required: true, Doc: "The type of the state store"},
		{Name: "name", Kind: yamlspec.String, Doc: "The name of the state store"},
	}
	if withKV {
		req := t != StoreKeyValue
		s.Fields = append(s.Fields,
			typeField("keyType", req, "The key type"),
			typeField("valueType", req, "The value type"))
	}
	s.Fields = append(s.Fields,
		yamlspec.Field{Name: "persistent", Kind: yamlspec.Bool, Doc: "Persistent (on disk) instead of in memory"},
		yamlspec.Field{Name: "caching", Kind: yamlspec.Bool, Doc: "Cache writes"},
		yamlspec.Field{Name: "logging", Kind: yamlspec.Bool, Doc: "Keep a changelog topic"},
		yamlspec.Field{Name: "timestamped", Kind: yamlspec.Bool, Doc: "Store timestamps with values"})
	switch t {
	case StoreKeyValue:
		s.Fields = append(s.Fields,
			yamlspec.Field{Name: "versioned", Kind: yamlspec.Bool, Doc: "Keep a history of values (persistent stores only)"},
			durField("historyRetention", false, "How long versioned history is kept"),
			durField("segmentInterval", false, "Segment size of versioned stores"))
	case StoreWindow:
		s.Fields = append(s.Fields,
			durField("windowSize", false, "The size of the windows"),
			durField("retention", false, "How long windows are kept"),
			yamlspec.Field{Name: "retainDuplicates", Kind: yamlspec.Bool, Doc: "Keep duplicate keys (stream-stream joins)"})
	case StoreSession:
		s.Fields = append(s.Fields, durField("retention", false, "How long sessions are kept"))
	}
	return s
}

var (
	storeSpecs = map[StoreType]*yamlspec.Spec{
		StoreKeyValue: storeSpec(StoreKeyValue, true),
		StoreWindow:   storeSpec(StoreWindow, true),
		StoreSession:  storeSpec(StoreSession, true),
	}
	inlineStoreSpecs = map[StoreType]*yamlspec.Spec{
		StoreKeyValue: storeSpec(StoreKeyValue, false),
		StoreWindow:   storeSpec(StoreWindow, false),
		StoreSession:  storeSpec(StoreSession, false),
	}
)

func init() {
	for t, s := range inlineStoreSpecs {
		s.Name = string(t) + "StoreDefinitionInline"
		// Inline stores may still name their key and value types.
		s.Fields = append(s.Fields,
			typeField("keyType", false, "The key type (default: the stream's)"),
			typeField("valueType", false, "The value type (default: the stream's)"))
	}
}

var offsetResetDoc = "earliest, latest, none or by_duration:<duration>"

func topicSpec(name string, kind TopicKind) *yamlspec.Spec {
	s := &yamlspec.Spec{Name: name, Doc: "A " + kind.String() + " on a Kafka topic"}
	s.Fields = []yamlspec.Field{
		{Name: "topic", Kind: yamlspec.String, Required: true, Doc: "The Kafka topic"},
		typeField("keyType", kind == KindStream, "The key type"),
		typeField("valueType", kind == KindStream, "The value type"),
		{Name: "offsetResetPolicy", Kind: yamlspec.String, Doc: offsetResetDoc},
		fnField("timestampExtractor", FuncTimestampExtractor, false, "Extracts record timestamps"),
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions when writing"),
	}
	if kind != KindStream {
		s.Fields = append(s.Fields, storeField("store", StoreKeyValue, false, "The store that holds the table"))
	}
	return s
}

var (
	streamSpec      = topicSpec("StreamDefinition", KindStream)
	tableSpec       = topicSpec("TableDefinition", KindTable)
	globalTableSpec = topicSpec("GlobalTableDefinition", KindGlobalTable)
	sourceSpec      = topicSpec("TopicDefinitionSource", KindStream)
	toTopicSpec     = &yamlspec.Spec{Name: "ToTopicDefinition", Doc: "A topic to write to", Fields: []yamlspec.Field{
		{Name: "topic", Kind: yamlspec.String, Required: true, Doc: "The Kafka topic"},
		typeField("keyType", false, "The key type (default: the stream's)"),
		typeField("valueType", false, "The value type (default: the stream's)"),
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions when writing"),
	}}
	streamTargetSpec = &yamlspec.Spec{Name: "StreamDefinitionAsJoinTarget", Doc: "An inline stream", Fields: []yamlspec.Field{
		{Name: "topic", Kind: yamlspec.String, Required: true, Doc: "The Kafka topic"},
		typeField("keyType", false, "The key type"),
		typeField("valueType", false, "The value type"),
		{Name: "offsetResetPolicy", Kind: yamlspec.String, Doc: offsetResetDoc},
		fnField("timestampExtractor", FuncTimestampExtractor, false, "Extracts record timestamps"),
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions when writing"),
	}}
	tableTargetSpec = &yamlspec.Spec{Name: "TableDefinitionAsJoinTarget", Doc: "An inline table", Fields: append(append([]yamlspec.Field{}, streamTargetSpec.Fields...),
		storeField("store", StoreKeyValue, false, "The store that holds the table"))}
	globalTableTargetSpec = &yamlspec.Spec{Name: "GlobalTableDefinitionAsJoinTarget", Doc: "An inline globalTable", Fields: tableTargetSpec.Fields}
)

// opSpecs maps each canonical operation type to its fields.
var opSpecs = map[OpType]*yamlspec.Spec{}

// opKeywords maps every accepted via `type:` keyword (35, with aliases) to
// its canonical type.
var opKeywords = map[string]OpType{
	"aggregate": OpAggregate, "cogroup": OpCogroup, "convertKey": OpConvertKey,
	"convertKeyValue": OpConvertKeyValue, "convertValue": OpConvertValue, "count": OpCount,
	"filter": OpFilter, "filterNot": OpFilterNot,
	"flatMap": OpTransformKeyValueToKeyValueList, "transformKeyValueToKeyValueList": OpTransformKeyValueToKeyValueList,
	"flatMapValues": OpTransformKeyValueToValueList, "transformKeyValueToValueList": OpTransformKeyValueToValueList,
	"groupBy": OpGroupBy, "groupByKey": OpGroupByKey, "join": OpJoin, "leftJoin": OpLeftJoin,
	"mapKey": OpTransformKey, "selectKey": OpTransformKey, "transformKey": OpTransformKey,
	"map": OpTransformKeyValue, "transformKeyValue": OpTransformKeyValue,
	"transformMetadata": OpTransformMetadata,
	"mapValue":          OpTransformValue, "mapValues": OpTransformValue, "transformValue": OpTransformValue,
	"merge": OpMerge, "outerJoin": OpOuterJoin, "peek": OpPeek, "reduce": OpReduce,
	"repartition": OpRepartition, "suppress": OpSuppress, "toStream": OpToStream, "toTable": OpToTable,
	"windowByTime": OpWindowByTime, "windowBySession": OpWindowBySession,
}

// OpKeywords returns every accepted via type keyword, sorted.
func OpKeywords() []string {
	out := make([]string, 0, len(opKeywords))
	for k := range opKeywords {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keywordsOf(t OpType) []string {
	var out []string
	for _, k := range OpKeywords() {
		if opKeywords[k] == t {
			out = append(out, k)
		}
	}
	return out
}

func init() {
	joinStream := topicField("stream", streamTargetSpec, false, "The stream to join with")
	joinTable := topicField("table", tableTargetSpec, false, "The table to join with")
	joinGlobal := topicField("globalTable", globalTableTargetSpec, false, "The globalTable to join with")
	vj := fnField("valueJoiner", FuncValueJoiner, true, "Combines the values of both sides")
	joinFields := []yamlspec.Field{joinStream, joinTable, joinGlobal, vj,
		durField("timeDifference", false, "Maximum time between joined records (stream-stream)"),
		durField("grace", false, "Grace period for out-of-order records"),
		storeField("thisStore", StoreWindow, false, "Window store of this side (stream-stream)"),
		storeField("otherStore", StoreWindow, false, "Window store of the other side (stream-stream)"),
		storeField("store", StoreKeyValue, false, "Store of the join result (table-table)"),
		fnField("foreignKeyExtractor", FuncForeignKeyExtractor, false, "Extracts the foreign key (table-table)"),
		fnField("partitioner", FuncStreamPartitioner, false, "Partitioner of this table (foreign-key joins)"),
		fnField("otherPartitioner", FuncStreamPartitioner, false, "Partitioner of the other table (foreign-key joins)"),
		fnField("mapper", FuncKeyValueMapper, false, "Maps a record to the globalTable key"),
	}
	def := func(t OpType, doc string, fields ...yamlspec.Field) {
		s := &yamlspec.Spec{Name: string(t) + "Operation", Doc: doc}
		s.Fields = append(s.Fields, yamlspec.Field{Name: "type", Kind: yamlspec.Enum, Enum: keywordsOf(t), Required: true, Doc: "The type of the operation"}, opNameField)
		s.Fields = append(s.Fields, fields...)
		opSpecs[t] = s
	}
	def(OpAggregate, "Aggregates grouped records",
		fnField("initializer", FuncInitializer, true, "Creates the initial aggregate"),
		fnField("aggregator", FuncAggregator, false, "Adds a record to the aggregate"),
		fnField("merger", FuncMerger, false, "Merges two session aggregates"),
		fnField("adder", FuncAggregator, false, "Adds a new value (grouped tables)"),
		fnField("subtractor", FuncAggregator, false, "Removes an old value (grouped tables)"),
		storeField("store", "", true, "The store of the aggregates"))
	def(OpCogroup, "Cogroups a grouped stream", fnField("aggregator", FuncAggregator, true, "Adds a record to the aggregate"))
	def(OpConvertKey, "Converts the key to another type", typeField("into", true, "The target type"))
	def(OpConvertKeyValue, "Converts key and value to other types", typeField("into", true, "The target (key, value) type"))
	def(OpConvertValue, "Converts the value to another type", typeField("into", true, "The target type"))
	def(OpCount, "Counts grouped records", storeField("store", "", false, "The store of the counts"))
	def(OpFilter, "Keeps the records that match a predicate",
		fnField("if", FuncPredicate, true, "The predicate"), storeField("store", StoreKeyValue, false, "Materializes the filtered table"))
	def(OpFilterNot, "Drops the records that match a predicate",
		fnField("if", FuncPredicate, true, "The predicate"), storeField("store", StoreKeyValue, false, "Materializes the filtered table"))
	def(OpGroupBy, "Groups records by a new key",
		fnField("mapper", FuncKeyValueMapper, true, "Returns the grouping key"), storeField("store", StoreKeyValue, false, "Names the grouping"))
	def(OpGroupByKey, "Groups records by their key", storeField("store", StoreKeyValue, false, "Names the grouping"))
	def(OpJoin, "Joins with a stream, table or globalTable", joinFields...)
	def(OpLeftJoin, "Left-joins with a stream, table or globalTable", joinFields...)
	def(OpOuterJoin, "Outer-joins with a stream or table", joinFields[:9]...)
	def(OpMerge, "Merges another stream into this one", topicField("stream", streamTargetSpec, true, "The stream to merge"))
	def(OpPeek, "Calls a function for every record and passes it on", fnField("forEach", FuncForEach, true, "The function"))
	def(OpReduce, "Reduces grouped records",
		fnField("reducer", FuncReducer, false, "Combines two values"),
		fnField("adder", FuncReducer, false, "Adds a new value (grouped tables)"),
		fnField("subtractor", FuncReducer, false, "Removes an old value (grouped tables)"),
		storeField("store", "", false, "The store of the results"))
	def(OpRepartition, "Repartitions the stream",
		yamlspec.Field{Name: "numberOfPartitions", Kind: yamlspec.Int, Doc: "The number of partitions of the repartition topic"},
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions"))
	def(OpSuppress, "Holds back table updates",
		yamlspec.Field{Name: "until", Kind: yamlspec.Enum, Enum: []string{"timeLimit", "windowCloses"}, Required: true, Doc: "What ends the suppression"},
		durField("duration", false, "The time limit (timeLimit)"),
		yamlspec.Field{Name: "maxBytes", Kind: yamlspec.String, Doc: "Buffer limit in bytes"},
		yamlspec.Field{Name: "maxRecords", Kind: yamlspec.String, Doc: "Buffer limit in records"},
		yamlspec.Field{Name: "bufferFullStrategy", Kind: yamlspec.Enum, Enum: []string{"emitEarlyWhenFull", "shutdownWhenFull"}, Doc: "What to do when the buffer is full"})
	def(OpToStream, "Turns a table into a stream", fnField("mapper", FuncKeyTransformer, false, "Computes the new key"))
	def(OpToTable, "Turns a stream into a table", storeField("store", StoreKeyValue, false, "The store of the table"))
	def(OpTransformKey, "Computes a new key", fnField("mapper", FuncKeyTransformer, true, "Returns the new key"))
	def(OpTransformKeyValue, "Computes a new key and value", fnField("mapper", FuncKeyValueTransformer, true, "Returns (key, value)"))
	def(OpTransformKeyValueToKeyValueList, "Turns a record into a list of records",
		fnField("mapper", FuncKeyValueToKeyValueListTransformer, true, "Returns [(key, value), ...]"))
	def(OpTransformKeyValueToValueList, "Turns a record into a list of values with the same key",
		fnField("mapper", FuncKeyValueToValueListTransformer, true, "Returns [value, ...]"))
	def(OpTransformMetadata, "Rewrites timestamp and headers", fnField("mapper", FuncMetadataTransformer, true, "Returns the new metadata"))
	def(OpTransformValue, "Computes a new value",
		fnField("mapper", FuncValueTransformer, true, "Returns the new value"), storeField("store", StoreKeyValue, false, "Materializes the table"))
	def(OpWindowBySession, "Windows grouped records into sessions",
		durField("inactivityGap", true, "The gap that ends a session"), durField("grace", false, "Grace period"))
	def(OpWindowByTime, "Windows grouped records by time",
		yamlspec.Field{Name: "windowType", Kind: yamlspec.Enum, Enum: []string{"tumbling", "hopping", "sliding"}, Required: true, Doc: "The kind of window"},
		durField("duration", false, "The window size (tumbling, hopping)"),
		durField("advanceBy", false, "The hop (hopping)"),
		durField("timeDifference", false, "The window size (sliding)"),
		durField("grace", false, "Grace period"))
}

var printSpec = &yamlspec.Spec{Name: "PrintOperation", Doc: "Prints records", Fields: []yamlspec.Field{
	{Name: "filename", Kind: yamlspec.String, Doc: "The file to print to (default: stdout)"},
	{Name: "label", Kind: yamlspec.String, Doc: "A label in front of each record"},
	fnField("mapper", FuncKeyValuePrinter, false, "Formats a record"),
	opNameField,
}}

var toTopicNameExtractorSpec = &yamlspec.Spec{Name: "ToTopicNameExtractorDefinition", Doc: "Writes to a topic chosen per record", Fields: []yamlspec.Field{
	fnField("topicNameExtractor", FuncTopicNameExtractor, true, "Returns the topic name"),
	fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions"),
}}

// sinkFields are the sink keys of pipelines and branches, in upstream's
// precedence order.
func sinkFields(branch *yamlspec.Spec) []yamlspec.Field {
	return []yamlspec.Field{
		{Name: "as", Kind: yamlspec.String, Doc: "Registers the result under a name for later pipelines"},
		{Name: "branch", Kind: yamlspec.List, Elem: objectsOf(branch), Doc: "Sends each record down the first branch whose predicate holds"},
		fnField("forEach", FuncForEach, false, "Calls a function for every record"),
		{Name: "print", Kind: yamlspec.Object, Object: printSpec, Doc: "Prints records"},
		topicField("to", toTopicSpec, false, "Writes records to a topic"),
		{Name: "toTopicNameExtractor", Kind: yamlspec.Any, Object: toTopicNameExtractorSpec, Ext: ext{kind: xFunction, fn: FuncTopicNameExtractor}, Doc: "Writes records to a topic chosen per record"},
	}
}

var (
	branchSpec   = &yamlspec.Spec{Name: "BranchDefinition", Doc: "One branch: a predicate and a pipeline"}
	pipelineSpec = &yamlspec.Spec{Name: "PipelineDefinition", Doc: "A source, operations and a sink"}
)

func init() {
	via := yamlspec.Field{Name: "via", Kind: yamlspec.List, Ext: ext{kind: xOperations}, Doc: "Operations applied in order"}
	branchSpec.Fields = append([]yamlspec.Field{
		fnField("if", FuncPredicate, false, "The predicate (absent: catch-all)"),
		opNameField,
		via,
	}, sinkFields(branchSpec)...)
	pipelineSpec.Fields = append([]yamlspec.Field{
		{Name: "name", Kind: yamlspec.String, Doc: "The name of the pipeline"},
		topicField("from", sourceSpec, true, "The source: a stream, table, globalTable or earlier pipeline"),
		via,
	}, sinkFields(branchSpec)...)
}

var producerSpec = &yamlspec.Spec{Name: "ProducerDefinition", Doc: "Generates messages and writes them to a topic", Fields: []yamlspec.Field{
	fnField("generator", FuncGenerator, true, "Returns (key, value) or a list of them"),
	topicField("to", toTopicSpec, true, "The target topic"),
	durField("interval", false, "Time between generator calls"),
	{Name: "count", Kind: yamlspec.Int, Doc: "Number of messages to produce"},
	{Name: "batchSize", Kind: yamlspec.Int, Doc: "Messages per batch (1-1000)"},
	fnField("condition", FuncPredicate, false, "Messages for which this is false are skipped"),
	fnField("until", FuncPredicate, false, "Stops the producer once true"),
	{Name: "name", Kind: yamlspec.String, Doc: "The name of the producer"},
}}

// rootKeys are the top-level keys of a KSML definition.
var rootSpec = &yamlspec.Spec{Name: "TopologyDefinition", Doc: "A KSML definition", Fields: []yamlspec.Field{
	{Name: "name", Kind: yamlspec.String, Doc: "The name of the definition"},
	{Name: "version", Kind: yamlspec.String, Doc: "The version of the definition"},
	{Name: "description", Kind: yamlspec.String, Doc: "What the definition does"},
	{Name: "streams", Kind: yamlspec.Map, Elem: objectsOf(streamSpec), Doc: "Streams referenced by pipelines and producers"},
	{Name: "tables", Kind: yamlspec.Map, Elem: objectsOf(tableSpec), Doc: "Tables referenced by pipelines and producers"},
	{Name: "globalTables", Kind: yamlspec.Map, Elem: objectsOf(globalTableSpec), Doc: "GlobalTables referenced by pipelines and producers"},
	{Name: "stores", Kind: yamlspec.Map, Ext: ext{kind: xStoreDefs}, Doc: "State stores"},
	{Name: "functions", Kind: yamlspec.Map, Ext: ext{kind: xFunctionDefs}, Doc: "Functions"},
	{Name: "pipelines", Kind: yamlspec.Map, Elem: objectsOf(pipelineSpec), Doc: "Pipelines"},
	{Name: "producers", Kind: yamlspec.Map, Elem: objectsOf(producerSpec), Doc: "Producers"},
}}

// Seed dialect.
var (
	seedInputSpec = &yamlspec.Spec{Name: "SeedInput", Doc: "A topic the pipeline reads", Fields: []yamlspec.Field{
		{Name: "name", Kind: yamlspec.String, Doc: "The name of the input"},
		{Name: "topic", Kind: yamlspec.String, Required: true, Doc: "The Kafka topic"},
		{Name: "keyType", Kind: yamlspec.String, Doc: "STRING, JSON, AVRO or any KSML type"},
		{Name: "valueType", Kind: yamlspec.String, Doc: "STRING, JSON, AVRO or any KSML type"},
		{Name: "keySchema", Kind: yamlspec.String, Doc: "Schema name for AVRO keys"},
		{Name: "valueSchema", Kind: yamlspec.String, Doc: "Schema name for AVRO values"},
		{Name: "schemaRegistry", Kind: yamlspec.String, Doc: "Schema registry URL"},
		{Name: "offsetResetPolicy", Kind: yamlspec.String, Doc: offsetResetDoc},
	}}
	seedOutputSpec = &yamlspec.Spec{Name: "SeedOutput", Doc: "A topic the pipeline writes", Fields: []yamlspec.Field{
		{Name: "name", Kind: yamlspec.String, Required: true, Doc: "The name of the output; after a branch, the predicate it receives"},
		{Name: "topic", Kind: yamlspec.String, Required: true, Doc: "The Kafka topic"},
		{Name: "keyType", Kind: yamlspec.String, Doc: "STRING, JSON, AVRO or any KSML type"},
		{Name: "valueType", Kind: yamlspec.String, Doc: "STRING, JSON, AVRO or any KSML type"},
		{Name: "keySchema", Kind: yamlspec.String, Doc: "Schema name for AVRO keys"},
		{Name: "valueSchema", Kind: yamlspec.String, Doc: "Schema name for AVRO values"},
		{Name: "schemaRegistry", Kind: yamlspec.String, Doc: "Schema registry URL"},
	}}
	seedPredicateSpec = &yamlspec.Spec{Name: "SeedBranchPredicate", Doc: "A named branch predicate", Fields: []yamlspec.Field{
		{Name: "name", Kind: yamlspec.String, Required: true, Doc: "The output that receives matching records"},
		{Name: "predicate", Kind: yamlspec.Any, Ext: ext{kind: xFunction, fn: FuncPredicate}, Required: true, Doc: "The predicate"},
	}}
	seedPipelineSpec = &yamlspec.Spec{Name: "SeedPipeline", Doc: "A pipeline of the list dialect", Fields: []yamlspec.Field{
		{Name: "name", Kind: yamlspec.String, Required: true, Doc: "The name of the pipeline"},
		{Name: "inputs", Kind: yamlspec.List, Elem: objectsOf(seedInputSpec), Required: true, Doc: "Input topics; several inputs are merged"},
		{Name: "operations", Kind: yamlspec.List, Ext: ext{kind: xSeedOperations}, Doc: "Operations applied in order"},
		{Name: "outputs", Kind: yamlspec.List, Elem: objectsOf(seedOutputSpec), Doc: "Output topics"},
	}}
	seedRootSpec = &yamlspec.Spec{Name: "SeedDefinition", Doc: "A definition in the list dialect", Fields: []yamlspec.Field{
		{Name: "name", Kind: yamlspec.String, Doc: "The name of the definition"},
		{Name: "version", Kind: yamlspec.String, Doc: "The version of the definition"},
		{Name: "description", Kind: yamlspec.String, Doc: "What the definition does"},
		{Name: "configuration", Kind: yamlspec.Object, Object: seedConfigSpec}, // documented by the spec
		{Name: "pipelines", Kind: yamlspec.List, Elem: objectsOf(seedPipelineSpec), Required: true, Doc: "The pipelines"},
	}}
	seedConfigSpec = &yamlspec.Spec{Name: "SeedConfiguration", Doc: "Properties and metrics", Fields: []yamlspec.Field{
		{Name: "properties", Kind: yamlspec.Map, Elem: &yamlspec.Field{Kind: yamlspec.Scalar}, Doc: "Properties, visible to Python as `properties`"},
		{Name: "metrics", Kind: yamlspec.Object, Object: seedMetricsSpec}, // documented by the spec
	}}
	seedMetricsSpec = &yamlspec.Spec{Name: "SeedMetrics", Doc: "Metrics reporting", Fields: []yamlspec.Field{
		{Name: "enabled", Kind: yamlspec.Bool, Doc: "Report metrics"},
		{Name: "reporter", Kind: yamlspec.String, Doc: "The reporter, e.g. prometheus"},
		{Name: "tags", Kind: yamlspec.Map, Elem: &yamlspec.Field{Kind: yamlspec.Scalar}, Doc: "Tags added to every metric"},
	}}
)

// seedBranchSpec is the branch operation of the list dialect.
var seedBranchSpec = &yamlspec.Spec{Name: "SeedBranchOperation", Doc: "Routes each record to the output named like the first predicate that holds", Fields: []yamlspec.Field{
	{Name: "type", Kind: yamlspec.Enum, Enum: []string{"branch"}, Required: true},
	{Name: "name", Kind: yamlspec.String},
	{Name: "predicates", Kind: yamlspec.List, Elem: objectsOf(seedPredicateSpec), Required: true},
}}
