package kafkaclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceWith maps props, connects to the cluster and produces one record;
// it returns the produce error.
func produceWith(t *testing.T, props map[string]string) error {
	t.Helper()
	c, err := FromProperties(props, Options{})
	if err != nil {
		t.Fatalf("FromProperties: %v", err)
	}
	cl := client(t, append(c.ProducerOpts(), kgo.RequestRetries(0), kgo.RetryTimeout(time.Second)))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr()
}

// pingWith maps props and asks the broker for metadata once; it returns
// the connection or authentication error, without retries.
func pingWith(t *testing.T, props map[string]string) error {
	t.Helper()
	c, err := FromProperties(props, Options{})
	if err != nil {
		t.Fatalf("FromProperties: %v", err)
	}
	cl := client(t, c.AdminOpts())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func TestSASLAgainstBroker(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plainuser", "plain-secret"),
		kfake.Superuser("SCRAM-SHA-256", "scram256", "s256 \"secret\""),
		kfake.Superuser("SCRAM-SHA-512", "scram512", "s512-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	props := func(mech, module, user, pass string) map[string]string {
		pass = strings.ReplaceAll(strings.ReplaceAll(pass, `\`, `\\`), `"`, `\"`)
		return map[string]string{
			"application.id":    "app",
			"bootstrap.servers": c.ListenAddrs()[0],
			"security.protocol": "SASL_PLAINTEXT",
			"sasl.mechanism":    mech,
			"sasl.jaas.config":  "org.apache.kafka.common.security." + module + " required username=\"" + user + "\" password=\"" + pass + "\";",
		}
	}
	for _, ok := range []map[string]string{
		props("PLAIN", "plain.PlainLoginModule", "plainuser", "plain-secret"),
		props("SCRAM-SHA-256", "scram.ScramLoginModule", "scram256", `s256 "secret"`),
		props("scram-sha-512", "scram.ScramLoginModule", "scram512", "s512-secret"),
	} {
		if err := produceWith(t, ok); err != nil {
			t.Errorf("%s: produce failed: %v", ok["sasl.mechanism"], err)
		}
	}
	if err := pingWith(t, props("PLAIN", "plain.PlainLoginModule", "plainuser", "wrong")); err == nil { // kfake closes the connection on a failed authentication
		t.Errorf("PLAIN with a wrong password: %v", err)
	}
	if err := pingWith(t, props("SCRAM-SHA-512", "scram.ScramLoginModule", "scram512", "wrong")); err == nil { // kfake closes the connection on a failed authentication
		t.Errorf("SCRAM-SHA-512 with a wrong password: %v", err)
	}
}

// pki is a throwaway CA with a server and a client certificate, written as
// PEM files.
type pki struct {
	dir                    string
	caFile                 string
	serverTLS              tls.Config
	clientBundle           string // client certificate and key in one file
	clientCert, clientKey  string // the same, as PEM text
	serverForOtherHostOnly tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, ips []net.IP, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	}
	p := &pki{dir: dir, caFile: filepath.Join(dir, "ca.pem"), clientBundle: filepath.Join(dir, "client.pem")}
	write(t, p.caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))

	sc, sk := issue(2, "broker", []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	serverCert, err := tls.X509KeyPair(sc, sk)
	if err != nil {
		t.Fatal(err)
	}
	oc, ok := issue(3, "elsewhere", []net.IP{net.ParseIP("10.1.2.3")}, x509.ExtKeyUsageServerAuth)
	p.serverForOtherHostOnly, _ = tls.X509KeyPair(oc, ok)
	cc, ck := issue(4, "ksml", nil, x509.ExtKeyUsageClientAuth)
	p.clientCert, p.clientKey = string(cc), string(ck)
	write(t, p.clientBundle, p.clientCert+p.clientKey)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	p.serverTLS = tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	return p
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMutualTLSAgainstBroker(t *testing.T) {
	p := newPKI(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.TLS(&p.serverTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"application.id":          "app",
			"bootstrap.servers":       c.ListenAddrs()[0],
			"security.protocol":       "SSL",
			"ssl.truststore.type":     "PEM",
			"ssl.truststore.location": p.caFile,
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// Keystore as one PEM file.
	if err := produceWith(t, base(map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": p.clientBundle})); err != nil {
		t.Errorf("keystore file: %v", err)
	}
	// Keystore and truststore inline.
	inline := base(map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": p.clientCert, "ssl.keystore.key": p.clientKey})
	delete(inline, "ssl.truststore.location")
	ca, _ := os.ReadFile(p.caFile)
	inline["ssl.truststore.certificates"] = string(ca)
	if err := produceWith(t, inline); err != nil {
		t.Errorf("inline PEM: %v", err)
	}
	// Without a client certificate the broker refuses the handshake.
	if err := pingWith(t, base(nil)); err == nil {
		t.Error("connected without a client certificate")
	}
}

func TestHostNameVerification(t *testing.T) {
	p := newPKI(t)
	serverTLS := p.serverTLS.Clone()
	serverTLS.Certificates = []tls.Certificate{p.serverForOtherHostOnly}
	serverTLS.ClientAuth = tls.NoClientCert
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"), kfake.TLS(serverTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	props := map[string]string{
		"application.id":          "app",
		"bootstrap.servers":       c.ListenAddrs()[0],
		"security.protocol":       "SSL",
		"ssl.truststore.location": p.caFile, // type left out: detected as PEM
	}
	if err := pingWith(t, props); err == nil || !strings.Contains(err.Error(), "10.1.2.3") {
		t.Errorf("certificate for another host accepted with host name verification on: %v", err)
	}
	props["ssl.endpoint.identification.algorithm"] = ""
	if err := produceWith(t, props); err != nil {
		t.Errorf("with host name verification off: %v", err)
	}
	// The chain is still verified: an unknown CA fails.
	other := newPKI(t)
	props["ssl.truststore.location"] = other.caFile
	if err := pingWith(t, props); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("unknown CA accepted: %v", err)
	}
}

func TestTLSStoreErrors(t *testing.T) {
	p := newPKI(t)
	jks := filepath.Join(p.dir, "store.jks")
	write(t, jks, "\xfe\xed\xfe\xed binary")
	encrypted := filepath.Join(p.dir, "enc.pem")
	write(t, encrypted, p.clientCert+"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
	cases := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"ssl.truststore.type": "JKS", "ssl.truststore.location": jks},
			"kafka.ssl.truststore.type: JKS truststores are not supported; export the CA certificates as PEM (keytool -exportcert -rfc, or openssl pkcs12 -nokeys) and set ssl.truststore.type: PEM"},
		{map[string]string{"ssl.truststore.location": jks},
			"kafka.ssl.truststore.location: is not a PEM file (JKS or PKCS12?): JKS and PKCS12 truststores are not supported; export the CA certificates as PEM (keytool -exportcert -rfc, or openssl pkcs12 -nokeys) and set ssl.truststore.type: PEM"},
		{map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": jks},
			"kafka.ssl.keystore.type: PKCS12 keystores are not supported; export the certificate chain and the unencrypted private key as PEM (openssl pkcs12 -nodes) and set ssl.keystore.type: PEM"},
		{map[string]string{"ssl.keystore.location": encrypted, "ssl.key.password": "pw"},
			"kafka.ssl.keystore.location: the private key is encrypted, which is not supported; decrypt it (openssl pkcs8 -in key.pem -out plain.pem) and protect the file instead"},
		{map[string]string{"ssl.keystore.certificate.chain": p.clientCert},
			"kafka.ssl.keystore.certificate.chain: ssl.keystore.certificate.chain and ssl.keystore.key must be given together"},
		{map[string]string{"ssl.truststore.location": filepath.Join(p.dir, "absent.pem")},
			"kafka.ssl.truststore.location: open " + filepath.Join(p.dir, "absent.pem") + ": no such file or directory"},
		{map[string]string{"ssl.enabled.protocols": "TLSv1.3,SSLv3"},
			`kafka.ssl.enabled.protocols: "SSLv3" is not supported (use TLSv1.2, TLSv1.3)`},
		{map[string]string{"ssl.endpoint.identification.algorithm": "ldaps"},
			`kafka.ssl.endpoint.identification.algorithm: "ldaps" is not supported (use https, or an empty value to skip host name verification)`},
	}
	for _, c := range cases {
		props := map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "security.protocol": "SSL"}
		for k, v := range c.props {
			props[k] = v
		}
		_, err := FromProperties(props, Options{})
		if err == nil || err.Error() != c.want {
			t.Errorf("props %v:\n got  %v\n want %s", c.props, err, c.want)
		}
	}
}

func TestTLSVersions(t *testing.T) {
	c := mapProps(t, map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "security.protocol": "SSL", "ssl.enabled.protocols": "TLSv1.3"})
	tc, _ := client(t, c.ClientOpts()).OptValue(kgo.DialTLSConfig).(*tls.Config)
	if tc == nil || tc.MinVersion != tls.VersionTLS13 || tc.MaxVersion != tls.VersionTLS13 {
		t.Errorf("tls config = %+v", tc)
	}
	// PLAINTEXT ignores ssl settings, as the Java client does.
	c = mapProps(t, map[string]string{"application.id": "a", "bootstrap.servers": "b:1", "ssl.truststore.type": "JKS", "ssl.truststore.location": "/nonexistent"})
	if tc, _ := client(t, c.ClientOpts()).OptValue(kgo.DialTLSConfig).(*tls.Config); tc != nil {
		t.Errorf("PLAINTEXT got a TLS config")
	}
}
