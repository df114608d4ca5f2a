package streams

import "testing"

func TestMurmur2MatchesKafka(t *testing.T) {
	// Reference values from Kafka's UtilsTest.testMurmur2.
	cases := map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	}
	for k, want := range cases {
		if got := int32(murmur2([]byte(k))); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", k, got, want)
		}
	}
	if got := DefaultPartition(nil, 3); got != -1 {
		t.Errorf("null key: got %d want -1", got)
	}
	if got, want := DefaultPartition([]byte("abc"), 7), int32((479470107&0x7fffffff)%7); got != want {
		t.Errorf("abc: got %d want %d", got, want)
	}
}
