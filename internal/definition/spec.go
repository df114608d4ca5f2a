package definition

import "sort"

// The grammar of definition files as data. The parser checks keys against
// these tables (unknown keys, missing required fields) and `ksml schema`
// renders them as JSON schema, so the accepted language and its published
// schema cannot drift apart.

type fieldKind int

const (
	fString   fieldKind = iota
	fType               // a KSML type string
	fDuration           // integer millis or "<n>[ms|s|m|h|d|w]"
	fBool
	fInt
	fCode     // Python source (string, or bool/number scalar)
	fEnum     // one of field.enum
	fFunction // function name or inline function of field.fn
	fStore    // store name or inline store of field.store ("" = any)
	fTopic    // stream/table/globalTable name or inline topic (field.elem)
	fObject   // nested object (field.elem)
	fList     // list of field.elem objects
	fStrings  // list of strings
	fParams   // list of function parameters
	fMap      // string-keyed map of scalars
)

type field struct {
	name     string
	kind     fieldKind
	required bool
	doc      string
	enum     []string
	fn       FunctionType
	store    StoreType
	elem     *objSpec
}

type objSpec struct {
	name   string // schema definition name
	doc    string
	fields []field
}

func (s *objSpec) field(name string) *field {
	for i := range s.fields {
		if s.fields[i].name == name {
			return &s.fields[i]
		}
	}
	return nil
}

func (s *objSpec) names() []string {
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	return out
}

func fnField(name string, t FunctionType, required bool, doc string) field {
	return field{name: name, kind: fFunction, fn: t, required: required, doc: doc}
}

func storeField(name string, t StoreType, required bool, doc string) field {
	return field{name: name, kind: fStore, store: t, required: required, doc: doc}
}

func durField(name string, required bool, doc string) field {
	return field{name: name, kind: fDuration, required: required, doc: doc}
}

var opNameField = field{name: "name", kind: fString, doc: "The name of the operation processor"}

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

var paramSpec = &objSpec{name: "ParameterDefinition", doc: "A parameter of a function", fields: []field{
	{name: "name", kind: fString, required: true, doc: "The name of the parameter"},
	{name: "type", kind: fType, required: true, doc: "The type of the parameter"},
	{name: "defaultValue", kind: fString, doc: "The default value of the parameter"},
}}

// functionSpec returns the fields of a function of type t; withType adds
// the `type` key (named functions in functions:).
func functionSpec(t FunctionType, withType bool) *objSpec {
	s := &objSpec{name: string(t) + "Function", doc: "A " + string(t) + " function"}
	if withType {
		s.name = string(t) + "FunctionDefinition"
		s.fields = append(s.fields, field{name: "type", kind: fEnum, enum: []string{string(t)}, required: t != FuncGeneric, doc: "The type of the function"})
	}
	s.fields = append(s.fields,
		field{name: "name", kind: fString, doc: "The name of the function"},
		field{name: "parameters", kind: fParams, elem: paramSpec, doc: "Extra parameters, appended after the built-in ones"},
		field{name: "globalCode", kind: fCode, doc: "Module-level Python code, run once"},
		field{name: "code", kind: fCode, doc: "The function body (Python); may return"},
		field{name: "expression", kind: fCode, doc: "The Python expression whose value is returned"},
		field{name: "resultType", kind: fType, doc: "The type of the returned value"},
	)
	if storeCapable[t] {
		s.fields = append(s.fields, field{name: "stores", kind: fStrings, doc: "Names of the state stores the function uses"})
	}
	return s
}

func storeSpec(t StoreType, withKV bool) *objSpec {
	s := &objSpec{name: string(t) + "StoreDefinition", doc: "A " + string(t) + " state store"}
	s.fields = []field{
		{name: "type", kind: fEnum, enum: []string{string(t)}, required: true, doc: "The type of the state store"},
		{name: "name", kind: fString, doc: "The name of the state store"},
	}
	if withKV {
		req := t != StoreKeyValue
		s.fields = append(s.fields,
			field{name: "keyType", kind: fType, required: req, doc: "The key type"},
			field{name: "valueType", kind: fType, required: req, doc: "The value type"})
	}
	s.fields = append(s.fields,
		field{name: "persistent", kind: fBool, doc: "Persistent (on disk) instead of in memory"},
		field{name: "caching", kind: fBool, doc: "Cache writes"},
		field{name: "logging", kind: fBool, doc: "Keep a changelog topic"},
		field{name: "timestamped", kind: fBool, doc: "Store timestamps with values"})
	switch t {
	case StoreKeyValue:
		s.fields = append(s.fields,
			field{name: "versioned", kind: fBool, doc: "Keep a history of values (persistent stores only)"},
			durField("historyRetention", false, "How long versioned history is kept"),
			durField("segmentInterval", false, "Segment size of versioned stores"))
	case StoreWindow:
		s.fields = append(s.fields,
			durField("windowSize", false, "The size of the windows"),
			durField("retention", false, "How long windows are kept"),
			field{name: "retainDuplicates", kind: fBool, doc: "Keep duplicate keys (stream-stream joins)"})
	case StoreSession:
		s.fields = append(s.fields, durField("retention", false, "How long sessions are kept"))
	}
	return s
}

var (
	storeSpecs = map[StoreType]*objSpec{
		StoreKeyValue: storeSpec(StoreKeyValue, true),
		StoreWindow:   storeSpec(StoreWindow, true),
		StoreSession:  storeSpec(StoreSession, true),
	}
	inlineStoreSpecs = map[StoreType]*objSpec{
		StoreKeyValue: storeSpec(StoreKeyValue, false),
		StoreWindow:   storeSpec(StoreWindow, false),
		StoreSession:  storeSpec(StoreSession, false),
	}
)

func init() {
	for t, s := range inlineStoreSpecs {
		s.name = string(t) + "StoreDefinitionInline"
		// Inline stores may still name their key and value types.
		s.fields = append(s.fields,
			field{name: "keyType", kind: fType, doc: "The key type (default: the stream's)"},
			field{name: "valueType", kind: fType, doc: "The value type (default: the stream's)"})
	}
}

var offsetResetDoc = "earliest, latest, none or by_duration:<duration>"

func topicSpec(name string, kind TopicKind) *objSpec {
	s := &objSpec{name: name, doc: "A " + kind.String() + " on a Kafka topic"}
	s.fields = []field{
		{name: "topic", kind: fString, required: true, doc: "The Kafka topic"},
		{name: "keyType", kind: fType, required: kind == KindStream, doc: "The key type"},
		{name: "valueType", kind: fType, required: kind == KindStream, doc: "The value type"},
		{name: "offsetResetPolicy", kind: fString, doc: offsetResetDoc},
		fnField("timestampExtractor", FuncTimestampExtractor, false, "Extracts record timestamps"),
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions when writing"),
	}
	if kind != KindStream {
		s.fields = append(s.fields, storeField("store", StoreKeyValue, false, "The store that holds the table"))
	}
	return s
}

var (
	streamSpec      = topicSpec("StreamDefinition", KindStream)
	tableSpec       = topicSpec("TableDefinition", KindTable)
	globalTableSpec = topicSpec("GlobalTableDefinition", KindGlobalTable)
	sourceSpec      = topicSpec("TopicDefinitionSource", KindStream)
	toTopicSpec     = &objSpec{name: "ToTopicDefinition", doc: "A topic to write to", fields: []field{
		{name: "topic", kind: fString, required: true, doc: "The Kafka topic"},
		{name: "keyType", kind: fType, doc: "The key type (default: the stream's)"},
		{name: "valueType", kind: fType, doc: "The value type (default: the stream's)"},
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions when writing"),
	}}
	streamTargetSpec = &objSpec{name: "StreamDefinitionAsJoinTarget", doc: "An inline stream", fields: []field{
		{name: "topic", kind: fString, required: true, doc: "The Kafka topic"},
		{name: "keyType", kind: fType, doc: "The key type"},
		{name: "valueType", kind: fType, doc: "The value type"},
		{name: "offsetResetPolicy", kind: fString, doc: offsetResetDoc},
		fnField("timestampExtractor", FuncTimestampExtractor, false, "Extracts record timestamps"),
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions when writing"),
	}}
	tableTargetSpec = &objSpec{name: "TableDefinitionAsJoinTarget", doc: "An inline table", fields: append(append([]field{}, streamTargetSpec.fields...),
		storeField("store", StoreKeyValue, false, "The store that holds the table"))}
	globalTableTargetSpec = &objSpec{name: "GlobalTableDefinitionAsJoinTarget", doc: "An inline globalTable", fields: tableTargetSpec.fields}
)

// opSpecs maps each canonical operation type to its fields.
var opSpecs = map[OpType]*objSpec{}

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
	joinStream := field{name: "stream", kind: fTopic, elem: streamTargetSpec, doc: "The stream to join with"}
	joinTable := field{name: "table", kind: fTopic, elem: tableTargetSpec, doc: "The table to join with"}
	joinGlobal := field{name: "globalTable", kind: fTopic, elem: globalTableTargetSpec, doc: "The globalTable to join with"}
	vj := fnField("valueJoiner", FuncValueJoiner, true, "Combines the values of both sides")
	joinFields := []field{joinStream, joinTable, joinGlobal, vj,
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
	def := func(t OpType, doc string, fields ...field) {
		s := &objSpec{name: string(t) + "Operation", doc: doc}
		s.fields = append(s.fields, field{name: "type", kind: fEnum, enum: keywordsOf(t), required: true, doc: "The type of the operation"}, opNameField)
		s.fields = append(s.fields, fields...)
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
	def(OpConvertKey, "Converts the key to another type", field{name: "into", kind: fType, required: true, doc: "The target type"})
	def(OpConvertKeyValue, "Converts key and value to other types", field{name: "into", kind: fType, required: true, doc: "The target (key, value) type"})
	def(OpConvertValue, "Converts the value to another type", field{name: "into", kind: fType, required: true, doc: "The target type"})
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
	def(OpMerge, "Merges another stream into this one", field{name: "stream", kind: fTopic, elem: streamTargetSpec, required: true, doc: "The stream to merge"})
	def(OpPeek, "Calls a function for every record and passes it on", fnField("forEach", FuncForEach, true, "The function"))
	def(OpReduce, "Reduces grouped records",
		fnField("reducer", FuncReducer, false, "Combines two values"),
		fnField("adder", FuncReducer, false, "Adds a new value (grouped tables)"),
		fnField("subtractor", FuncReducer, false, "Removes an old value (grouped tables)"),
		storeField("store", "", false, "The store of the results"))
	def(OpRepartition, "Repartitions the stream",
		field{name: "numberOfPartitions", kind: fInt, doc: "The number of partitions of the repartition topic"},
		fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions"))
	def(OpSuppress, "Holds back table updates",
		field{name: "until", kind: fEnum, enum: []string{"timeLimit", "windowCloses"}, required: true, doc: "What ends the suppression"},
		durField("duration", false, "The time limit (timeLimit)"),
		field{name: "maxBytes", kind: fString, doc: "Buffer limit in bytes"},
		field{name: "maxRecords", kind: fString, doc: "Buffer limit in records"},
		field{name: "bufferFullStrategy", kind: fEnum, enum: []string{"emitEarlyWhenFull", "shutdownWhenFull"}, doc: "What to do when the buffer is full"})
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
		field{name: "windowType", kind: fEnum, enum: []string{"tumbling", "hopping", "sliding"}, required: true, doc: "The kind of window"},
		durField("duration", false, "The window size (tumbling, hopping)"),
		durField("advanceBy", false, "The hop (hopping)"),
		durField("timeDifference", false, "The window size (sliding)"),
		durField("grace", false, "Grace period"))
}

var printSpec = &objSpec{name: "PrintOperation", doc: "Prints records", fields: []field{
	{name: "filename", kind: fString, doc: "The file to print to (default: stdout)"},
	{name: "label", kind: fString, doc: "A label in front of each record"},
	fnField("mapper", FuncKeyValuePrinter, false, "Formats a record"),
	opNameField,
}}

var toTopicNameExtractorSpec = &objSpec{name: "ToTopicNameExtractorDefinition", doc: "Writes to a topic chosen per record", fields: []field{
	fnField("topicNameExtractor", FuncTopicNameExtractor, true, "Returns the topic name"),
	fnField("partitioner", FuncStreamPartitioner, false, "Chooses partitions"),
}}

// sinkFields are the sink keys of pipelines and branches, in upstream's
// precedence order.
func sinkFields(branch *objSpec) []field {
	return []field{
		{name: "as", kind: fString, doc: "Registers the result under a name for later pipelines"},
		{name: "branch", kind: fList, elem: branch, doc: "Sends each record down the first branch whose predicate holds"},
		fnField("forEach", FuncForEach, false, "Calls a function for every record"),
		{name: "print", kind: fObject, elem: printSpec, doc: "Prints records"},
		{name: "to", kind: fTopic, elem: toTopicSpec, doc: "Writes records to a topic"},
		{name: "toTopicNameExtractor", kind: fFunction, fn: FuncTopicNameExtractor, elem: toTopicNameExtractorSpec, doc: "Writes records to a topic chosen per record"},
	}
}

var (
	branchSpec   = &objSpec{name: "BranchDefinition", doc: "One branch: a predicate and a pipeline"}
	pipelineSpec = &objSpec{name: "PipelineDefinition", doc: "A source, operations and a sink"}
)

func init() {
	via := field{name: "via", kind: fList, doc: "Operations applied in order"}
	branchSpec.fields = append([]field{
		fnField("if", FuncPredicate, false, "The predicate (absent: catch-all)"),
		opNameField,
		via,
	}, sinkFields(branchSpec)...)
	pipelineSpec.fields = append([]field{
		{name: "name", kind: fString, doc: "The name of the pipeline"},
		{name: "from", kind: fTopic, elem: sourceSpec, required: true, doc: "The source: a stream, table, globalTable or earlier pipeline"},
		via,
	}, sinkFields(branchSpec)...)
}

var producerSpec = &objSpec{name: "ProducerDefinition", doc: "Generates messages and writes them to a topic", fields: []field{
	fnField("generator", FuncGenerator, true, "Returns (key, value) or a list of them"),
	{name: "to", kind: fTopic, elem: toTopicSpec, required: true, doc: "The target topic"},
	durField("interval", false, "Time between generator calls"),
	{name: "count", kind: fInt, doc: "Number of messages to produce"},
	{name: "batchSize", kind: fInt, doc: "Messages per batch (1-1000)"},
	fnField("condition", FuncPredicate, false, "Messages for which this is false are skipped"),
	fnField("until", FuncPredicate, false, "Stops the producer once true"),
	{name: "name", kind: fString, doc: "The name of the producer"},
}}

// rootKeys are the top-level keys of a KSML definition.
var rootSpec = &objSpec{name: "TopologyDefinition", doc: "A KSML definition", fields: []field{
	{name: "name", kind: fString, doc: "The name of the definition"},
	{name: "version", kind: fString, doc: "The version of the definition"},
	{name: "description", kind: fString, doc: "What the definition does"},
	{name: "streams", kind: fMap, elem: streamSpec, doc: "Streams referenced by pipelines and producers"},
	{name: "tables", kind: fMap, elem: tableSpec, doc: "Tables referenced by pipelines and producers"},
	{name: "globalTables", kind: fMap, elem: globalTableSpec, doc: "GlobalTables referenced by pipelines and producers"},
	{name: "stores", kind: fMap, doc: "State stores"},
	{name: "functions", kind: fMap, doc: "Functions"},
	{name: "pipelines", kind: fMap, elem: pipelineSpec, doc: "Pipelines"},
	{name: "producers", kind: fMap, elem: producerSpec, doc: "Producers"},
}}

// Seed dialect.
var (
	seedInputSpec = &objSpec{name: "SeedInput", doc: "A topic the pipeline reads", fields: []field{
		{name: "name", kind: fString, doc: "The name of the input"},
		{name: "topic", kind: fString, required: true, doc: "The Kafka topic"},
		{name: "keyType", kind: fString, doc: "STRING, JSON, AVRO or any KSML type"},
		{name: "valueType", kind: fString, doc: "STRING, JSON, AVRO or any KSML type"},
		{name: "keySchema", kind: fString, doc: "Schema name for AVRO keys"},
		{name: "valueSchema", kind: fString, doc: "Schema name for AVRO values"},
		{name: "schemaRegistry", kind: fString, doc: "Schema registry URL"},
		{name: "offsetResetPolicy", kind: fString, doc: offsetResetDoc},
	}}
	seedOutputSpec = &objSpec{name: "SeedOutput", doc: "A topic the pipeline writes", fields: []field{
		{name: "name", kind: fString, required: true, doc: "The name of the output; after a branch, the predicate it receives"},
		{name: "topic", kind: fString, required: true, doc: "The Kafka topic"},
		{name: "keyType", kind: fString, doc: "STRING, JSON, AVRO or any KSML type"},
		{name: "valueType", kind: fString, doc: "STRING, JSON, AVRO or any KSML type"},
		{name: "keySchema", kind: fString, doc: "Schema name for AVRO keys"},
		{name: "valueSchema", kind: fString, doc: "Schema name for AVRO values"},
		{name: "schemaRegistry", kind: fString, doc: "Schema registry URL"},
	}}
	seedPredicateSpec = &objSpec{name: "SeedBranchPredicate", doc: "A named branch predicate", fields: []field{
		{name: "name", kind: fString, required: true, doc: "The output that receives matching records"},
		{name: "predicate", kind: fFunction, fn: FuncPredicate, required: true, doc: "The predicate"},
	}}
	seedPipelineSpec = &objSpec{name: "SeedPipeline", doc: "A pipeline of the list dialect", fields: []field{
		{name: "name", kind: fString, required: true, doc: "The name of the pipeline"},
		{name: "inputs", kind: fList, elem: seedInputSpec, required: true, doc: "Input topics; several inputs are merged"},
		{name: "operations", kind: fList, doc: "Operations applied in order"},
		{name: "outputs", kind: fList, elem: seedOutputSpec, doc: "Output topics"},
	}}
	seedRootSpec = &objSpec{name: "SeedDefinition", doc: "A definition in the list dialect", fields: []field{
		{name: "name", kind: fString, doc: "The name of the definition"},
		{name: "version", kind: fString, doc: "The version of the definition"},
		{name: "description", kind: fString, doc: "What the definition does"},
		{name: "configuration", kind: fObject, doc: "Properties and metrics"},
		{name: "pipelines", kind: fList, elem: seedPipelineSpec, required: true, doc: "The pipelines"},
	}}
	seedConfigSpec = &objSpec{name: "SeedConfiguration", doc: "Properties and metrics", fields: []field{
		{name: "properties", kind: fMap, doc: "Properties, visible to Python as `properties`"},
		{name: "metrics", kind: fObject, doc: "Metrics reporting"},
	}}
	seedMetricsSpec = &objSpec{name: "SeedMetrics", doc: "Metrics reporting", fields: []field{
		{name: "enabled", kind: fBool, doc: "Report metrics"},
		{name: "reporter", kind: fString, doc: "The reporter, e.g. prometheus"},
		{name: "tags", kind: fMap, doc: "Tags added to every metric"},
	}}
)
