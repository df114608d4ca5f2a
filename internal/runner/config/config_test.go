package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func parse(t *testing.T, src string, vars map[string]string) *Config {
	t.Helper()
	cfg, err := Parse("ksml-runner.yaml", []byte(src), Options{LookupEnv: env(vars)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func parseErr(t *testing.T, src string, vars map[string]string) string {
	t.Helper()
	_, err := Parse("ksml-runner.yaml", []byte(src), Options{LookupEnv: env(vars)})
	if err == nil {
		t.Fatalf("Parse succeeded, want an error")
	}
	if _, ok := err.(Errors); !ok {
		t.Fatalf("error is %T, want Errors", err)
	}
	return err.Error()
}

const minimal = `
ksml:
  definitions:
    main: main.yaml
kafka:
  application.id: app
  bootstrap.servers: localhost:9092
`

func TestDefaultsMatchUpstream(t *testing.T) {
	cfg := parse(t, minimal, nil)
	k := cfg.KSML
	if k.ConfigDirectory != "" || k.SchemaDirectory != "" || k.StorageDirectory != "" || k.CreateStorageDirectory {
		t.Errorf("directories: %q %q %q %v, want working-directory defaults", k.ConfigDirectory, k.SchemaDirectory, k.StorageDirectory, k.CreateStorageDirectory)
	}
	if !k.EnableProducers || !k.EnablePipelines {
		t.Errorf("enableProducers=%v enablePipelines=%v, want true/true", k.EnableProducers, k.EnablePipelines)
	}
	wantEH := ErrorHandling{
		Consume: ErrorHandler{Log: true, LogPayload: false, LoggerName: "ConsumeError", Handler: StopOnFail},
		Process: ErrorHandler{Log: true, LogPayload: false, LoggerName: "ProcessError", Handler: StopOnFail},
		Produce: ErrorHandler{Log: true, LogPayload: false, LoggerName: "ProduceError", Handler: StopOnFail},
	}
	if k.ErrorHandling != wantEH {
		t.Errorf("errorHandling = %+v, want %+v", k.ErrorHandling, wantEH)
	}
	if want := (Prometheus{Enabled: false, Host: "0.0.0.0", Port: 9999}); k.Prometheus != want {
		t.Errorf("prometheus = %+v, want %+v", k.Prometheus, want)
	}
	if want := (ApplicationServer{Enabled: false, Host: "0.0.0.0", Port: 8080}); k.ApplicationServer != want {
		t.Errorf("applicationServer = %+v, want %+v", k.ApplicationServer, want)
	}
	if k.PythonContext != (PythonContext{}) {
		t.Errorf("pythonContext = %+v, want all false", k.PythonContext)
	}
	if k.Notations != nil || k.SchemaRegistries != nil || k.Properties != nil {
		t.Errorf("notations/registries/properties should be absent")
	}
	if want := []Definition{{Namespace: "main", File: "main.yaml", Pos: Pos{File: "ksml-runner.yaml", Line: 4, Col: 5}}}; !reflect.DeepEqual(k.Definitions, want) {
		t.Errorf("definitions = %+v, want %+v", k.Definitions, want)
	}
	if want := map[string]string{"application.id": "app", "bootstrap.servers": "localhost:9092"}; !reflect.DeepEqual(cfg.Kafka.Properties, want) {
		t.Errorf("kafka = %v, want %v", cfg.Kafka.Properties, want)
	}
	if cfg.Kafka.UseEmbeddedBroker() {
		t.Error("UseEmbeddedBroker with bootstrap.servers set")
	}
	if p := cfg.Kafka.Pos("bootstrap.servers"); p != (Pos{File: "ksml-runner.yaml", Line: 7, Col: 22}) {
		t.Errorf("Pos(bootstrap.servers) = %v", p)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

func TestEveryKey(t *testing.T) {
	cfg := parse(t, `
ksml:
  configDirectory: defs
  schemaDirectory: schemas
  storageDirectory: state
  createStorageDirectory: true
  enableProducers: false
  enablePipelines: "FALSE"
  applicationServer:
    enabled: true
    host: 127.0.0.1
    port: 8081
  prometheus:
    enabled: true
    host: localhost
    port: "9100"
    configFile: rules.yaml
  errorHandling:
    consume:
      log: false
      logPayload: true
      loggerName: C
      handler: continueOnFail
      deadLetterTopic: dlq-consume
    process:
      handler: continueOnFail
      deadLetterTopic: dlq-process
    produce:
      handler: retryOnFail
  pythonContext:
    allowHostFileAccess: true
    allowHostSocketAccess: true
    allowNativeAccess: true
    allowCreateProcess: true
    allowCreateThread: true
    inheritEnvironmentVariables: true
    modulePath: /opt/py
  schemaRegistries:
    confluent:
      config:
        schema.registry.url: http://sr:8081
    apicurio:
  notations:
    avro:
      type: confluent_avro
      schemaRegistry: confluent
      config:
        normalize.schemas: true
        max: 10
    plain:
      type: json
      config:
  properties:
    service.discovery.url: http://registry:8500
  definitions:
    one: one.yaml
    two:
      streams:
        s:
          topic: t
kafka:
  application.id: app
  acks: all
  linger.ms: 5
  enable.idempotence: true
`, nil)
	k := cfg.KSML
	if k.ConfigDirectory != "defs" || k.SchemaDirectory != "schemas" || k.StorageDirectory != "state" || !k.CreateStorageDirectory {
		t.Errorf("directories: %+v", k)
	}
	if k.EnableProducers || k.EnablePipelines {
		t.Errorf("enableProducers=%v enablePipelines=%v, want false/false", k.EnableProducers, k.EnablePipelines)
	}
	if want := (ApplicationServer{true, "127.0.0.1", 8081}); k.ApplicationServer != want {
		t.Errorf("applicationServer = %+v", k.ApplicationServer)
	}
	if k.ApplicationServer.Addr() != "127.0.0.1:8081" {
		t.Errorf("Addr = %s", k.ApplicationServer.Addr())
	}
	if want := (Prometheus{true, "localhost", 9100, "rules.yaml"}); k.Prometheus != want {
		t.Errorf("prometheus = %+v", k.Prometheus)
	}
	wantEH := ErrorHandling{
		Consume: ErrorHandler{Log: false, LogPayload: true, LoggerName: "C", Handler: ContinueOnFail, DeadLetterTopic: "dlq-consume"},
		Process: ErrorHandler{Log: true, LoggerName: "ProcessError", Handler: ContinueOnFail, DeadLetterTopic: "dlq-process"},
		Produce: ErrorHandler{Log: true, LoggerName: "ProduceError", Handler: RetryOnFail},
	}
	if k.ErrorHandling != wantEH {
		t.Errorf("errorHandling = %+v", k.ErrorHandling)
	}
	if want := (PythonContext{true, true, true, true, true, true, "/opt/py", "", 0}); k.PythonContext != want {
		t.Errorf("pythonContext = %+v", k.PythonContext)
	}
	wantSR := []SchemaRegistry{
		{Name: "confluent", Config: map[string]string{"schema.registry.url": "http://sr:8081"}, Pos: Pos{File: "ksml-runner.yaml", Line: 39, Col: 5}},
		{Name: "apicurio", Config: map[string]string{}, Pos: Pos{File: "ksml-runner.yaml", Line: 42, Col: 5}},
	}
	if !reflect.DeepEqual(k.SchemaRegistries, wantSR) {
		t.Errorf("schemaRegistries = %+v", k.SchemaRegistries)
	}
	wantNT := []Notation{
		{Name: "avro", Type: ConfluentAvro, SchemaRegistry: "confluent", Config: map[string]string{"normalize.schemas": "true", "max": "10"}, Pos: Pos{File: "ksml-runner.yaml", Line: 44, Col: 5}},
		{Name: "plain", Type: JSON, Config: map[string]string{}, Pos: Pos{File: "ksml-runner.yaml", Line: 50, Col: 5}},
	}
	if !reflect.DeepEqual(k.Notations, wantNT) {
		t.Errorf("notations = %+v", k.Notations)
	}
	if want := map[string]string{"service.discovery.url": "http://registry:8500"}; !reflect.DeepEqual(k.Properties, want) {
		t.Errorf("properties = %v", k.Properties)
	}
	if len(k.Definitions) != 2 || k.Definitions[0].File != "one.yaml" || k.Definitions[1].Namespace != "two" || k.Definitions[1].Inline == nil {
		t.Fatalf("definitions = %+v", k.Definitions)
	}
	in := k.Definitions[1].Inline
	if in.Kind != yaml.MappingNode || in.Line != 58 || in.Column != 7 || in.Content[0].Value != "streams" {
		t.Errorf("inline definition node at %d:%d kind %v", in.Line, in.Column, in.Kind)
	}
	if want := map[string]string{"application.id": "app", "acks": "all", "linger.ms": "5", "enable.idempotence": "true"}; !reflect.DeepEqual(cfg.Kafka.Properties, want) {
		t.Errorf("kafka = %v", cfg.Kafka.Properties)
	}
	if !cfg.Kafka.UseEmbeddedBroker() {
		t.Error("no bootstrap.servers: UseEmbeddedBroker should be true")
	}
	wantWarn := []Diagnostic{{Pos: Pos{File: "ksml-runner.yaml", Line: 17, Col: 17}, Msg: "ksml.prometheus.configFile is a JMX exporter rule file, which ksml does not use: its metrics have upstream's names already"}}
	if !reflect.DeepEqual(cfg.Warnings, wantWarn) {
		t.Errorf("warnings = %v", cfg.Warnings)
	}
	if p := k.Pos("prometheus.port"); p != (Pos{File: "ksml-runner.yaml", Line: 16, Col: 11}) {
		t.Errorf("Pos(prometheus.port) = %v", p)
	}
}

func TestErrorsNamePositions(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown top-level key", minimal + "extra: 1\n",
			`ksml-runner.yaml:8:1: unknown key "extra" at the top level (known keys: ksml, kafka)`},
		{"typo with suggestion", "ksml:\n  definitions: {a: a.yaml}\n  schemaRegsitry: {}\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:3:3: unknown key "schemaRegsitry" in ksml (did you mean "schemaRegistries"?)`},
		{"typo in nested key", "ksml:\n  definitions: {a: a.yaml}\n  prometheus:\n    enabeld: true\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:4:5: unknown key "enabeld" in ksml.prometheus (did you mean "enabled"?)`},
		{"duplicate key", "ksml:\n  definitions: {a: a.yaml}\nkafka:\n  application.id: x\n  acks: all\n  acks: 1\n",
			`ksml-runner.yaml:6:3: duplicate key "acks" (first defined at line 5)`},
		{"duplicate key in inline definition", "ksml:\n  definitions:\n    a:\n      streams: {}\n      streams: {}\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:7: duplicate key "streams" (first defined at line 4)`},
		{"missing sections", "other: 1\n",
			"ksml-runner.yaml:1:1: unknown key \"other\" at the top level (known keys: ksml, kafka)\nksml-runner.yaml:1:1: missing required section ksml\nksml-runner.yaml:1:1: missing required section kafka"},
		{"missing definitions", "ksml:\n  enablePipelines: true\nkafka: {application.id: x}\n",
			"ksml-runner.yaml:1:1: ksml.definitions is required: name at least one definition, as <namespace>: <file>"},
		{"empty definitions", "ksml:\n  definitions: {}\nkafka: {application.id: x}\n",
			"ksml-runner.yaml:2:3: ksml.definitions is empty: name at least one definition, as <namespace>: <file>"},
		{"definition is a list", "ksml:\n  definitions:\n    a: [x]\nkafka: {application.id: x}\n",
			"ksml-runner.yaml:3:8: ksml.definitions.a must be a definition file name or an inline definition (a mapping), not a list"},
		{"missing application id", "ksml:\n  definitions: {a: a.yaml}\nkafka:\n  bootstrap.servers: b:9092\n",
			"ksml-runner.yaml:3:1: kafka.application.id is required"},
		{"blank application id and bootstrap", "ksml:\n  definitions: {a: a.yaml}\nkafka:\n  application.id: ' '\n  bootstrap.servers: ''\n",
			"ksml-runner.yaml:4:19: kafka.application.id must not be empty\nksml-runner.yaml:5:22: kafka.bootstrap.servers must not be empty (leave it out to use the embedded broker)"},
		{"null kafka value", "ksml:\n  definitions: {a: a.yaml}\nkafka:\n  application.id: x\n  acks:\n",
			"ksml-runner.yaml:5:3: kafka.acks has no value; give one or remove the key"},
		{"kafka section is a list", "ksml:\n  definitions: {a: a.yaml}\nkafka: [a]\n",
			"ksml-runner.yaml:3:8: kafka must be a mapping, not a list"},
		{"bad boolean", "ksml:\n  definitions: {a: a.yaml}\n  enableProducers: yes\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:3:20: ksml.enableProducers must be true or false, not "yes"`},
		{"bad port", "ksml:\n  definitions: {a: a.yaml}\n  applicationServer:\n    enabled: true\n    port: http\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:11: ksml.applicationServer.port must be a port number, not "http"`},
		{"port out of range", "ksml:\n  definitions: {a: a.yaml}\n  prometheus:\n    port: 0\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:4:11: ksml.prometheus.port must be between 1 and 65535, not 0`},
		{"blank host", "ksml:\n  definitions: {a: a.yaml}\n  prometheus:\n    host: ''\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:4:11: ksml.prometheus.host must not be empty`},
		{"unknown handler", "ksml:\n  definitions: {a: a.yaml}\n  errorHandling:\n    produce:\n      handler: continueOnFial\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:16: ksml.errorHandling.produce.handler: unknown handler "continueOnFial" (did you mean "continueOnFail"?)`},
		{"retry for consume", "ksml:\n  definitions: {a: a.yaml}\n  errorHandling:\n    consume:\n      handler: retryOnFail\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:16: ksml.errorHandling.consume.handler: retryOnFail is only supported for produce errors; use stopOnFail or continueOnFail`},
		{"unknown notation type", "ksml:\n  definitions: {a: a.yaml}\n  notations:\n    avro:\n      type: protobuf\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:13: ksml.notations.avro.type: unknown notation type "protobuf" (valid: apicurio_avro, confluent_avro, apicurio_jsonschema, apicurio_protobuf, csv, xml, json, binary)`},
		{"notation without type", "ksml:\n  definitions: {a: a.yaml}\n  notations:\n    avro:\n      schemaRegistry: sr\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:4:5: ksml.notations.avro needs a type (one of apicurio_avro, confluent_avro, apicurio_jsonschema, apicurio_protobuf, csv, xml, json, binary)`},
		{"registry with unknown key", "ksml:\n  definitions: {a: a.yaml}\n  schemaRegistries:\n    sr:\n      url: http://x\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:7: unknown key "url" in ksml.schemaRegistries.sr (known keys: config)`},
		{"nested map in string map", "ksml:\n  definitions: {a: a.yaml}\n  properties:\n    a:\n      b: c\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:7: ksml.properties.a must be a string, number or boolean, not a mapping`},
		{"bad dead letter topic", "ksml:\n  definitions: {a: a.yaml}\n  errorHandling:\n    process:\n      deadLetterTopic: bad topic\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:5:24: ksml.errorHandling.process.deadLetterTopic: topic name "bad topic" has ' '; Kafka allows letters, digits, '.', '_' and '-'`},
		{"unset variable", "ksml:\n  definitions: {a: a.yaml}\nkafka:\n  application.id: ${APP_ID}\n",
			`ksml-runner.yaml:4:19: kafka.application.id: environment variable APP_ID is not set (write ${APP_ID:default} to give a default)`},
		{"unterminated variable", "ksml:\n  definitions: {a: a.yaml}\n  storageDirectory: ${STATE\nkafka: {application.id: x}\n",
			`ksml-runner.yaml:3:21: ksml.storageDirectory: unterminated ${ in "${STATE" (write $${ for a literal ${)`},
		{"yaml syntax error", "ksml:\n\tdefinitions: {}\n",
			`ksml-runner.yaml:2:1: YAML syntax error: found character that cannot start any token (YAML does not allow tabs for indentation)`},
		{"empty file", "# nothing\n",
			`ksml-runner.yaml: the runner configuration is empty; it needs a ksml and a kafka section`},
		{"not a mapping", "- a\n",
			`ksml-runner.yaml:1:1: the runner configuration must be a mapping with ksml and kafka sections, not a list`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseErr(t, c.src, nil); got != c.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestAllErrorsInOneRun(t *testing.T) {
	src := `ksml:
  definitions:
    a: a.yaml
  schemaRegsitry: x
  prometheus:
    enabled: yes
    port: 70000
  errorHandling:
    consume:
      handler: retryOnFail
    process:
      handler: continueOnFial
  notations:
    avro:
      type: confluent_avor
kafka:
  application.id: ${APP_ID}
  acks: all
  acks: 1
  nested:
    x: 1
extra: 1
`
	want := `ksml-runner.yaml:4:3: unknown key "schemaRegsitry" in ksml (did you mean "schemaRegistries"?)
ksml-runner.yaml:6:14: ksml.prometheus.enabled must be true or false, not "yes"
ksml-runner.yaml:7:11: ksml.prometheus.port must be between 1 and 65535, not 70000
ksml-runner.yaml:10:16: ksml.errorHandling.consume.handler: retryOnFail is only supported for produce errors; use stopOnFail or continueOnFail
ksml-runner.yaml:12:16: ksml.errorHandling.process.handler: unknown handler "continueOnFial" (did you mean "continueOnFail"?)
ksml-runner.yaml:15:13: ksml.notations.avro.type: unknown notation type "confluent_avor" (did you mean "confluent_avro"?)
ksml-runner.yaml:17:19: kafka.application.id: environment variable APP_ID is not set (write ${APP_ID:default} to give a default)
ksml-runner.yaml:19:3: duplicate key "acks" (first defined at line 18)
ksml-runner.yaml:21:5: kafka.nested must be a string, number or boolean, not a mapping
ksml-runner.yaml:22:1: unknown key "extra" at the top level (known keys: ksml, kafka)`
	if got := parseErr(t, src, nil); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}

func TestWarnings(t *testing.T) {
	cfg := parse(t, `ksml:
  definitions:
    a: a.yaml
    skipped:
  schemaRegistries:
    confluent: {}
  notations:
    avro:
      type: confluent_avro
      schemaRegistry: confluen
kafka: {application.id: x}
`, nil)
	want := []Diagnostic{
		{Pos: Pos{File: "ksml-runner.yaml", Line: 4, Col: 5}, Msg: "ksml.definitions.skipped has no definition file or inline definition; it is skipped"},
		{Pos: Pos{File: "ksml-runner.yaml", Line: 8, Col: 5}, Msg: `notation avro uses schema registry "confluen", which ksml.schemaRegistries does not define (did you mean "confluent"?)`},
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings = %v, want %v", cfg.Warnings, want)
	}
	if len(cfg.KSML.Definitions) != 1 {
		t.Errorf("definitions = %+v, want only a", cfg.KSML.Definitions)
	}
}

func TestEnvironmentSubstitution(t *testing.T) {
	vars := map[string]string{"APP": "orders", "PORT": "9101", "ON": "true", "EMPTY": "", "BROKERS": "k1:9092,k2:9092"}
	cfg := parse(t, `ksml:
  definitions:
    main: ${DEF_FILE:main.yaml}
    inline:
      functions:
        f:
          code: return "${NOT_SUBSTITUTED}"
  prometheus:
    enabled: ${ON}
    port: ${PORT}
  storageDirectory: /var/${APP}/state
  properties:
    url: http://${HOST:-localhost}:${EMPTY:8500}/x
    literal: $${APP}
kafka:
  application.id: ${APP}-app
  bootstrap.servers: "${BROKERS}"
  client.id: "${EMPTY}"
`, vars)
	k := cfg.KSML
	if k.Definitions[0].File != "main.yaml" {
		t.Errorf("definition file = %q", k.Definitions[0].File)
	}
	code := k.Definitions[1].Inline.Content[1].Content[1].Content[1]
	if code.Value != `return "${NOT_SUBSTITUTED}"` {
		t.Errorf("inline definition was changed: %q", code.Value)
	}
	if !k.Prometheus.Enabled || k.Prometheus.Port != 9101 {
		t.Errorf("prometheus = %+v", k.Prometheus)
	}
	if k.StorageDirectory != "/var/orders/state" {
		t.Errorf("storageDirectory = %q", k.StorageDirectory)
	}
	if want := map[string]string{"url": "http://localhost:8500/x", "literal": "${APP}"}; !reflect.DeepEqual(k.Properties, want) {
		t.Errorf("properties = %v", k.Properties)
	}
	if want := map[string]string{"application.id": "orders-app", "bootstrap.servers": "k1:9092,k2:9092", "client.id": ""}; !reflect.DeepEqual(cfg.Kafka.Properties, want) {
		t.Errorf("kafka = %v", cfg.Kafka.Properties)
	}
}

func TestExpandEnv(t *testing.T) {
	vars := env(map[string]string{"A": "1", "E": ""})
	cases := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${A}z", "x1y1z", ""},
		{"${B:def}", "def", ""},
		{"${B:-def}", "def", ""},
		{"${B:}", "", ""},
		{"${E:def}", "def", ""},
		{"${E}", "", ""},
		{"${A:def}", "1", ""},
		{"${B:a:b}", "a:b", ""},
		{"$${A}", "${A}", ""},
		{"$A ${A}", "$A 1", ""},
		{"${B}", "", "environment variable B is not set (write ${B:default} to give a default)"},
		{"${}", "", `invalid environment variable name "" in ${}`},
		{"${1A}", "", `invalid environment variable name "1A" in ${1A}`},
		{"${A", "", `unterminated ${ in "${A" (write $${ for a literal ${)`},
		{"${env:A}", "1", ""},
		{"pod-${env:A}", "pod-1", ""},
		{"${env::A}", "1", ""},
		{"${env:E}", "", ""},
		{"${env:B}", "", "environment variable B is not set (${env:B} reads it through Kafka's env config provider)"},
		{"${env:}", "", `invalid environment variable name "" in ${env:}`},
		{"${envX:def}", "def", ""},
	}
	for _, c := range cases {
		got, err := expandEnv(c.in, vars)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("expandEnv(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"configDirectory", "schemaDirectory", "schemaRegistries", "enabled", "definitions"}
	cases := map[string]string{
		"schemaRegsitry":  "schemaRegistries",
		"schemaregistry":  "schemaRegistries",
		"configDirectroy": "configDirectory",
		"ENABLED":         "enabled",
		"definition":      "definitions",
		"kafka":           "",
		"x":               "",
	}
	for in, want := range cases {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	work := t.TempDir()
	mustMkdir(t, filepath.Join(work, "defs"))
	mustMkdir(t, filepath.Join(work, "schemas"))
	mustWrite(t, filepath.Join(work, "defs", "one.yaml"), "streams: {}\n")
	cfg := parse(t, `ksml:
  configDirectory: defs
  schemaDirectory: schemas
  storageDirectory: state/stores
  createStorageDirectory: true
  definitions:
    one: one.yaml
    inline: {streams: {}}
kafka: {application.id: x}
`, nil)
	r, err := cfg.Resolve(work)
	if err != nil {
		t.Fatal(err)
	}
	if r.ConfigDirectory != filepath.Join(work, "defs") || r.SchemaDirectory != filepath.Join(work, "schemas") || r.StorageDirectory != filepath.Join(work, "state", "stores") {
		t.Errorf("resolved = %+v", r)
	}
	if st, err := os.Stat(r.StorageDirectory); err != nil || !st.IsDir() {
		t.Errorf("storage directory was not created: %v", err)
	}
	if len(r.Definitions) != 2 || r.Definitions[0].Path != filepath.Join(work, "defs", "one.yaml") || r.Definitions[1].Path != "" || r.Definitions[1].Inline == nil {
		t.Errorf("definitions = %+v", r.Definitions)
	}

	// Defaults: everything is the working directory.
	_, err = parse(t, minimal, nil).Resolve(work)
	if err == nil {
		t.Fatal("main.yaml does not exist; Resolve should fail")
	}
	want := "ksml-runner.yaml:4:5: ksml.definitions.main: definition file " + filepath.Join(work, "main.yaml") + " does not exist"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	mustWrite(t, filepath.Join(work, "main.yaml"), "streams: {}\n")
	r, err = parse(t, minimal, nil).Resolve(work)
	if err != nil {
		t.Fatal(err)
	}
	if r.ConfigDirectory != work || r.SchemaDirectory != work || r.StorageDirectory != work {
		t.Errorf("defaults resolved to %+v, want %s", r, work)
	}
}

func TestResolveReportsEveryProblem(t *testing.T) {
	work := t.TempDir()
	mustWrite(t, filepath.Join(work, "file"), "x")
	mustMkdir(t, filepath.Join(work, "dir.yaml"))
	cfg := parse(t, `ksml:
  configDirectory: .
  schemaDirectory: file
  storageDirectory: missing
  definitions:
    a: dir.yaml
    b: nope.yaml
kafka: {application.id: x}
`, nil)
	_, err := cfg.Resolve(work)
	want := strings.Join([]string{
		"ksml-runner.yaml:3:20: ksml.schemaDirectory: " + filepath.Join(work, "file") + " is not a directory",
		"ksml-runner.yaml:4:21: ksml.storageDirectory: directory " + filepath.Join(work, "missing") + " does not exist (set createStorageDirectory: true to create it)",
		"ksml-runner.yaml:6:5: ksml.definitions.a: " + filepath.Join(work, "dir.yaml") + " is not a regular file",
		"ksml-runner.yaml:7:5: ksml.definitions.b: definition file " + filepath.Join(work, "nope.yaml") + " does not exist",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "runner configuration: open ") || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("error = %v", err)
	}
}

// TestFunctionTimeout covers the pythonContext additions: functionTimeout
// and venv.
func TestFunctionTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"2s": 2 * time.Second, "500": 500 * time.Millisecond,
		"0": -1, "off": -1, "1m": time.Minute} {
		cfg := parse(t, strings.Replace(minimal, "ksml:\n", "ksml:\n  pythonContext:\n    functionTimeout: "+in+"\n", 1), nil)
		if got := cfg.KSML.PythonContext.FunctionTimeout; got != want {
			t.Errorf("functionTimeout: %s = %v, want %v", in, got, want)
		}
	}
	cfg := parse(t, strings.Replace(minimal, "ksml:\n", "ksml:\n  pythonContext:\n    venv: /opt/venv\n", 1), nil)
	if pc := cfg.KSML.PythonContext; pc.Venv != "/opt/venv" || pc.FunctionTimeout != 0 {
		t.Errorf("pythonContext = %+v", pc)
	}
	msg := parseErr(t, strings.Replace(minimal, "ksml:\n", "ksml:\n  pythonContext:\n    functionTimeout: soon\n", 1), nil)
	if !strings.Contains(msg, "ksml.pythonContext.functionTimeout must be a duration") {
		t.Errorf("error = %s", msg)
	}
}

func TestDefinitionsOptional(t *testing.T) {
	cfg, err := Parse("r.yaml", []byte("ksml: {}\nkafka: {application.id: x}\n"), Options{DefinitionsOptional: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.KSML.Definitions) != 0 {
		t.Errorf("definitions = %+v", cfg.KSML.Definitions)
	}
}

func TestAliasesAndMergeKeys(t *testing.T) {
	cfg := parse(t, `ksml:
  definitions: {a: a.yaml}
  errorHandling:
    consume: &common
      log: false
      logPayload: true
    produce:
      <<: *common
      handler: retryOnFail
    process: *common
kafka: {application.id: x}
`, nil)
	want := ErrorHandling{
		Consume: ErrorHandler{Log: false, LogPayload: true, LoggerName: "ConsumeError", Handler: StopOnFail},
		Process: ErrorHandler{Log: false, LogPayload: true, LoggerName: "ProcessError", Handler: StopOnFail},
		Produce: ErrorHandler{Log: false, LogPayload: true, LoggerName: "ProduceError", Handler: RetryOnFail},
	}
	if cfg.KSML.ErrorHandling != want {
		t.Errorf("errorHandling = %+v, want %+v", cfg.KSML.ErrorHandling, want)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A misspelt Kafka property is an error: ignored, `bootstrap.server` would
// silently run on the embedded broker. Unknown properties that are not
// close to a known one (custom or newer settings) stay allowed.
func TestMisspeltKafkaPropertiesAreErrors(t *testing.T) {
	got := parseErr(t, "ksml: {definitions: {a: a.yaml}}\nkafka:\n  application.id: x\n  bootstrap.server: broker:9092\n  producer.linger.mss: 5\n  acks: all\n", nil)
	want := "ksml-runner.yaml:4:3: unknown Kafka property kafka.bootstrap.server; did you mean bootstrap.servers? (a misspelt property would be ignored)\n" +
		"ksml-runner.yaml:5:3: unknown Kafka property kafka.producer.linger.mss; did you mean producer.linger.ms? (a misspelt property would be ignored)"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	cfg := parse(t, "ksml: {definitions: {a: a.yaml}}\nkafka:\n  application.id: x\n  my.custom.setting: 1\n  consumer.fetch.min.bytes: 1\n  topic.cleanup.policy: compact\n", nil)
	if cfg.Kafka.Properties["my.custom.setting"] != "1" {
		t.Errorf("properties %v", cfg.Kafka.Properties)
	}
}

// The kafka block of upstream's Helm chart (templates/configmap-runner.yaml)
// reads the pod's name through Kafka's env config provider.
func TestKafkaEnvConfigProvider(t *testing.T) {
	cfg := parse(t, `ksml:
  definitions:
    main: main.yaml
kafka:
  config.providers: env
  config.providers.env.class: 'org.apache.kafka.common.config.provider.EnvVarConfigProvider'
  group.instance.id: '${env:KSML_GROUP_INSTANCE_ID}'
  application.id: app
  bootstrap.servers: k1:9092
`, map[string]string{"KSML_GROUP_INSTANCE_ID": "ksml-0"})
	if got := cfg.Kafka.Properties["group.instance.id"]; got != "ksml-0" {
		t.Errorf("group.instance.id = %q, want ksml-0", got)
	}
}
