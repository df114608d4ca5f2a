package schemaregistry

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"
	"strings"
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
//	schema.registry.ssl.truststore.location   PEM CA bundle (also .certificates inline)
//	schema.registry.ssl.keystore.location     PEM with client certificate and key
//	schema.registry.ssl.key.password          not supported for encrypted PEM keys
//	schema.registry.ssl.endpoint.identification.algorithm  "" disables host name checks
//	normalize.schemas                         normalize on register and lookup
//
// It fails when the URL is missing or a TLS store cannot be read; JKS and
// PKCS12 stores are refused with a message saying to convert them to PEM.
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
//	apicurio.registry.request.ssl.*       as for Confluent, PEM only
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
// nil when none is set.
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
	if trustLoc != "" || trustInline != "" {
		pemData := []byte(trustInline)
		if trustLoc != "" {
			data, err := readPEMStore(prefix+"ssl.truststore", trustLoc, p("ssl.truststore.type"))
			if err != nil {
				return nil, err
			}
			pemData = data
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("%sssl.truststore: no PEM certificates found", prefix)
		}
		cfg.RootCAs = pool
	}
	if keyLoc != "" || chainInline != "" {
		certPEM, keyPEM := []byte(chainInline), []byte(keyInline)
		if keyLoc != "" {
			data, err := readPEMStore(prefix+"ssl.keystore", keyLoc, p("ssl.keystore.type"))
			if err != nil {
				return nil, err
			}
			certPEM, keyPEM = data, data
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%sssl.keystore: %v (an encrypted key is not supported; decrypt it with openssl)", prefix, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func readPEMStore(what, path, typ string) ([]byte, error) {
	switch strings.ToUpper(typ) {
	case "", "PEM":
	default:
		return nil, fmt.Errorf("%s.type %s is not supported; convert the store to PEM (keytool -exportcert -rfc / openssl pkcs12 -nodes)", what, typ)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s.location: %w", what, err)
	}
	if b, _ := pem.Decode(data); b == nil {
		return nil, fmt.Errorf("%s.location %s is not a PEM file; JKS and PKCS12 stores are not supported, convert it to PEM", what, path)
	}
	return data, nil
}
