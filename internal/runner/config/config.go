// Package config reads the runner configuration, ksml-runner.yaml: which
// KSML definitions to run, where directories are, error handling, the
// Prometheus and application-server endpoints, Python permissions,
// notations, schema registries and the Kafka client properties.
//
// It accepts upstream KSML's runner configuration unchanged
// (ksml-runner-spec.json) with upstream's defaults, and adds three things:
//
//   - ${NAME}, ${NAME:default} and ${NAME:-default} are replaced by
//     environment variables in every scalar value of the configuration
//     (not in keys, and not inside inline definitions, whose Python code
//     is left as written); $${ writes a literal ${. The default applies
//     when the variable is unset or empty; an unset variable without a
//     default is an error. Kafka's env config provider form ${env:NAME},
//     which upstream's Helm chart writes, reads the variable NAME.
//   - errorHandling.<kind>.deadLetterTopic names a topic that receives
//     records that failed, with headers describing the error.
//   - ksml.properties overrides entries of the definitions'
//     configuration.properties (the seed document's configuration block).
//   - kafka.bootstrap.servers may be left out: the runner then starts the
//     embedded broker.
//   - ksml.pythonContext.functionTimeout bounds each Python call and
//     ksml.pythonContext.venv adds a virtual environment (docs/python.md).
//
// Parsing is strict like upstream's: unknown keys (with a "did you mean"
// hint), duplicate keys, wrong value types and out-of-range values are
// errors. Every problem of a file is reported in one run, each as
// file:line:col: message, sorted by position. Load never panics on bad
// input.
//
// Directories and definition files are checked separately, by Resolve, so
// a configuration can be loaded (for validation or tooling) on a machine
// that does not have its directories.
package config

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Config is a parsed runner configuration.
type Config struct {
	// File is the path the configuration was read from, as given.
	File string
	// KSML is the `ksml` section.
	KSML KSML
	// Kafka is the `kafka` section.
	Kafka Kafka
	// Warnings are problems that do not stop startup (for example a
	// notation naming an undefined schema registry); the runner logs them.
	Warnings []Diagnostic
}

// KSML is the `ksml` section.
type KSML struct {
	// ConfigDirectory holds the definition files; relative paths are
	// relative to the working directory. Empty means the working
	// directory, as upstream.
	ConfigDirectory string
	// SchemaDirectory holds schema files. Empty means the working
	// directory (upstream's default, not the config directory).
	SchemaDirectory string
	// StorageDirectory holds state stores. Empty means the working
	// directory.
	StorageDirectory string
	// CreateStorageDirectory creates StorageDirectory when missing.
	// Default false.
	CreateStorageDirectory bool

	// Definitions are the namespaces to run, in file order.
	Definitions []Definition

	// EnableProducers runs the definitions' producers. Default true.
	EnableProducers bool
	// EnablePipelines runs the definitions' pipelines. Default true.
	EnablePipelines bool

	ErrorHandling     ErrorHandling
	Prometheus        Prometheus
	ApplicationServer ApplicationServer
	PythonContext     PythonContext

	// Notations configures named notations, in file order.
	Notations []Notation
	// SchemaRegistries configures named schema registries, in file order.
	SchemaRegistries []SchemaRegistry

	// Properties overrides the definitions' configuration.properties
	// (extension). Nil when absent.
	Properties map[string]string

	// Pos locates keys of this section, see Config.Pos.
	pos map[string]Pos
}

// Definition is one entry of ksml.definitions: a namespace and either a
// file or an inline definition.
type Definition struct {
	// Namespace is the map key; it prefixes generated names.
	Namespace string
	// File is the definition file as written, relative to the config
	// directory (or absolute). Empty for inline definitions.
	File string
	// Inline is the inline definition's mapping node, with source
	// positions, for the definition parser; nil for file definitions.
	// Environment variables are not substituted inside it.
	Inline *yaml.Node
	// Pos is where the namespace key is written.
	Pos Pos
}

// ErrorHandling is ksml.errorHandling: one handler per error kind.
type ErrorHandling struct {
	// Consume handles records that cannot be deserialized.
	Consume ErrorHandler
	// Process handles errors raised while processing a record.
	Process ErrorHandler
	// Produce handles records that cannot be serialized or produced.
	Produce ErrorHandler
}

// ErrorHandler configures how one kind of error is handled.
type ErrorHandler struct {
	// Log logs the error. Default true.
	Log bool
	// LogPayload includes key and value in the log. Default false.
	LogPayload bool
	// LoggerName names the logger. Defaults: ConsumeError, ProcessError,
	// ProduceError.
	LoggerName string
	// Handler says what happens after the error. Default StopOnFail.
	Handler Handler
	// DeadLetterTopic, if set, receives the failed record (extension).
	DeadLetterTopic string
}

// Handler is what the runner does after an error.
type Handler string

// The handlers. RetryOnFail is valid for produce errors only.
const (
	StopOnFail     Handler = "stopOnFail"
	ContinueOnFail Handler = "continueOnFail"
	RetryOnFail    Handler = "retryOnFail"
)

// Prometheus is ksml.prometheus.
type Prometheus struct {
	// Enabled starts the metrics endpoint. Default false.
	Enabled bool
	// Host to bind. Default 0.0.0.0.
	Host string
	// Port to bind. Default 9999.
	Port int
	// ConfigFile is upstream's JMX exporter rule file; empty means the
	// built-in rules.
	ConfigFile string
}

// Addr returns host:port of the endpoint.
func (p Prometheus) Addr() string { return joinHostPort(p.Host, p.Port) }

// ApplicationServer is ksml.applicationServer: health and store queries.
type ApplicationServer struct {
	// Enabled starts the server. Default false.
	Enabled bool
	// Host to bind. Default 0.0.0.0.
	Host string
	// Port to bind. Default 8080.
	Port int
}

// Addr returns host:port of the server.
func (a ApplicationServer) Addr() string { return joinHostPort(a.Host, a.Port) }

// PythonContext is ksml.pythonContext. All permissions default to false.
type PythonContext struct {
	AllowHostFileAccess         bool
	AllowHostSocketAccess       bool
	AllowNativeAccess           bool
	AllowCreateProcess          bool
	AllowCreateThread           bool
	InheritEnvironmentVariables bool
	// ModulePath is a directory of user Python modules; empty means none.
	ModulePath string
	// Venv is a Python virtual environment whose site-packages functions
	// can import from; empty means none (VIRTUAL_ENV still adds one).
	Venv string
	// FunctionTimeout bounds each Python call (functionTimeout, an
	// addition to upstream's settings); 0 means the default (10s) and a
	// negative value, from functionTimeout: 0 or off, disables it.
	FunctionTimeout time.Duration
}

// NotationType is the implementation behind a configured notation.
type NotationType string

// The notation types upstream accepts.
const (
	ApicurioAvro       NotationType = "apicurio_avro"
	ConfluentAvro      NotationType = "confluent_avro"
	ApicurioJSONSchema NotationType = "apicurio_jsonschema"
	ApicurioProtobuf   NotationType = "apicurio_protobuf"
	CSV                NotationType = "csv"
	XML                NotationType = "xml"
	JSON               NotationType = "json"
	Binary             NotationType = "binary"
)

var notationTypes = []NotationType{ApicurioAvro, ConfluentAvro, ApicurioJSONSchema, ApicurioProtobuf, CSV, XML, JSON, Binary}

// Notation is one entry of ksml.notations.
type Notation struct {
	// Name is the notation name used in types (avro:Schema).
	Name string
	Type NotationType
	// SchemaRegistry names an entry of ksml.schemaRegistries; may be empty.
	SchemaRegistry string
	// Config holds serializer properties; never nil.
	Config map[string]string
	Pos    Pos
}

// SchemaRegistry is one entry of ksml.schemaRegistries.
type SchemaRegistry struct {
	Name string
	// Config holds the registry client properties; never nil.
	Config map[string]string
	Pos    Pos
}

// Kafka is the `kafka` section: Java client property names and values, as
// written (numbers and booleans as their text).
type Kafka struct {
	// Properties holds every property; never nil.
	Properties map[string]string
	// pos locates each property's value.
	pos map[string]Pos
}

// The Kafka properties the runner itself reads.
const (
	ApplicationIDKey    = "application.id"
	BootstrapServersKey = "bootstrap.servers"
)

// ApplicationID returns application.id.
func (k Kafka) ApplicationID() string { return k.Properties[ApplicationIDKey] }

// BootstrapServers returns bootstrap.servers, empty when not configured.
func (k Kafka) BootstrapServers() string { return k.Properties[BootstrapServersKey] }

// UseEmbeddedBroker reports whether no bootstrap.servers is configured, so
// the runner starts the embedded broker.
func (k Kafka) UseEmbeddedBroker() bool { return k.BootstrapServers() == "" }

// Pos returns where the value of property key is written; the zero Pos if
// the property did not come from a file.
func (k Kafka) Pos(key string) Pos { return k.pos[key] }

// Pos returns where the value at a dotted path of the `ksml` section is
// written, for example "prometheus.port" or "errorHandling.process.handler";
// the zero Pos if it is not in the file.
func (k KSML) Pos(path string) Pos { return k.pos[path] }

// Default returns the configuration upstream uses when a key is absent,
// with no definitions and no Kafka properties.
func Default() *Config {
	return &Config{
		KSML: KSML{
			EnableProducers: true,
			EnablePipelines: true,
			ErrorHandling: ErrorHandling{
				Consume: defaultHandler("ConsumeError"),
				Process: defaultHandler("ProcessError"),
				Produce: defaultHandler("ProduceError"),
			},
			Prometheus:        Prometheus{Host: "0.0.0.0", Port: 9999},
			ApplicationServer: ApplicationServer{Host: "0.0.0.0", Port: 8080},
			pos:               map[string]Pos{},
		},
		Kafka: Kafka{Properties: map[string]string{}, pos: map[string]Pos{}},
	}
}

func defaultHandler(logger string) ErrorHandler {
	return ErrorHandler{Log: true, LoggerName: logger, Handler: StopOnFail}
}
