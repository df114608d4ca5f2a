package testgate

import "testing"

func TestEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "1": true, "true": true} {
		t.Setenv(Env, v)
		if got := Enabled(); got != want {
			t.Errorf("%s=%q: Enabled() = %v, want %v", Env, v, got, want)
		}
	}
}

func TestLongRunsWhenEnabled(t *testing.T) {
	t.Setenv(Env, "1")
	ran := t.Run("gated", func(t *testing.T) { Long(t, "test") })
	if !ran {
		t.Error("a gated test did not run with KSML_LONG_TESTS=1")
	}
}

func TestLongSkipsWhenDisabled(t *testing.T) {
	t.Setenv(Env, "")
	var skipped bool
	t.Run("gated", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Long(t, "test")
	})
	if !skipped {
		t.Error("a gated test ran without KSML_LONG_TESTS")
	}
}
