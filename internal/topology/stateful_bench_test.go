package topology

import (
	"fmt"
	"path/filepath"
	"testing"
)

const countDef = `
streams:
  in:
    topic: in
    keyType: string
    valueType: string
  out:
    topic: out
    keyType: string
    valueType: long
stores:
  counts:
    type: keyValue
    keyType: string
    valueType: long
    persistent: %v
    logging: true
pipelines:
  main:
    from: in
    via:
      - type: groupByKey
      - type: count
        store: counts
      - type: toStream
    to: out
`

// benchmarkCount measures count per key (1000 keys, changelog logging on)
// per record on the test driver: deserialize, store read and write, the
// changelog record, and the output record.
func benchmarkCount(b *testing.B, persistent bool) {
	h := persistentHarness(b, fmt.Sprintf(countDef, persistent), filepath.Join(b.TempDir(), "app"))
	defer h.drv.Close()
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("user-%04d", i))
	}
	value := []byte("click")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.drv.Pipe("in", keys[i%len(keys)], value, int64(i), nil); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 0 {
			h.drv.ReadOutput("out")
			h.drv.ReadOutput("app-counts-changelog")
		}
	}
}

func BenchmarkCountInMemory(b *testing.B)   { benchmarkCount(b, false) }
func BenchmarkCountPersistent(b *testing.B) { benchmarkCount(b, true) }
