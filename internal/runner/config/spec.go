package config

import "github.com/ksml-dev/ksml/internal/yamlspec"

// The runner configuration's keys as data. The decoder accepts exactly
// these keys (decoder.fields checks every mapping against its spec) and
// `ksml schema --runner` renders them, so what Load accepts and the
// published schema cannot drift apart.

func str(name, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.String, Doc: doc}
}

func boolean(name, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Bool, Doc: doc}
}

func object(name, doc string, spec *yamlspec.Spec) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Object, Doc: doc, Object: spec}
}

// scalars is a mapping of names to strings, numbers or booleans.
func scalars(name, doc string) yamlspec.Field {
	return yamlspec.Field{Name: name, Kind: yamlspec.Map, Doc: doc, Elem: &yamlspec.Field{Kind: yamlspec.Scalar}}
}

func errorHandlerSpec(kind string, handlers []string) *yamlspec.Spec {
	return &yamlspec.Spec{Name: kind + "ErrorHandler", Doc: "How " + kind + " errors are handled", Fields: []yamlspec.Field{
		boolean("log", "Log the error (default true)"),
		boolean("logPayload", "Include key and value in the log (default false)"),
		str("loggerName", "The logger's name"),
		{Name: "handler", Kind: yamlspec.Enum, Enum: handlers, Doc: "What happens after the error (default stopOnFail)"},
		str("deadLetterTopic", "A topic that receives the failed record, with headers describing the error"),
	}}
}

var (
	endpointFields = func(what string, port int) []yamlspec.Field {
		return []yamlspec.Field{
			boolean("enabled", "Start the "+what+" (default false)"),
			str("host", "The address to bind (default 0.0.0.0)"),
			{Name: "port", Kind: yamlspec.Port, Doc: "The port to bind (default " + itoa(port) + ")"},
		}
	}
	prometheusSpec = &yamlspec.Spec{Name: "Prometheus", Doc: "The Prometheus metrics endpoint",
		Fields: append(endpointFields("metrics endpoint", 9999),
			str("configFile", "Upstream's JMX exporter rule file (not used: metrics have upstream's names already)"))}
	applicationServerSpec = &yamlspec.Spec{Name: "ApplicationServer", Doc: "The health and state-store query server",
		Fields: endpointFields("server", 8080)}
	pythonContextSpec = &yamlspec.Spec{Name: "PythonContext", Doc: "What Python functions may do (every permission defaults to false)", Fields: []yamlspec.Field{
		boolean("allowHostFileAccess", "Allow access to the host's files"),
		boolean("allowHostSocketAccess", "Allow network sockets"),
		boolean("allowNativeAccess", "Allow native code"),
		boolean("allowCreateProcess", "Allow starting processes"),
		boolean("allowCreateThread", "Allow starting threads"),
		boolean("inheritEnvironmentVariables", "Let functions see the runner's environment"),
		str("modulePath", "A directory of Python modules functions can import"),
		str("venv", "A Python virtual environment whose site-packages functions can import from"),
		{Name: "functionTimeout", Kind: yamlspec.Duration, Doc: "Bounds each Python call (default 10s); 0 or off disables it",
			Schema: map[string]any{"anyOf": []any{
				map[string]any{"type": "integer", "minimum": 0},
				map[string]any{"type": "string", "pattern": "^\\s*([+]?[0-9]+\\s*([mM][sS]|[sSmMhHdDwW])?|[oO][fF][fF])\\s*$|\\$\\{"},
			}}},
	}}
	notationSpec = &yamlspec.Spec{Name: "Notation", Doc: "A named notation", Fields: []yamlspec.Field{
		{Name: "type", Kind: yamlspec.Enum, Enum: notationTypeNames(), Required: true, Doc: "The implementation behind the notation"},
		str("schemaRegistry", "The name of an entry of ksml.schemaRegistries"),
		scalars("config", "Serializer properties"),
	}}
	schemaRegistrySpec = &yamlspec.Spec{Name: "SchemaRegistry", Doc: "A named schema registry", Fields: []yamlspec.Field{
		scalars("config", "Registry client properties (e.g. schema.registry.url)"),
	}}
	errorHandlingSpec = &yamlspec.Spec{Name: "ErrorHandling", Doc: "One handler per kind of error", Fields: []yamlspec.Field{
		object("consume", "Records that cannot be deserialized", errorHandlerSpec("consume", []string{string(StopOnFail), string(ContinueOnFail)})),
		object("process", "Errors raised while processing a record", errorHandlerSpec("process", []string{string(StopOnFail), string(ContinueOnFail)})),
		object("produce", "Records that cannot be serialized or produced", errorHandlerSpec("produce", []string{string(StopOnFail), string(ContinueOnFail), string(RetryOnFail)})),
	}}
	ksmlSpec = &yamlspec.Spec{Name: "KSML", Doc: "What to run and how", Fields: []yamlspec.Field{
		str("configDirectory", "Holds the definition files (default: the working directory)"),
		str("schemaDirectory", "Holds schema files (default: the working directory)"),
		str("storageDirectory", "Holds state stores (default: the working directory)"),
		boolean("createStorageDirectory", "Create storageDirectory when missing (default false)"),
		boolean("enableProducers", "Run the definitions' producers (default true)"),
		boolean("enablePipelines", "Run the definitions' pipelines (default true)"),
		{Name: "definitions", Kind: yamlspec.Map, Required: true, Doc: "The definitions to run, as <namespace>: <file> or <namespace>: <inline definition>",
			Elem: &yamlspec.Field{Kind: yamlspec.Any, Schema: map[string]any{"type": []any{"string", "object", "null"}}}},
		object("errorHandling", "How consume, process and produce errors are handled", errorHandlingSpec),
		object("prometheus", "The Prometheus metrics endpoint", prometheusSpec),
		object("applicationServer", "The health and state-store query server", applicationServerSpec),
		object("pythonContext", "What Python functions may do", pythonContextSpec),
		{Name: "notations", Kind: yamlspec.Map, Doc: "Named notations", Elem: &yamlspec.Field{Kind: yamlspec.Object, Object: notationSpec}},
		{Name: "schemaRegistries", Kind: yamlspec.Map, Doc: "Named schema registries", Elem: &yamlspec.Field{Kind: yamlspec.Object, Object: schemaRegistrySpec}},
		scalars("properties", "Overrides the definitions' configuration.properties"),
	}}
	kafkaSpec = &yamlspec.Spec{Name: "Kafka", Doc: "Kafka client properties, with Java client names", Fields: []yamlspec.Field{
		{Name: ApplicationIDKey, Kind: yamlspec.Scalar, Required: true, Doc: "The application id: consumer group and prefix of internal topics"},
		{Name: BootstrapServersKey, Kind: yamlspec.Scalar, Doc: "The brokers; left out, the embedded broker is started"},
	}, Extra: &yamlspec.Field{Kind: yamlspec.Scalar}}
	// runnerSpec is the whole file.
	runnerSpec = &yamlspec.Spec{Name: "RunnerConfiguration", Doc: "A KSML runner configuration", Fields: []yamlspec.Field{
		{Name: "ksml", Kind: yamlspec.Object, Object: ksmlSpec, Required: true, Doc: "What to run and how"},
		{Name: "kafka", Kind: yamlspec.Object, Object: kafkaSpec, Required: true, Doc: "Kafka client properties"},
	}}
)

// JSONSchema returns the JSON schema (draft 2020-12) of runner
// configuration files, generated from the same specs the decoder checks
// keys against.
func JSONSchema() ([]byte, error) {
	return yamlspec.JSONSchema(runnerSpec, yamlspec.SchemaInfo{
		ID:           "https://ksml.dev/schemas/ksml-runner.json",
		Title:        "KSML runner configuration",
		Description:  "ksml-runner.yaml: which KSML definitions to run, directories, error handling, endpoints, Python permissions, notations, schema registries and Kafka client properties",
		Substitution: true,
	})
}
