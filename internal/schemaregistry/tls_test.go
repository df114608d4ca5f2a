package schemaregistry

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Both clients reach a TLS registry with a PEM truststore, and fail without
// one (the test server's certificate is self-signed).
func TestTLSTruststore(t *testing.T) {
	mem := NewMemory()
	srv := httptest.NewUnstartedServer(Handler(mem, HandlerOptions{}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	clients := func(extra map[string]any) (Registry, Registry) {
		cp := map[string]any{"schema.registry.url": srv.URL}
		ap := map[string]any{"apicurio.registry.url": srv.URL + "/apis/registry/v3"}
		for k, v := range extra {
			cp["schema.registry."+k] = v
			ap["apicurio.registry.request."+k] = v
		}
		ccfg, err := ConfluentConfig(cp)
		if err != nil {
			t.Fatal(err)
		}
		acfg, err := ApicurioConfig(ap)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := NewConfluent(ccfg)
		a, _ := NewApicurio(acfg)
		return c, a
	}
	c, a := clients(map[string]any{"ssl.truststore.location": ca, "ssl.truststore.type": "PEM"})
	for name, r := range map[string]Registry{"confluent": c, "apicurio": a} {
		if _, err := r.Register(t.Context(), "tls-value", schemaV1); err != nil {
			t.Fatalf("%s with truststore: %v", name, err)
		}
	}
	c, a = clients(nil)
	for name, r := range map[string]Registry{"confluent": c, "apicurio": a} {
		if _, err := r.Register(t.Context(), "tls-value", schemaV1); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s without truststore: err = %v", name, err)
		}
	}
	// An empty endpoint identification algorithm turns verification off,
	// as in Kafka clients.
	c, a = clients(map[string]any{"ssl.endpoint.identification.algorithm": ""})
	for name, r := range map[string]Registry{"confluent": c, "apicurio": a} {
		if _, err := r.Register(t.Context(), "tls-value", schemaV1); err != nil {
			t.Fatalf("%s without verification: %v", name, err)
		}
	}
}
