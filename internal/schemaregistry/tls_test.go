package schemaregistry

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
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

// selfSigned returns a certificate and key for cn, signed by parent (or
// itself when parent is nil).
func selfSigned(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: isCA, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

// JKS, PKCS12 and PEM stores as upstream configs name them: the server's
// certificate in a truststore and a client certificate in a keystore, against
// a registry that requires client certificates.
func TestTLSStoresAndClientCertificates(t *testing.T) {
	ca, caKey := selfSigned(t, "ksml test ca", nil, nil, true)
	client, clientKey := selfSigned(t, "ksml client", ca, caKey, false)
	clientPool := x509.NewCertPool()
	clientPool.AddCert(ca)

	mem := NewMemory()
	srv := httptest.NewUnstartedServer(Handler(mem, HandlerOptions{}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool}
	srv.StartTLS()
	defer srv.Close()
	server := srv.Certificate()

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Truststores.
	trustPEM := write("trust.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Raw}))
	p12, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{server}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	trustP12 := write("trust.p12", p12)
	ks := keystore.New()
	if err := ks.SetTrustedCertificateEntry("server", keystore.TrustedCertificateEntry{CreationTime: time.Now(), Certificate: keystore.Certificate{Type: "X509", Content: server.Raw}}); err != nil {
		t.Fatal(err)
	}
	var jks bytes.Buffer
	if err := ks.Store(&jks, []byte("changeit")); err != nil {
		t.Fatal(err)
	}
	trustJKS := write("trust.jks", jks.Bytes())
	// Keystores.
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(clientKey)
	keyPEM := write("client.pem", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: client.Raw}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...))
	kp12, err := pkcs12.Modern.Encode(clientKey, client, []*x509.Certificate{ca}, "storepass")
	if err != nil {
		t.Fatal(err)
	}
	keyP12 := write("client.p12", kp12)
	kks := keystore.New()
	if err := kks.SetPrivateKeyEntry("client", keystore.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: pkcs8,
		CertificateChain: []keystore.Certificate{{Type: "X509", Content: client.Raw}, {Type: "X509", Content: ca.Raw}}}, []byte("keypass")); err != nil {
		t.Fatal(err)
	}
	var kjks bytes.Buffer
	if err := kks.Store(&kjks, []byte("storepass")); err != nil {
		t.Fatal(err)
	}
	keyJKS := write("client.jks", kjks.Bytes())

	cases := []struct {
		name  string
		props map[string]any
	}{
		{"pem", map[string]any{"ssl.truststore.location": trustPEM, "ssl.keystore.location": keyPEM, "ssl.keystore.type": "PEM"}},
		{"pkcs12", map[string]any{"ssl.truststore.location": trustP12, "ssl.truststore.type": "PKCS12", "ssl.truststore.password": "changeit",
			"ssl.keystore.location": keyP12, "ssl.keystore.type": "PKCS12", "ssl.keystore.password": "storepass"}},
		{"jks", map[string]any{"ssl.truststore.location": trustJKS, "ssl.truststore.type": "JKS", "ssl.truststore.password": "changeit",
			"ssl.keystore.location": keyJKS, "ssl.keystore.type": "JKS", "ssl.keystore.password": "storepass", "ssl.key.password": "keypass"}},
		{"detected", map[string]any{"ssl.truststore.location": trustJKS, "ssl.truststore.password": "changeit",
			"ssl.keystore.location": keyP12, "ssl.keystore.password": "storepass"}},
	}
	for _, c := range cases {
		cp := map[string]any{"schema.registry.url": srv.URL}
		ap := map[string]any{"apicurio.registry.url": srv.URL + "/apis/registry/v3"}
		for k, v := range c.props {
			cp["schema.registry."+k] = v
			ap["apicurio.registry.request."+k] = v
		}
		ccfg, err := ConfluentConfig(cp)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		acfg, err := ApicurioConfig(ap)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		conf, _ := NewConfluent(ccfg)
		apic, _ := NewApicurio(acfg)
		for vendor, r := range map[string]Registry{"confluent": conf, "apicurio": apic} {
			if _, err := r.Register(t.Context(), "mtls-value", schemaV1); err != nil {
				t.Fatalf("%s %s: %v", c.name, vendor, err)
			}
		}
	}
	// Without a client certificate the server refuses the connection.
	cfg, _ := ConfluentConfig(map[string]any{"schema.registry.url": srv.URL, "schema.registry.ssl.truststore.location": trustPEM})
	conf, _ := NewConfluent(cfg)
	if _, err := conf.Register(t.Context(), "mtls-value", schemaV1); err == nil {
		t.Fatal("registry accepted a client without a certificate")
	}
	if _, err := ConfluentConfig(map[string]any{"schema.registry.url": srv.URL, "schema.registry.ssl.keystore.location": keyJKS, "schema.registry.ssl.keystore.password": "storepass", "schema.registry.ssl.key.password": "wrong"}); err == nil || !strings.Contains(err.Error(), "key client") {
		t.Fatalf("wrong key password: err = %v", err)
	}
}
