package schemaregistry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	schemaV1 = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"name","type":"string"}]}`
	// Same schema, other formatting and a doc: same canonical form, same id.
	schemaV1Formatted = `{
  "type": "record", "name": "User", "namespace": "t", "doc": "a user",
  "fields": [ {"name": "name", "type": "string"} ]
}`
	schemaV2 = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"name","type":"string"},{"name":"age","type":["null","int"],"default":null}]}`
)

// clients returns every client kind against one in-memory registry served
// over real HTTP.
func clients(t *testing.T, opts HandlerOptions, creds map[string]any) (*Memory, map[string]Registry) {
	t.Helper()
	mem := NewMemory()
	srv := httptest.NewServer(Handler(mem, opts))
	t.Cleanup(srv.Close)

	confProps := map[string]any{"schema.registry.url": srv.URL}
	ccompatProps := map[string]any{"schema.registry.url": srv.URL + "/apis/ccompat/v7"}
	apiProps := map[string]any{"apicurio.registry.url": srv.URL + "/apis/registry/v3"}
	if u, ok := creds["user"]; ok {
		info := u.(string) + ":" + creds["pass"].(string)
		confProps["basic.auth.user.info"] = info
		ccompatProps["basic.auth.user.info"] = info
		apiProps["apicurio.registry.auth.username"] = u
		apiProps["apicurio.registry.auth.password"] = creds["pass"]
	}
	out := map[string]Registry{"memory": mem}
	for name, props := range map[string]map[string]any{"confluent": confProps, "ccompat": ccompatProps} {
		cfg, err := ConfluentConfig(props)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewConfluent(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = c
	}
	cfg, err := ApicurioConfig(apiProps)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewApicurio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out["apicurio"] = a
	return mem, out
}

func TestRegistryRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"memory", "confluent", "ccompat", "apicurio"} {
		t.Run(name, func(t *testing.T) {
			_, regs := clients(t, HandlerOptions{}, nil)
			reg := regs[name]
			id1, err := reg.Register(ctx, "orders-value", schemaV1)
			if err != nil {
				t.Fatal(err)
			}
			if id1 != 1 {
				t.Fatalf("first id = %d, want 1", id1)
			}
			again, err := reg.Register(ctx, "orders-value", schemaV1Formatted)
			if err != nil || again != id1 {
				t.Fatalf("re-register = %d, %v; want %d", again, err, id1)
			}
			id2, err := reg.Register(ctx, "orders-value", schemaV2)
			if err != nil || id2 != 2 {
				t.Fatalf("v2 id = %d, %v; want 2", id2, err)
			}
			latest, err := reg.Latest(ctx, "orders-value")
			if err != nil {
				t.Fatal(err)
			}
			if latest.ID != 2 || latest.Version != 2 || latest.Schema != schemaV2 {
				t.Fatalf("latest = %+v", latest)
			}
			text, err := reg.SchemaByID(ctx, id1)
			if err != nil || text != schemaV1 {
				t.Fatalf("SchemaByID(1) = %q, %v", text, err)
			}
			got, err := reg.Lookup(ctx, "orders-value", schemaV1Formatted)
			if err != nil || got != id1 {
				t.Fatalf("Lookup = %d, %v; want %d", got, err, id1)
			}
			if _, err := reg.SchemaByID(ctx, 99); !errors.Is(err, ErrNotFound) {
				t.Fatalf("SchemaByID(99) err = %v, want ErrNotFound", err)
			}
			if _, err := reg.Latest(ctx, "nope-value"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Latest(nope) err = %v, want ErrNotFound", err)
			}
			if _, err := reg.Lookup(ctx, "orders-value", `{"type":"record","name":"X","fields":[]}`); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Lookup(unknown) err = %v, want ErrNotFound", err)
			}
		})
	}
}

// A schema shared by two subjects keeps one id (Confluent semantics), which is
// also the Apicurio content id; Apicurio global ids count versions.
func TestSharedSchemaIDAndGlobalIDs(t *testing.T) {
	ctx := context.Background()
	mem, regs := clients(t, HandlerOptions{}, nil)
	a, _ := mem.Register(ctx, "a-value", schemaV1)
	b, _ := mem.Register(ctx, "b-value", schemaV1)
	if a != b || a != 1 {
		t.Fatalf("ids %d, %d; want 1, 1", a, b)
	}
	if g, _ := mem.GlobalID("b-value", 1); g != 2 {
		t.Fatalf("global id of b-value v1 = %d, want 2", g)
	}
	srvURL := regs["apicurio"].(*Apicurio).base
	cfg, err := ApicurioConfig(map[string]any{"apicurio.registry.url": srvURL, "apicurio.registry.use-id": "globalId"})
	if err != nil {
		t.Fatal(err)
	}
	global, _ := NewApicurio(cfg)
	latest, err := global.Latest(ctx, "b-value")
	if err != nil || latest.ID != 2 {
		t.Fatalf("latest by global id = %+v, %v", latest, err)
	}
	text, err := global.SchemaByID(ctx, 2)
	if err != nil || text != schemaV1 {
		t.Fatalf("SchemaByID(global 2) = %q, %v", text, err)
	}
}

func TestBasicAuth(t *testing.T) {
	ctx := context.Background()
	opts := HandlerOptions{Username: "ksml", Password: "secret"}
	_, good := clients(t, opts, map[string]any{"user": "ksml", "pass": "secret"})
	for _, name := range []string{"confluent", "apicurio"} {
		if _, err := good[name].Register(ctx, "s-value", schemaV1); err != nil {
			t.Fatalf("%s with credentials: %v", name, err)
		}
	}
	_, bad := clients(t, opts, map[string]any{"user": "ksml", "pass": "wrong"})
	for _, name := range []string{"confluent", "apicurio"} {
		_, err := bad[name].Register(ctx, "s-value", schemaV1)
		if err == nil || !strings.Contains(err.Error(), "nauthorized") && !strings.Contains(err.Error(), "401") {
			t.Fatalf("%s with wrong credentials: err = %v, want 401", name, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		props map[string]any
		apic  bool
		want  string
	}{
		{"no url", map[string]any{}, false, "schema.registry.url is not set"},
		{"bad user info", map[string]any{"schema.registry.url": "http://x", "basic.auth.user.info": "nocolon"}, false, "user:password"},
		{"store type", map[string]any{"schema.registry.url": "https://x", "schema.registry.ssl.truststore.location": "registry_test.go", "schema.registry.ssl.truststore.type": "BCFKS"}, false, "schema.registry.ssl.truststore.type BCFKS is not supported (PEM, JKS or PKCS12)"},
		{"not a store", map[string]any{"schema.registry.url": "https://x", "schema.registry.ssl.truststore.location": "registry_test.go"}, false, "reading PKCS12 store"},
		{"bad jks password", map[string]any{"schema.registry.url": "https://x", "schema.registry.ssl.truststore.location": "registry_test.go", "schema.registry.ssl.truststore.type": "JKS"}, false, "reading JKS store"},
		{"missing store", map[string]any{"schema.registry.url": "https://x", "schema.registry.ssl.truststore.location": "/nonexistent/ca.pem"}, false, "no such file"},
		{"apicurio no url", map[string]any{}, true, "apicurio.registry.url is not set"},
		{"apicurio v2 auth", map[string]any{"apicurio.registry.url": "http://x", "apicurio.auth.username": "u"}, true, "use 'apicurio.registry.auth.username' instead"},
		{"apicurio as-confluent", map[string]any{"apicurio.registry.url": "http://x", "apicurio.registry.as-confluent": true}, true, "no longer exists"},
		{"apicurio legacy id handler", map[string]any{"apicurio.registry.url": "http://x", "apicurio.registry.id-handler": "io.apicurio.registry.serde.Legacy4ByteIdHandler"}, true, "Default4ByteIdHandler"},
		{"apicurio use-id", map[string]any{"apicurio.registry.url": "http://x", "apicurio.registry.use-id": "bogus"}, true, "contentId or globalId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.apic {
				_, err = ApicurioConfig(c.props)
			} else {
				_, err = ConfluentConfig(c.props)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestConfluentNormalizeParam(t *testing.T) {
	mem := NewMemory()
	var queries []string
	inner := Handler(mem, HandlerOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg, err := ConfluentConfig(map[string]any{"schema.registry.url": srv.URL, "normalize.schemas": "true"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewConfluent(cfg)
	if _, err := c.Register(t.Context(), "s-value", schemaV1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(t.Context(), "s-value", schemaV1); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /subjects/s-value/versions?normalize=true", "POST /subjects/s-value?normalize=true"}
	if strings.Join(queries, "|") != strings.Join(want, "|") {
		t.Fatalf("requests = %q, want %q", queries, want)
	}
}

func TestReferencesTransitiveOrder(t *testing.T) {
	ctx := t.Context()
	mem, regs := clients(t, HandlerOptions{}, nil)
	c := `{"type":"enum","name":"C","symbols":["X"]}`
	b := `{"type":"record","name":"B","fields":[{"name":"c","type":"C"}]}`
	a := `{"type":"record","name":"A","fields":[{"name":"b","type":"B"},{"name":"c","type":"C"}]}`
	mem.Register(ctx, "c", c)
	if _, err := mem.RegisterWithReferences(ctx, "b", b, []Reference{{Name: "C", Subject: "c", Version: 1}}); err != nil {
		t.Fatal(err)
	}
	id, err := mem.RegisterWithReferences(ctx, "a-value", a, []Reference{{Name: "B", Subject: "b", Version: 1}, {Name: "C", Subject: "c", Version: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"memory", "confluent"} {
		refs, err := regs[name].(ReferenceResolver).References(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(refs, "|") != c+"|"+b {
			t.Fatalf("%s: references = %q, want C then B", name, refs)
		}
	}
	if _, err := mem.RegisterWithReferences(ctx, "d", a, []Reference{{Name: "B", Subject: "b", Version: 9}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing reference: err = %v", err)
	}
}
