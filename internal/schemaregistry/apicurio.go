package schemaregistry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Apicurio is a client for the Apicurio Registry v3 core REST API
// (…/apis/registry/v3). Subjects map to artifact ids in the configured group
// (TopicIdStrategy: `<topic>-key|-value`), and the ids it returns are content
// ids or global ids as Config.UseID says.
type Apicurio struct {
	base    string
	group   string
	global  bool // ids on the wire are global ids
	user    string
	pass    string
	bearer  string
	httpcl  *http.Client
	userAgt string
}

// NewApicurio returns a client for cfg. It does not contact the registry.
func NewApicurio(cfg Config) (*Apicurio, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("apicurio registry: no URL")
	}
	base := strings.TrimRight(cfg.URLs[0], "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		base = "http://" + base
	}
	group := cfg.GroupID
	if group == "" {
		group = "default"
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	if cfg.TLS != nil {
		cl.Transport = &http.Transport{TLSClientConfig: cfg.TLS}
	}
	return &Apicurio{
		base: base, group: group, global: cfg.UseID == "globalId",
		user: cfg.Username, pass: cfg.Password, bearer: cfg.BearerToken,
		httpcl: cl, userAgt: "ksml",
	}, nil
}

// apicurioVersion is the version metadata the v3 API returns.
type apicurioVersion struct {
	GroupID    string `json:"groupId"`
	ArtifactID string `json:"artifactId"`
	Version    string `json:"version"`
	GlobalID   int64  `json:"globalId"`
	ContentID  int64  `json:"contentId"`
}

func (a *Apicurio) wireID(v apicurioVersion) int {
	if a.global {
		return int(v.GlobalID)
	}
	return int(v.ContentID)
}

// do sends one request; a non-2xx answer becomes an error naming the URL,
// wrapping ErrNotFound on 404.
func (a *Apicurio) do(ctx context.Context, method, path string, body []byte, contentType string, into any) ([]byte, error) {
	u := a.base + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("apicurio registry: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", a.userAgt)
	if a.user != "" || a.pass != "" {
		req.SetBasicAuth(a.user, a.pass)
	}
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	resp, err := a.httpcl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("apicurio registry: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("apicurio registry: %s %s: %w", method, u, err)
	}
	if resp.StatusCode >= 300 {
		var problem struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(data, &problem)
		msg := problem.Detail
		if msg == "" {
			msg = problem.Title
		}
		if msg == "" {
			msg = strings.TrimSpace(string(data))
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("apicurio registry: %s %s: %w (%s)", method, u, ErrNotFound, msg)
		}
		return nil, fmt.Errorf("apicurio registry: %s %s: status %d: %s", method, u, resp.StatusCode, msg)
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			return nil, fmt.Errorf("apicurio registry: %s %s: bad response: %w", method, u, err)
		}
	}
	return data, nil
}

func (a *Apicurio) artifactPath(subject string) string {
	return "/groups/" + url.PathEscape(a.group) + "/artifacts/" + url.PathEscape(subject)
}

// SchemaByID implements Registry: it reads the content by content id or
// global id.
func (a *Apicurio) SchemaByID(ctx context.Context, id int) (string, error) {
	kind := "contentIds"
	if a.global {
		kind = "globalIds"
	}
	data, err := a.do(ctx, http.MethodGet, "/ids/"+kind+"/"+strconv.Itoa(id), nil, "", nil)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// Latest implements Registry: the newest version of artifact `subject`.
func (a *Apicurio) Latest(ctx context.Context, subject string) (SubjectSchema, error) {
	var meta apicurioVersion
	if _, err := a.do(ctx, http.MethodGet, a.artifactPath(subject)+"/versions/branch=latest", nil, "", &meta); err != nil {
		return SubjectSchema{}, err
	}
	content, err := a.do(ctx, http.MethodGet, a.artifactPath(subject)+"/versions/"+url.PathEscape(meta.Version)+"/content", nil, "", nil)
	if err != nil {
		return SubjectSchema{}, err
	}
	version, _ := strconv.Atoi(meta.Version)
	return SubjectSchema{Subject: subject, Version: version, ID: a.wireID(meta), Schema: string(content)}, nil
}

// Register implements Registry: it creates the artifact or a new version of
// it, or finds the version with the same content (FIND_OR_CREATE_VERSION).
func (a *Apicurio) Register(ctx context.Context, subject, schema string) (int, error) {
	body, _ := json.Marshal(map[string]any{
		"artifactId":   subject,
		"artifactType": "AVRO",
		"firstVersion": map[string]any{
			"content": map[string]any{"content": schema, "contentType": "application/json"},
		},
	})
	var out struct {
		Version apicurioVersion `json:"version"`
	}
	path := "/groups/" + url.PathEscape(a.group) + "/artifacts?ifExists=FIND_OR_CREATE_VERSION"
	if _, err := a.do(ctx, http.MethodPost, path, body, "application/json", &out); err != nil {
		return 0, err
	}
	return a.wireID(out.Version), nil
}

// Lookup implements Registry: it searches the versions of artifact
// `subject` by content.
func (a *Apicurio) Lookup(ctx context.Context, subject, schema string) (int, error) {
	q := url.Values{"groupId": {a.group}, "artifactId": {subject}}
	var out struct {
		Versions []apicurioVersion `json:"versions"`
	}
	if _, err := a.do(ctx, http.MethodPost, "/search/versions?"+q.Encode(), []byte(schema), "application/json", &out); err != nil {
		return 0, err
	}
	if len(out.Versions) == 0 {
		return 0, fmt.Errorf("apicurio registry: schema under artifact %q: %w", subject, ErrNotFound)
	}
	return a.wireID(out.Versions[len(out.Versions)-1]), nil
}
