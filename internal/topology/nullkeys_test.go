package topology

import "testing"

// A stream's repartition topic drops records with a null key, unless a
// join that accepts them follows (Kafka Streams' KIP-962 rewrite).
func TestRepartitionNullKeys(t *testing.T) {
	const head = `
streams:
  in:
    topic: in
    keyType: string
    valueType: string
  out:
    topic: out
    keyType: string
    valueType: string
tables:
  tbl:
    topic: tbl
    keyType: string
    valueType: string
pipelines:
  main:
    from: in
    via:
      - type: repartition
`
	cases := []struct {
		name, tail string
		want       []string
	}{
		{"dropped", "    to: out\n", []string{"k=v1"}},
		{"kept for a left join", `      - type: leftJoin
        table: tbl
        valueJoiner:
          expression: 'value1 + "/" + str(value2)'
          resultType: string
    to: out
`, []string{"null=v0/None", "k=v1/None"}},
		{"dropped before an inner join", `      - type: join
        table: tbl
        valueJoiner:
          expression: 'value1 + "/" + str(value2)'
          resultType: string
    to: out
`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := yamlHarness(t, head+c.tail)
			h.mustPipe("in", "string", "string", nil, "v0", 1)
			h.mustPipe("in", "string", "string", "k", "v1", 2)
			expect(t, "out", h.out("out", "string", "string"), c.want...)
		})
	}
}
