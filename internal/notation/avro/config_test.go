package avro

import (
	"net/http/httptest"
	"strings"
	"testing"

	"ksml/internal/notation"
	"ksml/internal/schemaregistry"
	"ksml/internal/types"
)

func TestRegisterRunnerNotations(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"Event": evoV1})
	mem := schemaregistry.NewMemory()
	srv := httptest.NewServer(schemaregistry.Handler(mem, schemaregistry.HandlerOptions{Username: "u", Password: "p"}))
	defer srv.Close()
	reg := notation.NewRegistry()
	registries := map[string]map[string]string{
		"apicurio":  {"apicurio.registry.url": srv.URL + "/apis/registry/v3", "apicurio.registry.auth.username": "u", "apicurio.registry.auth.password": "p"},
		"confluent": {"schema.registry.url": srv.URL + "/apis/ccompat/v7", "basic.auth.user.info": "u:p"},
	}
	notations := []NotationConfig{
		{Name: "avro", Type: TypeApicurio, SchemaRegistry: "apicurio", Config: map[string]string{"apicurio.registry.auto-register": "true"}},
		{Name: "cavro", Type: TypeConfluent, SchemaRegistry: "confluent"},
		{Name: "jsonschema", Type: "apicurio_jsonschema", SchemaRegistry: "apicurio"},
	}
	if err := RegisterRunnerNotations(reg, NewLoader(dir), map[string]string{"bootstrap.servers": "x"}, registries, notations); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Lookup("jsonschema"); err == nil {
		t.Fatal("jsonschema alias was registered by the avro package")
	}
	value := st("id", "a", "count", int64(1), "kind", "A", "legacy", "l", "tags", []any{})
	for _, name := range []string{"avro", "cavro"} {
		n, err := reg.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.(*Notation).Vendor(); (name == "avro") != (got == Apicurio) {
			t.Fatalf("%s vendor = %v", name, got)
		}
		s, err := reg.Serde(types.UserType{Notation: name, Type: types.StructType{Notation: name, SchemaName: "Event"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.Serialize("events", nil, value)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := s.Deserialize("events", nil, data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The built-in names exist without a registry URL and say so on use.
	s, err := reg.Serde(types.UserType{Notation: "confluent_avro", Type: types.StructType{Notation: "confluent_avro", SchemaName: "Event"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Serialize("events", nil, value); err == nil || !strings.Contains(err.Error(), "no schema registry is configured") {
		t.Fatalf("built-in without url: err = %v", err)
	}

	// No ksml.notations: avro is Confluent over the Kafka config's URL.
	reg2 := notation.NewRegistry()
	if err := RegisterRunnerNotations(reg2, NewLoader(dir), map[string]string{"schema.registry.url": srv.URL, "basic.auth.user.info": "u:p"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	n, err := reg2.Lookup("avro")
	if err != nil || n.(*Notation).Vendor() != Confluent {
		t.Fatalf("fallback avro = %v, %v", n, err)
	}
	if _, err := n.(*Notation).FetchSchema("events", false); err != nil {
		t.Fatalf("fallback registry: %v", err)
	}

	bad := []NotationConfig{{Name: "avro", Type: TypeApicurio, Config: map[string]string{"apicurio.registry.as-confluent": "true"}}}
	if err := RegisterRunnerNotations(notation.NewRegistry(), NewLoader(dir), nil, nil, bad); err == nil || !strings.Contains(err.Error(), "notation avro: configuration key 'apicurio.registry.as-confluent' no longer exists") {
		t.Fatalf("v2 config: err = %v", err)
	}
}

func TestRegisterTestNotations(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"Event": evoV1})
	reg := notation.NewRegistry()
	n, mem := RegisterTestNotations(reg, NewLoader(dir))
	if _, err := n.Preregister("events", false, "Event"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"avro", "confluent_avro", "apicurio_avro"} {
		got, err := reg.Lookup(name)
		if err != nil || got != notation.Notation(n) {
			t.Fatalf("%s = %v, %v", name, got, err)
		}
	}
	if l, err := mem.Latest(t.Context(), "events-value"); err != nil || l.ID != 1 {
		t.Fatalf("latest = %+v, %v", l, err)
	}
}
