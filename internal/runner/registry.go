package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ksml-dev/ksml/internal/schemaregistry"
)

// DefaultRegistryPort is where the embedded schema registry listens, on
// the embedded broker's host: Confluent Schema Registry's usual port.
const DefaultRegistryPort = "8081"

// embeddedRegistry is the schema registry of embedded mode: an in-memory
// Confluent- and Apicurio-compatible registry that the Avro notations use
// directly and that Run serves over HTTP beside the embedded broker, so
// Avro definitions run with no setup. Every registration is appended to a
// file under the storage directory and replayed at start, so schema ids
// stay valid for the records the broker keeps on disk.
type embeddedRegistry struct {
	*schemaregistry.Memory
	file string

	mu    sync.Mutex
	saved int // registrations in the file
	srv   *http.Server
	url   string
}

// registration is one line of the registry file.
type registration struct {
	Subject string `json:"subject"`
	Schema  string `json:"schema"`
}

// openEmbeddedRegistry replays file (when it exists) into a new registry.
func openEmbeddedRegistry(file string) (*embeddedRegistry, error) {
	e := &embeddedRegistry{Memory: schemaregistry.NewMemory(), file: file}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("embedded schema registry: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var reg registration
		if err := json.Unmarshal(sc.Bytes(), &reg); err != nil {
			return nil, fmt.Errorf("embedded schema registry: %s:%d: %w (remove the file to start with an empty registry)", file, line, err)
		}
		if _, err := e.Memory.Register(context.Background(), reg.Subject, reg.Schema); err != nil {
			return nil, fmt.Errorf("embedded schema registry: %s:%d: %w", file, line, err)
		}
		e.saved++
	}
	return e, sc.Err()
}

// Register implements schemaregistry.Registry and keeps the file current.
func (e *embeddedRegistry) Register(ctx context.Context, subject, schema string) (int, error) {
	id, err := e.Memory.Register(ctx, subject, schema)
	if err != nil {
		return id, err
	}
	return id, e.save()
}

// save appends the registrations (from any client: ksml's notations or
// HTTP) that are not in the file yet, in registration order, so a replay
// gives every schema its id again.
func (e *embeddedRegistry) save() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var lines []byte
	n := e.saved
	for gid := e.saved + 1; ; gid++ {
		s, err := e.Memory.ByGlobalID(context.Background(), gid)
		if err != nil {
			break
		}
		b, _ := json.Marshal(registration{Subject: s.Subject, Schema: s.Schema})
		lines = append(append(lines, b...), '\n')
		n++
	}
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(e.file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("embedded schema registry: %w", err)
	}
	if _, err := f.Write(lines); err != nil {
		f.Close()
		return fmt.Errorf("embedded schema registry: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("embedded schema registry: %w", err)
	}
	e.saved = n
	return nil
}

// serve starts the HTTP API on host:8081, or on a free port of host when
// that is taken (or when the broker itself took a free port).
func (e *embeddedRegistry) serve(brokerAddr string) (string, error) {
	host, port, err := net.SplitHostPort(brokerAddr)
	if err != nil {
		return "", err
	}
	want := DefaultRegistryPort
	if port == "0" {
		want = "0"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, want))
	if err != nil {
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return "", fmt.Errorf("embedded schema registry: %w", err)
		}
	}
	e.srv = &http.Server{Handler: schemaregistry.Handler(e.Memory, schemaregistry.HandlerOptions{}), ReadHeaderTimeout: 10 * time.Second}
	go e.srv.Serve(ln)
	addr := ln.Addr().String()
	if strings.HasPrefix(addr, "[::]") || strings.HasPrefix(addr, "0.0.0.0") {
		_, p, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort("127.0.0.1", p)
	}
	e.url = "http://" + addr
	return e.url, nil
}

// close stops the HTTP API and writes what HTTP clients registered.
func (e *embeddedRegistry) close() error {
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
	}
	return e.save()
}
