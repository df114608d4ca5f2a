package schemaregistry

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// Config is how a client reaches a registry. It is built from the upstream
// property maps (`ksml.schemaRegistries.<name>.config` merged with the
// notation's `config`) by ConfluentConfig or ApicurioConfig.
type Config struct {
	URLs        []string
	Username    string // basic auth
	Password    string
	BearerToken string
	TLS         *tls.Config // nil: system defaults
	// Confluent only: ask the registry to normalize schemas on register
	// and lookup (normalize.schemas).
	Normalize bool
	// Apicurio only.
	GroupID string // artifact group; "default" when unset
	UseID   string // "contentId" (default) or "globalId": which id goes on the wire
}

// ConfluentConfig reads the Confluent serde properties:
//
//	schema.registry.url                       comma-separated URLs
//	basic.auth.credentials.source             USER_INFO (default when user info is set) or URL
//	basic.auth.user.info                      user:password
//	bearer.auth.token                         static bearer token
//	schema.registry.ssl.truststore.location   CA store: PEM, JKS or PKCS12 (.type, .password);
//	                                          or .certificates with inline PEM
//	schema.registry.ssl.keystore.location     client key store: PEM, JKS or PKCS12 (.type,
//	                                          .password, ssl.key.password); or inline PEM in
//	                                          .certificate.chain and .key
//	schema.registry.ssl.endpoint.identification.algorithm  "" disables host name checks
//	normalize.schemas                         normalize on register and lookup
//
// It fails when the URL is missing or a TLS store cannot be read.
func ConfluentConfig(props map[string]any) (Config, error) {
	var cfg Config
	raw := prop(props, "schema.registry.url")
	if raw == "" {
		return cfg, fmt.Errorf("schema registry config: schema.registry.url is not set")
	}
	for _, u := range strings.Split(raw, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.URLs = append(cfg.URLs, u)
		}
	}
	source := strings.ToUpper(prop(props, "basic.auth.credentials.source"))
	switch source {
	case "", "USER_INFO":
		if info := prop(props, "basic.auth.user.info"); info != "" {
			user, pass, ok := strings.Cut(info, ":")
			if !ok {
				return cfg, fmt.Errorf("schema registry config: basic.auth.user.info must be user:password")
			}
			cfg.Username, cfg.Password = user, pass
		}
	case "URL":
		// Credentials travel in the URL's user info; net/http sends them.
	default:
		return cfg, fmt.Errorf("schema registry config: basic.auth.credentials.source %q is not supported (use USER_INFO or URL)", source)
	}
	cfg.BearerToken = prop(props, "bearer.auth.token")
	normalize, err := BoolProp(props, "normalize.schemas", false)
	if err != nil {
		return cfg, err
	}
	cfg.Normalize = normalize
	tlsCfg, err := tlsConfig(props, "schema.registry.")
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsCfg
	return cfg, nil
}

// ApicurioConfig reads the Apicurio v3 serde properties:
//
//	apicurio.registry.url                 base URL ending in /apis/registry/v3
//	apicurio.registry.auth.username       basic auth
//	apicurio.registry.auth.password
//	apicurio.registry.artifact.group-id   group of the artifacts (default "default")
//	apicurio.registry.use-id              contentId (default) or globalId
//	apicurio.registry.request.ssl.*       TLS stores, as for Confluent
//
// Apicurio v2 settings that v3 renamed or removed are refused, as upstream
// does, so credentials are not silently dropped.
func ApicurioConfig(props map[string]any) (Config, error) {
	var cfg Config
	if err := RejectApicurioV2(props); err != nil {
		return cfg, err
	}
	u := strings.TrimRight(prop(props, "apicurio.registry.url"), "/")
	if u == "" {
		return cfg, fmt.Errorf("schema registry config: apicurio.registry.url is not set")
	}
	cfg.URLs = []string{u}
	cfg.Username = prop(props, "apicurio.registry.auth.username")
	cfg.Password = prop(props, "apicurio.registry.auth.password")
	cfg.GroupID = prop(props, "apicurio.registry.artifact.group-id")
	if cfg.GroupID == "" {
		cfg.GroupID = "default"
	}
	cfg.UseID = prop(props, "apicurio.registry.use-id")
	switch cfg.UseID {
	case "":
		cfg.UseID = "contentId"
	case "contentId", "globalId":
	default:
		return cfg, fmt.Errorf("schema registry config: apicurio.registry.use-id %q must be contentId or globalId", cfg.UseID)
	}
	tlsCfg, err := tlsConfig(props, "apicurio.registry.request.")
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsCfg
	return cfg, nil
}

// ApicurioFromProperties returns the Apicurio registry that a notation's
// properties configure, or nil when they name none (no
// apicurio.registry.url). Errors are ApicurioConfig's and NewApicurio's.
func ApicurioFromProperties(props map[string]any) (Registry, error) {
	if _, ok := props["apicurio.registry.url"]; !ok {
		return nil, nil
	}
	cfg, err := ApicurioConfig(props)
	if err != nil {
		return nil, err
	}
	a, err := NewApicurio(cfg)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RejectApicurioV2 fails on Apicurio v2 settings that v3 renamed or removed.
func RejectApicurioV2(props map[string]any) error {
	for old, repl := range map[string]string{
		"apicurio.auth.username": "apicurio.registry.auth.username",
		"apicurio.auth.password": "apicurio.registry.auth.password",
	} {
		if _, ok := props[old]; ok {
			return fmt.Errorf("configuration key '%s' is no longer supported; use '%s' instead", old, repl)
		}
	}
	if _, ok := props["apicurio.registry.as-confluent"]; ok {
		return fmt.Errorf("configuration key 'apicurio.registry.as-confluent' no longer exists; the payload id format now follows apicurio.registry.id-handler and apicurio.registry.use-id")
	}
	if v := prop(props, "apicurio.registry.id-handler"); v == "io.apicurio.registry.serde.Legacy4ByteIdHandler" {
		return fmt.Errorf("configuration key 'apicurio.registry.id-handler' is set to '%s', which no longer exists; use 'io.apicurio.registry.serde.Default4ByteIdHandler' instead", v)
	}
	return nil
}

// prop returns a property as a string; non-string values are formatted.
func prop(props map[string]any, key string) string {
	v, ok := props[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// BoolProp reads a boolean property, accepting true/false in any case and
// Go bools; def is returned when the key is absent.
func BoolProp(props map[string]any, key string, def bool) (bool, error) {
	v, ok := props[key]
	if !ok || v == nil {
		return def, nil
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(fmt.Sprint(v)))
	if err != nil {
		return def, fmt.Errorf("config %s: %q is not a boolean", key, fmt.Sprint(v))
	}
	return b, nil
}

// tlsConfig builds a TLS config from Kafka-style ssl properties under prefix;
// nil when none is set. Stores may be PEM, JKS or PKCS12 (the type property,
// else detected from the file), so upstream runner configs work unchanged.
func tlsConfig(props map[string]any, prefix string) (*tls.Config, error) {
	p := func(k string) string { return prop(props, prefix+k) }
	trustLoc, trustInline := p("ssl.truststore.location"), p("ssl.truststore.certificates")
	keyLoc := p("ssl.keystore.location")
	chainInline, keyInline := p("ssl.keystore.certificate.chain"), p("ssl.keystore.key")
	_, hostCheckSet := props[prefix+"ssl.endpoint.identification.algorithm"]
	hostCheck := p("ssl.endpoint.identification.algorithm")
	if trustLoc == "" && trustInline == "" && keyLoc == "" && chainInline == "" && !hostCheckSet {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if hostCheckSet && hostCheck == "" {
		cfg.InsecureSkipVerify = true //nolint:gosec // explicitly requested by the user, as in Kafka clients
	}
	switch {
	case trustLoc != "":
		pool, err := loadTrustStore(prefix+"ssl.truststore", trustLoc, p("ssl.truststore.type"), p("ssl.truststore.password"))
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	case trustInline != "":
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(trustInline)) {
			return nil, fmt.Errorf("%sssl.truststore.certificates: no PEM certificates found", prefix)
		}
		cfg.RootCAs = pool
	}
	switch {
	case keyLoc != "":
		keyPass := p("ssl.key.password")
		if keyPass == "" {
			keyPass = p("ssl.keystore.password")
		}
		cert, err := loadKeyStore(prefix+"ssl.keystore", keyLoc, p("ssl.keystore.type"), p("ssl.keystore.password"), keyPass)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	case chainInline != "":
		cert, err := tls.X509KeyPair([]byte(chainInline), []byte(keyInline))
		if err != nil {
			return nil, fmt.Errorf("%sssl.keystore.certificate.chain/key: %v", prefix, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

var jksMagic = []byte{0xfe, 0xed, 0xfe, 0xed}

// storeType returns the store format: the configured type, else detected.
func storeType(what string, data []byte, typ string) (string, error) {
	switch t := strings.ToUpper(typ); t {
	case "PEM", "JKS", "PKCS12":
		return t, nil
	case "":
		if b, _ := pem.Decode(data); b != nil {
			return "PEM", nil
		}
		if bytes.HasPrefix(data, jksMagic) {
			return "JKS", nil
		}
		return "PKCS12", nil
	default:
		return "", fmt.Errorf("%s.type %s is not supported (PEM, JKS or PKCS12)", what, typ)
	}
}

func loadTrustStore(what, path, typ, password string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s.location: %w", what, err)
	}
	kind, err := storeType(what, data, typ)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	switch kind {
	case "PEM":
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%s.location %s: no PEM certificates found", what, path)
		}
	case "JKS":
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), []byte(password)); err != nil {
			return nil, fmt.Errorf("%s.location %s: reading JKS store: %w", what, path, err)
		}
		for _, alias := range ks.Aliases() {
			var ders [][]byte
			if ks.IsTrustedCertificateEntry(alias) {
				e, err := ks.GetTrustedCertificateEntry(alias)
				if err != nil {
					return nil, fmt.Errorf("%s.location %s: entry %s: %w", what, path, alias, err)
				}
				ders = append(ders, e.Certificate.Content)
			} else if chain, err := ks.GetPrivateKeyEntryCertificateChain(alias); err == nil {
				for _, c := range chain {
					ders = append(ders, c.Content)
				}
			}
			for _, der := range ders {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("%s.location %s: entry %s: %w", what, path, alias, err)
				}
				pool.AddCert(c)
			}
		}
	case "PKCS12":
		certs, err := pkcs12.DecodeTrustStore(data, password)
		if err != nil {
			return nil, fmt.Errorf("%s.location %s: reading PKCS12 store: %w", what, path, err)
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}

func loadKeyStore(what, path, typ, storePass, keyPass string) (tls.Certificate, error) {
	var out tls.Certificate
	data, err := os.ReadFile(path)
	if err != nil {
		return out, fmt.Errorf("%s.location: %w", what, err)
	}
	kind, err := storeType(what, data, typ)
	if err != nil {
		return out, err
	}
	switch kind {
	case "PEM":
		out, err = tls.X509KeyPair(data, data)
		if err != nil {
			return out, fmt.Errorf("%s.location %s: %v (an encrypted PEM key is not supported; decrypt it with openssl)", what, path, err)
		}
	case "JKS":
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), []byte(storePass)); err != nil {
			return out, fmt.Errorf("%s.location %s: reading JKS store: %w", what, path, err)
		}
		for _, alias := range ks.Aliases() {
			if !ks.IsPrivateKeyEntry(alias) {
				continue
			}
			e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
			if err != nil {
				return out, fmt.Errorf("%s.location %s: key %s: %w", what, path, alias, err)
			}
			key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
			if err != nil {
				return out, fmt.Errorf("%s.location %s: key %s: %w", what, path, alias, err)
			}
			out.PrivateKey = key
			for _, c := range e.CertificateChain {
				out.Certificate = append(out.Certificate, c.Content)
			}
			return out, nil
		}
		return out, fmt.Errorf("%s.location %s: the JKS store has no private key entry", what, path)
	case "PKCS12":
		key, cert, chain, err := pkcs12.DecodeChain(data, storePass)
		if err != nil {
			return out, fmt.Errorf("%s.location %s: reading PKCS12 store: %w", what, path, err)
		}
		out.PrivateKey = key
		out.Certificate = append(out.Certificate, cert.Raw)
		for _, c := range chain {
			out.Certificate = append(out.Certificate, c.Raw)
		}
	}
	return out, nil
}
