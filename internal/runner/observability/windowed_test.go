package observability

import "testing"

func TestInstantFormatsAsJavaInstant(t *testing.T) {
	for ms, want := range map[int64]string{
		0:             "1970-01-01T00:00:00Z",
		100:           "1970-01-01T00:00:00.100Z",
		1700000000000: "2023-11-14T22:13:20Z",
		1700000001234: "2023-11-14T22:13:21.234Z",
	} {
		if got := instant(ms); got != want {
			t.Errorf("instant(%d) = %s, want %s", ms, got, want)
		}
	}
}
