package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-12-01T09:30:00Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	bi := func(v string, s []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/any/module", Version: v}, Settings: s}
	}
	for _, tc := range []struct {
		name  string
		stamp Stamp
		bi    *debug.BuildInfo
		want  Info
	}{
		{"nothing known", Stamp{}, nil,
			Info{Version: "dev"}},
		{"devel build without VCS", Stamp{}, bi("(devel)", nil),
			Info{Version: "dev", GoVersion: "go1.26.8"}},
		{"release build with -ldflags wins over the stamp", Stamp{Version: "v1.2.3", Commit: "feedface", BuildTime: "2026-12-02T00:00:00Z"}, bi("v0.0.0-20261201093000-0123456789ab", vcs("false")),
			Info{Version: "v1.2.3", Commit: "feedface", BuildTime: "2026-12-02T00:00:00Z", CommitTime: "2026-12-01T09:30:00Z", GoVersion: "go1.26.8"}},
		{"go build in a checkout", Stamp{}, bi("v0.0.0-20261201093000-0123456789ab", vcs("false")),
			Info{Version: "v0.0.0-20261201093000-0123456789ab", Commit: rev, CommitTime: "2026-12-01T09:30:00Z", GoVersion: "go1.26.8"}},
		{"go build in a modified checkout", Stamp{}, bi("v0.0.0-20261201093000-0123456789ab+dirty", vcs("true")),
			Info{Version: "v0.0.0-20261201093000-0123456789ab+dirty", Commit: rev, Modified: true, CommitTime: "2026-12-01T09:30:00Z", GoVersion: "go1.26.8"}},
		{"VCS stamp without a module version", Stamp{}, bi("(devel)", vcs("true")),
			Info{Version: "v0.0.0-0123456789ab+dirty", Commit: rev, Modified: true, CommitTime: "2026-12-01T09:30:00Z", GoVersion: "go1.26.8"}},
		{"go install at a tag", Stamp{}, bi("v1.4.0", nil),
			Info{Version: "v1.4.0", GoVersion: "go1.26.8"}},
		{"go install at a commit", Stamp{}, bi("v1.4.1-0.20261201093000-0123456789ab", nil),
			Info{Version: "v1.4.1-0.20261201093000-0123456789ab", Commit: "0123456789ab", GoVersion: "go1.26.8"}},
		{"main.version only", Stamp{Version: " 0.0.0-test "}, bi("(devel)", nil),
			Info{Version: "0.0.0-test", GoVersion: "go1.26.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(tc.stamp, tc.bi)
			want := tc.want
			if want.GoVersion == "" {
				want.GoVersion = runtime.Version()
			}
			want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got != want {
				t.Errorf("Resolve:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	i := Info{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Modified: true,
		BuildTime: "2026-12-02T00:00:00Z", CommitTime: "2026-12-01T09:30:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64", Python: "3.11.2"}
	if got, want := i.Short(), "v1.2.3 (commit 0123456789ab (modified), built 2026-12-02T00:00:00Z, go1.26.8, python 3.11.2)"; got != want {
		t.Errorf("Short:\n got %s\nwant %s", got, want)
	}
	want := strings.Join([]string{
		"version:     v1.2.3",
		"commit:      0123456789abcdef0123456789abcdef01234567 (modified)",
		"commit time: 2026-12-01T09:30:00Z",
		"built:       2026-12-02T00:00:00Z",
		"go:          go1.26.8 linux/arm64",
		"python:      3.11.2",
		"",
	}, "\n")
	if got := i.Long(); got != want {
		t.Errorf("Long:\n%s\nwant\n%s", got, want)
	}
	dev := Info{Version: "dev", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	if got, want := dev.Short(), "dev (go1.26.8)"; got != want {
		t.Errorf("Short: got %s, want %s", got, want)
	}
	if got := dev.Long(); !strings.Contains(got, "commit:      unknown\n") || !strings.Contains(got, "built:       unknown\n") {
		t.Errorf("Long of an unknown build:\n%s", got)
	}
}
