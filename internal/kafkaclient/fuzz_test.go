package kafkaclient

import "testing"

func FuzzParseJAAS(f *testing.F) {
	f.Add(`org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b\"c";`)
	f.Add(`M required a=b c="d\\";`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseJAAS(s)
		if err == nil && (e == nil || e.module == "") {
			t.Fatalf("parsed %q without a module", s)
		}
	})
}
