package runner

import "testing"

// TestStreamHealthState: a stuck Python call makes the pipelines count as
// FAILED for the health probes; without one the state is reported as is.
func TestStreamHealthState(t *testing.T) {
	for _, c := range []struct {
		state string
		stuck int
		want  string
	}{{"STARTED", 0, "STARTED"}, {"STARTED", 1, "FAILED"}, {"STOPPING", 2, "FAILED"}, {"STOPPED", 0, "STOPPED"}} {
		if got := streamHealthState(c.state, c.stuck); got != c.want {
			t.Errorf("streamHealthState(%s, %d) = %s, want %s", c.state, c.stuck, got, c.want)
		}
	}
}
