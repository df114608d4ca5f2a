package kafkaio

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A fetch error not tied to a partition (the brokers cannot be reached)
// is logged as such, not as a fetch error of topic "".
func TestUnreachableClusterIsNamed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := &Engine{log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := e.handleFetchErrors(kgo.NewErrFetch(errors.New("dial tcp 127.0.0.1:9092: connect: connection refused"))); err != nil {
		t.Fatal(err)
	}
	want := `level=WARN msg="cannot fetch from the Kafka cluster; retrying" error="dial tcp 127.0.0.1:9092: connect: connection refused"`
	if got := strings.TrimSpace(buf.String()); !strings.HasSuffix(got, want) || strings.Contains(got, `topic=""`) {
		t.Errorf("log %q, want it to end with %q", got, want)
	}
}
