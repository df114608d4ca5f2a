package schemaregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/twmb/franz-go/pkg/sr"
)

// Confluent is a client for the Confluent Schema Registry REST API (and
// registries that speak it, such as Apicurio's /apis/ccompat/v7), built on
// franz-go's sr client. Requests go to the configured URLs in order until one
// answers.
type Confluent struct {
	cl        *sr.Client
	normalize bool
}

// NewConfluent returns a client for cfg. It does not contact the registry.
func NewConfluent(cfg Config) (*Confluent, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("schema registry: no URL")
	}
	opts := []sr.ClientOpt{sr.URLs(cfg.URLs...), sr.UserAgent("ksml")}
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
	}
	if cfg.BearerToken != "" {
		opts = append(opts, sr.BearerToken(cfg.BearerToken))
	}
	if cfg.TLS != nil {
		opts = append(opts, sr.HTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg.TLS}}))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return &Confluent{cl: cl, normalize: cfg.Normalize}, nil
}

// confluentErr maps "subject/schema/version not found" answers to ErrNotFound.
func confluentErr(what string, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w (%s)", what, ErrNotFound, re.Error())
	}
	return fmt.Errorf("%s: %w", what, err)
}

// SchemaByID implements Registry.
func (c *Confluent) SchemaByID(ctx context.Context, id int) (string, error) {
	s, err := c.cl.SchemaByID(ctx, id)
	if err != nil {
		return "", confluentErr(fmt.Sprintf("schema id %d", id), err)
	}
	return s.Schema, nil
}

// Latest implements Registry.
func (c *Confluent) Latest(ctx context.Context, subject string) (SubjectSchema, error) {
	s, err := c.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		return SubjectSchema{}, confluentErr(fmt.Sprintf("subject %q", subject), err)
	}
	return SubjectSchema{Subject: s.Subject, Version: s.Version, ID: s.ID, Schema: s.Schema.Schema}, nil
}

// Register implements Registry.
func (c *Confluent) Register(ctx context.Context, subject, schema string) (int, error) {
	if c.normalize {
		ctx = sr.WithParams(ctx, sr.Normalize)
	}
	id, err := c.cl.RegisterSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro}, -1, -1)
	if err != nil {
		return 0, confluentErr(fmt.Sprintf("register under subject %q", subject), err)
	}
	return id, nil
}

// Lookup implements Registry.
func (c *Confluent) Lookup(ctx context.Context, subject, schema string) (int, error) {
	if c.normalize {
		ctx = sr.WithParams(ctx, sr.Normalize)
	}
	s, err := c.cl.LookupSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro})
	if err != nil {
		return 0, confluentErr(fmt.Sprintf("look up schema under subject %q", subject), err)
	}
	return s.ID, nil
}

// References implements ReferenceResolver.
func (c *Confluent) References(ctx context.Context, id int) ([]string, error) {
	s, err := c.cl.SchemaByID(ctx, id)
	if err != nil {
		return nil, confluentErr(fmt.Sprintf("schema id %d", id), err)
	}
	return resolveReferences(ctx, fromSR(s.References), func(ctx context.Context, r Reference) (string, []Reference, error) {
		ss, err := c.cl.SchemaByVersion(ctx, r.Subject, r.Version)
		if err != nil {
			return "", nil, confluentErr(fmt.Sprintf("subject %q version %d", r.Subject, r.Version), err)
		}
		return ss.Schema.Schema, fromSR(ss.References), nil
	})
}

// RegisterWithReferences registers a schema that uses named types of other
// subject versions.
func (c *Confluent) RegisterWithReferences(ctx context.Context, subject, schema string, refs []Reference) (int, error) {
	s := sr.Schema{Schema: schema, Type: sr.TypeAvro}
	for _, r := range refs {
		s.References = append(s.References, sr.SchemaReference{Name: r.Name, Subject: r.Subject, Version: r.Version})
	}
	id, err := c.cl.RegisterSchema(ctx, subject, s, -1, -1)
	if err != nil {
		return 0, confluentErr(fmt.Sprintf("register under subject %q", subject), err)
	}
	return id, nil
}

func fromSR(refs []sr.SchemaReference) []Reference {
	out := make([]Reference, len(refs))
	for i, r := range refs {
		out[i] = Reference{Name: r.Name, Subject: r.Subject, Version: r.Version}
	}
	return out
}
