package kafkaio

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/ksml-dev/ksml/internal/streams"
)

func TestFitRecordCutsValueThenKey(t *testing.T) {
	t.Parallel()
	hs := []streams.Header{{Key: "h", Value: []byte("v")}}
	// h + v + 10 for varints, the margin, and the truncation header's room.
	overhead := deadLetterMargin + 1 + 1 + 10
	budget := 4096 - overhead - len(HeaderTruncated) - 64

	k, v, note := fitRecord([]byte("key"), []byte("small"), hs, 4096)
	if string(k) != "key" || string(v) != "small" || note != "" {
		t.Errorf("a record that fits: %q %q %q", k, v, note)
	}
	k, v, note = fitRecord([]byte("key"), bytes.Repeat([]byte("v"), 10000), hs, 4096)
	if string(k) != "key" || len(v) != budget-3 || note != "value 10000 -> "+itoa(budget-3)+" bytes" {
		t.Errorf("a large value: key %q, value %d bytes, note %q (budget %d)", k, len(v), note, budget)
	}
	k, v, note = fitRecord(bytes.Repeat([]byte("k"), 5000), bytes.Repeat([]byte("v"), 10000), hs, 4096)
	if len(k) != budget || len(v) != 0 || note != "key 5000 -> "+itoa(budget)+" bytes, value 10000 -> 0 bytes" {
		t.Errorf("a large key: key %d bytes, value %d bytes, note %q", len(k), len(v), note)
	}
}

func itoa(n int) string {
	return strconv.Itoa(n)
}
