package kafkaclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// security maps security.protocol with its ssl.* and sasl.* properties.
func (m *mapper) security() {
	proto, ok := m.oneOf("security.protocol", "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
	if !ok {
		proto = "PLAINTEXT"
	}
	if proto == "SSL" || proto == "SASL_SSL" {
		if tc := m.tlsConfig(); tc != nil {
			m.cfg.Common = append(m.cfg.Common, kgo.DialTLSConfig(tc))
		}
	}
	if proto == "SASL_PLAINTEXT" || proto == "SASL_SSL" {
		m.sasl()
	}
	for key := range m.props {
		switch {
		case strings.HasPrefix(key, "ssl.") && proto != "SSL" && proto != "SASL_SSL":
			m.notApplicable(key, "security.protocol is "+proto+", not SSL or SASL_SSL")
		case strings.HasPrefix(key, "sasl.") && proto != "SASL_PLAINTEXT" && proto != "SASL_SSL":
			m.notApplicable(key, "security.protocol is "+proto+", not SASL_PLAINTEXT or SASL_SSL")
		}
	}
}

func (m *mapper) sasl() {
	mech, ok := m.get("sasl.mechanism")
	if !ok || mech == "" {
		mech = "GSSAPI" // the Java client's default
	}
	mech = strings.ToUpper(mech)
	var module string
	switch mech {
	case "PLAIN":
		module = "org.apache.kafka.common.security.plain.PlainLoginModule"
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		module = "org.apache.kafka.common.security.scram.ScramLoginModule"
	case "GSSAPI":
		m.errf("sasl.mechanism", "GSSAPI (Kerberos) is not supported; set sasl.mechanism to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		return
	case "OAUTHBEARER":
		m.errf("sasl.mechanism", "OAUTHBEARER is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		return
	default:
		m.errf("sasl.mechanism", "%q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", mech)
		return
	}
	jaas, ok := m.get("sasl.jaas.config")
	if !ok || jaas == "" {
		m.errf("sasl.jaas.config", "is required for sasl.mechanism %s, for example: %s required username=\"...\" password=\"...\";", mech, module)
		return
	}
	entry, err := parseJAAS(jaas)
	if err != nil {
		m.errf("sasl.jaas.config", "%v", err)
		return
	}
	if entry.module != module {
		m.errf("sasl.jaas.config", "login module %s does not match sasl.mechanism %s (want %s)", entry.module, mech, module)
		return
	}
	user, pass := entry.options["username"], entry.options["password"]
	if user == "" || pass == "" {
		m.errf("sasl.jaas.config", "needs username and password options")
		return
	}
	switch mech {
	case "PLAIN":
		m.cfg.Common = append(m.cfg.Common, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		m.cfg.Common = append(m.cfg.Common, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		m.cfg.Common = append(m.cfg.Common, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	}
}

// jaasEntry is one login module entry of a JAAS configuration.
type jaasEntry struct {
	module  string
	flag    string
	options map[string]string
}

// parseJAAS parses the sasl.jaas.config form:
//
//	<LoginModule class> <required|requisite|sufficient|optional> key="value" key=value ... ;
//
// Values may be double-quoted (with \" and \\ escapes) or bare words.
func parseJAAS(s string) (*jaasEntry, error) {
	p := &jaasParser{s: s}
	e := &jaasEntry{options: map[string]string{}}
	e.module = p.word()
	if e.module == "" {
		return nil, fmt.Errorf("missing login module class")
	}
	e.flag = p.word()
	switch e.flag {
	case "required", "requisite", "sufficient", "optional":
	case "":
		return nil, fmt.Errorf("missing control flag after %s (want required)", e.module)
	default:
		return nil, fmt.Errorf("control flag %q is not one of required, requisite, sufficient, optional", e.flag)
	}
	for {
		p.space()
		if p.done() {
			return nil, fmt.Errorf("missing ; at the end")
		}
		if p.peek() == ';' {
			p.i++
			p.space()
			if !p.done() {
				return nil, fmt.Errorf("only one login module entry is supported; found more after ;")
			}
			return e, nil
		}
		key := p.key()
		if key == "" {
			return nil, fmt.Errorf("expected option name at %q", p.rest())
		}
		p.space()
		if p.done() || p.peek() != '=' {
			return nil, fmt.Errorf("expected = after option %s", key)
		}
		p.i++
		p.space()
		val, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("option %s: %v", key, err)
		}
		e.options[key] = val
	}
}

type jaasParser struct {
	s string
	i int
}

func (p *jaasParser) done() bool   { return p.i >= len(p.s) }
func (p *jaasParser) peek() byte   { return p.s[p.i] }
func (p *jaasParser) rest() string { return p.s[p.i:] }

func (p *jaasParser) space() {
	for !p.done() && strings.IndexByte(" \t\r\n", p.peek()) >= 0 {
		p.i++
	}
}

// word reads up to whitespace or ;.
func (p *jaasParser) word() string {
	p.space()
	start := p.i
	for !p.done() && strings.IndexByte(" \t\r\n;", p.peek()) < 0 {
		p.i++
	}
	return p.s[start:p.i]
}

// key reads an option name, up to whitespace, = or ;.
func (p *jaasParser) key() string {
	start := p.i
	for !p.done() && strings.IndexByte(" \t\r\n=;", p.peek()) < 0 {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *jaasParser) value() (string, error) {
	if p.done() {
		return "", fmt.Errorf("missing value")
	}
	if p.peek() != '"' {
		v := p.key()
		if v == "" {
			return "", fmt.Errorf("missing value")
		}
		return v, nil
	}
	p.i++
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.i++
		switch c {
		case '\\':
			if p.done() {
				return "", fmt.Errorf("unterminated quoted value")
			}
			b.WriteByte(p.peek())
			p.i++
		case '"':
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated quoted value")
}

// tlsConfig builds the client TLS configuration from ssl.* properties.
func (m *mapper) tlsConfig() *tls.Config {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	ok := true

	if protos, set := m.get("ssl.enabled.protocols"); set && protos != "" {
		var lo, hi uint16
		for _, p := range strings.Split(protos, ",") {
			var v uint16
			switch strings.TrimSpace(p) {
			case "TLSv1.2":
				v = tls.VersionTLS12
			case "TLSv1.3":
				v = tls.VersionTLS13
			default:
				m.errf("ssl.enabled.protocols", "%q is not supported (use TLSv1.2, TLSv1.3)", strings.TrimSpace(p))
				ok = false
				continue
			}
			if lo == 0 || v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		if lo != 0 {
			tc.MinVersion, tc.MaxVersion = lo, hi
		}
	}

	if roots, set := m.truststore(); set {
		if roots == nil {
			ok = false
		} else {
			tc.RootCAs = roots
		}
	}
	if cert, set := m.keystore(); set {
		if cert == nil {
			ok = false
		} else {
			tc.Certificates = []tls.Certificate{*cert}
		}
	}

	if alg, set := m.get("ssl.endpoint.identification.algorithm"); set {
		switch strings.ToLower(alg) {
		case "https":
		case "":
			// Verify the chain but not the host name, as the Java client
			// does with an empty algorithm.
			roots := tc.RootCAs
			tc.InsecureSkipVerify = true
			tc.VerifyConnection = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return fmt.Errorf("broker sent no certificate")
				}
				inter := x509.NewCertPool()
				for _, c := range cs.PeerCertificates[1:] {
					inter.AddCert(c)
				}
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
				return err
			}
		default:
			m.errf("ssl.endpoint.identification.algorithm", "%q is not supported (use https, or an empty value to skip host name verification)", alg)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return tc
}

// storeType returns ssl.<which>.type, upper-cased; empty if unset.
func (m *mapper) storeType(which string) string {
	t, _ := m.get("ssl." + which + ".type")
	return strings.ToUpper(t)
}

func unsupportedStore(which, typ string) string {
	if which == "truststore" {
		return fmt.Sprintf("%s truststores are not supported; export the CA certificates as PEM (keytool -exportcert -rfc, or openssl pkcs12 -nokeys) and set ssl.truststore.type: PEM", typ)
	}
	return fmt.Sprintf("%s keystores are not supported; export the certificate chain and the unencrypted private key as PEM (openssl pkcs12 -nodes) and set ssl.keystore.type: PEM", typ)
}

// truststore reads the CA certificates. set reports whether any
// truststore property was given; a nil pool with set means an error was
// recorded.
func (m *mapper) truststore() (pool *x509.CertPool, set bool) {
	typ := m.storeType("truststore")
	loc, hasLoc := m.get("ssl.truststore.location")
	inline, hasInline := m.get("ssl.truststore.certificates")
	m.get("ssl.truststore.password") // PEM truststores have no password
	if !hasLoc && !hasInline {
		return nil, false
	}
	var data []byte
	key := "ssl.truststore.certificates"
	if hasInline {
		data = []byte(inline)
	} else {
		key = "ssl.truststore.location"
		var err error
		if data, err = os.ReadFile(loc); err != nil {
			m.errf(key, "%v", err)
			return nil, true
		}
	}
	if typ != "" && typ != "PEM" {
		m.errf("ssl.truststore.type", "%s", unsupportedStore("truststore", typ))
		return nil, true
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		// The Java default type is JKS; say so when the file is not PEM.
		m.errf(key, "is not a PEM file (JKS or PKCS12?): %s", unsupportedStore("truststore", "JKS and PKCS12"))
		return nil, true
	}
	pool = x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		m.errf(key, "contains no PEM certificates")
		return nil, true
	}
	return pool, true
}

// keystore reads the client certificate and key for mutual TLS.
func (m *mapper) keystore() (cert *tls.Certificate, set bool) {
	typ := m.storeType("keystore")
	loc, hasLoc := m.get("ssl.keystore.location")
	chain, hasChain := m.get("ssl.keystore.certificate.chain")
	keyPEM, hasKey := m.get("ssl.keystore.key")
	// Passwords only protect JKS/PKCS12 stores and encrypted keys, which
	// are rejected below; mark them used.
	m.get("ssl.keystore.password")
	m.get("ssl.key.password")
	if !hasLoc && !hasChain && !hasKey {
		return nil, false
	}
	if typ != "" && typ != "PEM" {
		m.errf("ssl.keystore.type", "%s", unsupportedStore("keystore", typ))
		return nil, true
	}
	var certData, keyData []byte
	key := "ssl.keystore.location"
	switch {
	case hasChain || hasKey:
		key = "ssl.keystore.key"
		if !hasChain || !hasKey {
			m.errf("ssl.keystore.certificate.chain", "ssl.keystore.certificate.chain and ssl.keystore.key must be given together")
			return nil, true
		}
		certData, keyData = []byte(chain), []byte(keyPEM)
	default:
		data, err := os.ReadFile(loc)
		if err != nil {
			m.errf(key, "%v", err)
			return nil, true
		}
		if !bytes.Contains(data, []byte("-----BEGIN")) {
			m.errf(key, "is not a PEM file (JKS or PKCS12?): %s", unsupportedStore("keystore", "JKS and PKCS12"))
			return nil, true
		}
		certData, keyData = data, data
	}
	if isEncryptedKey(keyData) {
		m.errf(key, "the private key is encrypted, which is not supported; decrypt it (openssl pkcs8 -in key.pem -out plain.pem) and protect the file instead")
		return nil, true
	}
	c, err := tls.X509KeyPair(certData, keyData)
	if err != nil {
		m.errf(key, "cannot load the certificate and private key: %v", err)
		return nil, true
	}
	return &c, true
}

func isEncryptedKey(data []byte) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" {
			return true
		}
		if strings.Contains(b.Type, "PRIVATE KEY") && strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return true
		}
	}
}
