package topology

import (
	"testing"
)

// BenchmarkPythonMapValuesJSON measures a json -> Python mapValues -> json
// pipeline per record on the test driver (engine, notation and bridge).
func BenchmarkPythonMapValuesJSON(b *testing.B) {
	h, err := yamlBuild(b, jsonStreams+`
pipelines:
  p:
    from: in
    via:
      - type: mapValues
        mapper:
          code: |
            value["total"] = value["price"] * value["qty"]
            return value
          resultType: json
    to: out
`)
	if err != nil {
		b.Fatalf("build: %v", err)
	}
	key := []byte("order-1")
	value := []byte(`{"id":"order-1","price":2.5,"qty":4,"customer":"c1","items":["a","b"]}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.drv.Pipe("in", key, value, int64(i), nil); err != nil {
			b.Fatal(err)
		}
		if i%4096 == 0 {
			h.drv.ReadOutput("out")
		}
	}
}
