// Package definition reads KSML definition files into one position-carrying
// model, resolves their references and validates them.
//
// Two dialects are accepted: upstream KSML (pipelines as a map of
// from/via/sink) and the list dialect of the seed document (pipelines as a
// list of {name, inputs, operations, outputs}). Both produce the same
// *Definition, so later stages (topology, streams, runner) never know which
// one the user wrote.
//
// Every node carries a Pos so that errors, Python tracebacks and topology
// pictures can point at the YAML. Load and Parse report every problem of a
// file at once as Diagnostics, sorted by position; they never panic on bad
// input.
//
// When Load returns no error, the model is complete: every FunctionRef,
// StoreRef and TopicRef is resolved (Def, or Pipeline/Branch for earlier
// pipeline results, is set), every pipeline has a Sink, type strings parse
// (TypeRef.UserType), schemas named in types exist in the schema
// directories, and, with a CodeChecker, all Python compiles. Upstream
// semantics are kept; upstream's silent acceptance of unknown keys is not.
package definition

import (
	"time"

	"github.com/ksml-dev/ksml/internal/types"
	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// Pos is a place in a definition file. Line and Col are 1-based; a zero Pos
// means "no position" (a synthesized node).
type Pos = yamlspec.Pos

// Dialect tells which syntax a definition was written in.
type Dialect int

const (
	// DialectKSML is the upstream KSML syntax.
	DialectKSML Dialect = iota
	// DialectSeed is the list syntax of the seed document.
	DialectSeed
)

func (d Dialect) String() string {
	if d == DialectSeed {
		return "seed"
	}
	return "ksml"
}

// Definition is one parsed, resolved and validated definition file.
type Definition struct {
	File      string
	Namespace string // sanitized name under which generated names are prefixed
	Dialect   Dialect

	Name        string // informational; "" when absent
	Version     string
	Description string

	// Resources in file order. Names are unique per kind; a name may not be
	// reused across streams, tables and globalTables.
	Streams      []*TopicDef
	Tables       []*TopicDef
	GlobalTables []*TopicDef
	Stores       []*StoreDef    // top-level stores: section
	Functions    []*FunctionDef // top-level functions: section

	// InlineFunctions are the anonymous functions written inside pipelines,
	// topics and producers, in file order, under their path-derived names.
	InlineFunctions []*FunctionDef
	// InlineStores are the anonymous stores written inside operations and
	// tables, in file order.
	InlineStores []*StoreDef

	Pipelines []*Pipeline // in build order (file order)
	Producers []*Producer

	// Configuration holds the seed dialect's top-level configuration block;
	// nil for KSML files.
	Configuration *Configuration

	topicIndex    map[string]*TopicDef
	storeIndex    map[string]*StoreDef
	functionIndex map[string]*FunctionDef
	pipelineIndex map[string]*Pipeline // by the name registered with `as` (or implicit as)
	branchIndex   map[string]*Branch   // branches ending in `as`
}

// AllFunctions returns the declared functions followed by the inline ones,
// in file order: every function the definition's Python module holds.
func (d *Definition) AllFunctions() []*FunctionDef {
	out := make([]*FunctionDef, 0, len(d.Functions)+len(d.InlineFunctions))
	return append(append(out, d.Functions...), d.InlineFunctions...)
}

// AllStores returns the top-level stores followed by the inline ones.
func (d *Definition) AllStores() []*StoreDef {
	out := make([]*StoreDef, 0, len(d.Stores)+len(d.InlineStores))
	return append(append(out, d.Stores...), d.InlineStores...)
}

// Topic returns the stream, table or globalTable declared under name.
func (d *Definition) Topic(name string) *TopicDef { return d.topicIndex[name] }

// Store returns the top-level store declared under name.
func (d *Definition) Store(name string) *StoreDef { return d.storeIndex[name] }

// Function returns the top-level function declared under name.
func (d *Definition) Function(name string) *FunctionDef { return d.functionIndex[name] }

// PipelineResult returns the pipeline whose result is registered under name
// (by `as:` or the implicit `as`).
func (d *Definition) PipelineResult(name string) *Pipeline { return d.pipelineIndex[name] }

// BranchResult returns the branch whose `as:` registered name.
func (d *Definition) BranchResult(name string) *Branch { return d.branchIndex[name] }

// TypeRef is a KSML type string as written, such as "avro:SensorData" or
// "(string, json)". The types package parses Text into a UserType.
type TypeRef struct {
	Text string
	Pos  Pos
}

// IsZero reports whether no type was given.
func (t TypeRef) IsZero() bool { return t.Text == "" }

// UserType parses Text with the built-in notations; an empty TypeRef is the
// unknown type. Loaded definitions only hold type strings that parse.
func (t TypeRef) UserType() (types.UserType, error) { return types.ParseUserType(t.Text) }

// TopicKind is the Kafka Streams abstraction a topic is read as.
type TopicKind int

const (
	KindStream TopicKind = iota
	KindTable
	KindGlobalTable
)

func (k TopicKind) String() string {
	switch k {
	case KindTable:
		return "table"
	case KindGlobalTable:
		return "globalTable"
	}
	return "stream"
}

// TopicDef declares a topic read or written as a stream, table or
// globalTable. Inline definitions (in from:, to:, join targets) have
// Inline set and a path-derived Name.
type TopicDef struct {
	Name      string
	Kind      TopicKind
	Topic     string
	KeyType   TypeRef // empty: unknown ("?")
	ValueType TypeRef

	OffsetResetPolicy  *OffsetResetPolicy
	TimestampExtractor *FunctionRef
	Partitioner        *FunctionRef
	Store              *StoreRef // tables and globalTables only

	// SchemaRegistry is the seed dialect's per-input registry URL.
	SchemaRegistry string

	Inline bool
	Pos    Pos
}

// OffsetResetPolicy is where a consumer starts without a committed offset.
type OffsetResetPolicy struct {
	Policy   string        // "earliest", "latest", "none" or "by_duration"
	Duration time.Duration // for by_duration
	Pos      Pos
}

// StoreType is the kind of a state store.
type StoreType string

const (
	StoreKeyValue StoreType = "keyValue"
	StoreWindow   StoreType = "window"
	StoreSession  StoreType = "session"
)

// StoreDef declares a state store. Durations that were not given are zero.
type StoreDef struct {
	Name      string
	Type      StoreType
	KeyType   TypeRef // empty for inline stores: inherited from the stream
	ValueType TypeRef

	Persistent  bool
	Caching     bool
	Logging     bool
	Timestamped bool

	// keyValue
	Versioned        bool
	HistoryRetention time.Duration
	SegmentInterval  time.Duration

	// window
	WindowSize       time.Duration
	RetainDuplicates bool

	// window and session
	Retention time.Duration

	Inline bool
	Pos    Pos
}

// StoreRef points at a store by name or holds an inline store.
type StoreRef struct {
	Name   string
	Def    *StoreDef
	Inline bool
	Pos    Pos
}

// FunctionType is one of the 21 KSML function types.
type FunctionType string

const (
	FuncAggregator                        FunctionType = "aggregator"
	FuncForEach                           FunctionType = "forEach"
	FuncForeignKeyExtractor               FunctionType = "foreignKeyExtractor"
	FuncGenerator                         FunctionType = "generator"
	FuncGeneric                           FunctionType = "generic"
	FuncInitializer                       FunctionType = "initializer"
	FuncKeyTransformer                    FunctionType = "keyTransformer"
	FuncKeyValueMapper                    FunctionType = "keyValueMapper"
	FuncKeyValuePrinter                   FunctionType = "keyValuePrinter"
	FuncKeyValueToKeyValueListTransformer FunctionType = "keyValueToKeyValueListTransformer"
	FuncKeyValueToValueListTransformer    FunctionType = "keyValueToValueListTransformer"
	FuncKeyValueTransformer               FunctionType = "keyValueTransformer"
	FuncMerger                            FunctionType = "merger"
	FuncMetadataTransformer               FunctionType = "metadataTransformer"
	FuncPredicate                         FunctionType = "predicate"
	FuncReducer                           FunctionType = "reducer"
	FuncStreamPartitioner                 FunctionType = "streamPartitioner"
	FuncTimestampExtractor                FunctionType = "timestampExtractor"
	FuncTopicNameExtractor                FunctionType = "topicNameExtractor"
	FuncValueJoiner                       FunctionType = "valueJoiner"
	FuncValueTransformer                  FunctionType = "valueTransformer"
)

// FunctionDef is a Python function: its type fixes the built-in parameters
// and the expected result (see Signature).
type FunctionDef struct {
	Name string // declared name, or the path-derived name of an inline function
	Type FunctionType

	Parameters []Parameter // user parameters, appended after the built-in ones
	GlobalCode *Code       // nil when absent
	Code       *Code
	Expression *Code
	ResultType TypeRef
	Stores     []StoreRef // stores the function may access, by name

	Inline bool
	Pos    Pos
}

// Parameter is a user-declared extra function parameter.
type Parameter struct {
	Name         string
	Type         TypeRef
	DefaultValue *string // nil when no default was given
	Pos          Pos
}

// Code is a piece of Python source from the YAML. Pos is where the first
// line of Text sits in the file: Python line N is YAML line Pos.Line+N-1,
// and for block scalars (| and >) Python column C is YAML column Pos.Col+C-1.
type Code struct {
	Text string
	Pos  Pos
}

// FunctionRef points at a function by name or holds an inline function.
type FunctionRef struct {
	Name   string
	Def    *FunctionDef // resolved; nil only when resolution failed
	Inline bool
	Pos    Pos
}

// TopicRef points at a stream, table, globalTable or earlier pipeline
// result, or holds an inline topic definition. After resolution exactly one
// of Def, Pipeline and Branch is set.
type TopicRef struct {
	Name     string
	Def      *TopicDef
	Pipeline *Pipeline // set when the name is an earlier pipeline's result
	Branch   *Branch   // set when the name is registered by `as` inside a branch
	Inline   bool
	Pos      Pos
}

// Pipeline reads from a source, applies operations and ends in a sink.
type Pipeline struct {
	Name string // the key under pipelines: (KSML) or the list entry's name (seed)
	From TopicRef
	Via  []*Operation
	Sink *Sink // never nil after parsing: absent sinks become an implicit As
	// Source is what From delivers: kind and key/value types where known.
	Source Flow
	Pos    Pos
}

// OpType is the canonical type of a via operation.
type OpType string

const (
	OpAggregate                       OpType = "aggregate"
	OpCogroup                         OpType = "cogroup"
	OpConvertKey                      OpType = "convertKey"
	OpConvertKeyValue                 OpType = "convertKeyValue"
	OpConvertValue                    OpType = "convertValue"
	OpCount                           OpType = "count"
	OpFilter                          OpType = "filter"
	OpFilterNot                       OpType = "filterNot"
	OpGroupBy                         OpType = "groupBy"
	OpGroupByKey                      OpType = "groupByKey"
	OpJoin                            OpType = "join"
	OpLeftJoin                        OpType = "leftJoin"
	OpMerge                           OpType = "merge"
	OpOuterJoin                       OpType = "outerJoin"
	OpPeek                            OpType = "peek"
	OpReduce                          OpType = "reduce"
	OpRepartition                     OpType = "repartition"
	OpSuppress                        OpType = "suppress"
	OpToStream                        OpType = "toStream"
	OpToTable                         OpType = "toTable"
	OpTransformKey                    OpType = "transformKey"                    // mapKey, selectKey
	OpTransformKeyValue               OpType = "transformKeyValue"               // map
	OpTransformKeyValueToKeyValueList OpType = "transformKeyValueToKeyValueList" // flatMap
	OpTransformKeyValueToValueList    OpType = "transformKeyValueToValueList"    // flatMapValues
	OpTransformMetadata               OpType = "transformMetadata"
	OpTransformValue                  OpType = "transformValue" // mapValue, mapValues
	OpWindowBySession                 OpType = "windowBySession"
	OpWindowByTime                    OpType = "windowByTime"
)

// JoinTargetKind says which kind of object a join joins with.
type JoinTargetKind int

const (
	JoinNone JoinTargetKind = iota
	JoinStream
	JoinTable
	JoinGlobalTable
)

// Operation is one via step. Only the fields of its Type are set; the
// table in ops.go lists them. Durations not given are zero.
type Operation struct {
	Type    OpType
	Keyword string // the type keyword as written (an alias such as "mapValues")
	Name    string // explicit name: or "" (see DerivedName)
	// Result is the records after this step: the kind of stream and the
	// key/value types where the definition states them (e.g. a mapper's
	// resultType, long after count, windowed keys after windowing).
	Result Flow
	// DerivedName is upstream's path-derived processor name without the
	// namespace, e.g. "pipelines_main_via_step1_filter".
	DerivedName string
	Pos         Pos

	// Functions.
	If                  *FunctionRef // filter, filterNot (predicate)
	Mapper              *FunctionRef // transform*, groupBy, toStream, join with globalTable
	ForEach             *FunctionRef // peek
	Initializer         *FunctionRef // aggregate
	Aggregator          *FunctionRef // aggregate, cogroup
	Merger              *FunctionRef // aggregate (session windows)
	Adder               *FunctionRef // aggregate and reduce on grouped tables
	Subtractor          *FunctionRef
	Reducer             *FunctionRef // reduce
	ValueJoiner         *FunctionRef // joins
	ForeignKeyExtractor *FunctionRef // join/leftJoin table-table
	Partitioner         *FunctionRef // repartition, table joins
	OtherPartitioner    *FunctionRef // table joins

	// Stores.
	Store      *StoreRef
	ThisStore  *StoreRef // stream-stream joins
	OtherStore *StoreRef

	// Join and merge targets.
	JoinKind JoinTargetKind
	Target   *TopicRef // join stream/table/globalTable, merge stream

	// Types.
	Into TypeRef // convertKey, convertValue, convertKeyValue

	// Windows and timing.
	WindowType     string        // windowByTime: tumbling, hopping or sliding
	Duration       time.Duration // windowByTime size; suppress timeLimit
	AdvanceBy      time.Duration
	TimeDifference time.Duration // sliding windows, stream-stream joins
	Grace          time.Duration
	InactivityGap  time.Duration

	// repartition
	NumberOfPartitions int // 0: not given

	// suppress
	Until              string // timeLimit or windowCloses
	MaxBytes           string
	MaxRecords         string
	BufferFullStrategy string // emitEarlyWhenFull or shutdownWhenFull
}

// SinkType is how a pipeline ends.
type SinkType string

const (
	SinkTo                 SinkType = "to"
	SinkToTopicNameExtract SinkType = "toTopicNameExtractor"
	SinkForEach            SinkType = "forEach"
	SinkPrint              SinkType = "print"
	SinkBranch             SinkType = "branch"
	SinkAs                 SinkType = "as"
)

// Sink ends a pipeline or a branch.
type Sink struct {
	Type SinkType
	// DerivedName is upstream's processor name without namespace, e.g.
	// "pipelines_main_to".
	DerivedName string
	Pos         Pos
	// Input is the records that reach the sink, as far as known.
	Input Flow

	To                 *TopicRef    // to
	TopicNameExtractor *FunctionRef // toTopicNameExtractor
	Partitioner        *FunctionRef // to (inline), toTopicNameExtractor
	ForEach            *FunctionRef // forEach
	Print              *PrintSink   // print
	Branches           []*Branch    // branch
	As                 string       // as: the name later pipelines use in from:
	Implicit           bool         // As was not written: the pipeline's name is used
}

// PrintSink writes records to stdout or a file.
type PrintSink struct {
	Filename string // "" = stdout
	Label    string
	Mapper   *FunctionRef // keyValuePrinter; nil = default format
}

// Branch is one element of a branch sink: records for which If holds (or
// every record, when If is nil) flow through Via into Sink. The first
// matching branch wins.
type Branch struct {
	If   *FunctionRef
	Via  []*Operation
	Sink *Sink
	Pos  Pos
}

// Producer periodically calls a generator and writes its messages.
type Producer struct {
	Name      string
	Generator *FunctionRef
	To        *TopicRef
	Interval  time.Duration // 0: as fast as possible
	Count     int64         // 0: not given (unbounded, or once without interval/until)
	BatchSize int           // 0: not given; values outside 1..1000 become 1, as upstream
	Condition *FunctionRef
	Until     *FunctionRef
	Pos       Pos
}

// Configuration is the seed dialect's top-level configuration block.
type Configuration struct {
	// Properties are visible to Python code as the dict `properties`.
	Properties    map[string]string
	PropertyOrder []string
	Metrics       *MetricsConfig
	Pos           Pos
}

// MetricsConfig is the seed dialect's metrics block.
type MetricsConfig struct {
	Enabled  bool
	Reporter string
	Tags     map[string]string
	Pos      Pos
}
