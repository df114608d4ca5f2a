package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ksml-dev/ksml/internal/testgate"
)

// buildKSML builds cmd/ksml into a temporary directory with extra go build
// arguments and returns the binary's path.
func buildKSML(t *testing.T, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the ksml binary")
	}
	bin := filepath.Join(t.TempDir(), "ksml")
	cmd := exec.Command("go", append(append([]string{"build"}, args...), "-o", bin, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
	return bin
}

func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ksml %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestVersionFromLdflags builds the binary the way scripts/release does and
// checks both `ksml version` and `ksml --version` print exactly what was
// stamped, plus the Go and Python versions of the build.
func TestVersionFromLdflags(t *testing.T) {
	testgate.Long(t, "builds the binary")
	t.Parallel()
	pkg, err := exec.Command("go", "list", "../../internal/version").Output()
	if err != nil {
		t.Fatal(err)
	}
	p := strings.TrimSpace(string(pkg))
	const commit = "0123456789abcdef0123456789abcdef01234567"
	bin := buildKSML(t, "-buildvcs=false", "-ldflags",
		"-X "+p+".version=v9.8.7 -X "+p+".commit="+commit+" -X "+p+".buildTime=2026-12-02T00:00:00Z")
	py := pythonVersion(t)
	want := "version:     v9.8.7\n" +
		"commit:      " + commit + "\n" +
		"commit time: unknown\n" +
		"built:       2026-12-02T00:00:00Z\n" +
		"go:          " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n" +
		"python:      " + py + "\n"
	if got := runBinary(t, bin, "version"); got != want {
		t.Errorf("ksml version:\n%s\nwant\n%s", got, want)
	}
	wantShort := "ksml v9.8.7 (commit 0123456789ab, built 2026-12-02T00:00:00Z, " + runtime.Version() + ", python " + py + ")\n"
	if got := runBinary(t, bin, "--version"); got != wantShort {
		t.Errorf("ksml --version:\n got %q\nwant %q", got, wantShort)
	}
}

// TestVersionFromVCSStamp checks that a plain `go build` in a git checkout
// reports the checkout's commit instead of "dev". Go stamps VCS data only
// when the module root holds a .git directory (a clone, not a worktree).
func TestVersionFromVCSStamp(t *testing.T) {
	testgate.Long(t, "builds the binary")
	t.Parallel()
	fi, err := os.Stat("../../.git")
	if err != nil || !fi.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs on a clone, but ../../.git is not a directory (%v)", err)
		}
		t.Skip("not a git clone with a .git directory (a worktree or an exported tree): Go stamps no VCS data here")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := strings.TrimSpace(string(head))
	bin := buildKSML(t, "-buildvcs=true")
	got := runBinary(t, bin, "version")
	if !strings.Contains(got, "commit:      "+rev) {
		t.Errorf("ksml version does not name commit %s:\n%s", rev, got)
	}
	m := regexp.MustCompile(`(?m)^version:     (\S+)$`).FindStringSubmatch(got)
	if m == nil || m[1] == "dev" || !strings.Contains(m[1], rev[:12]) {
		t.Errorf("ksml version: want a version naming %s, got:\n%s", rev[:12], got)
	}
	ct := regexp.MustCompile(`(?m)^commit time: (\S+)$`).FindStringSubmatch(got)
	if ct == nil {
		t.Fatalf("no commit time:\n%s", got)
	}
	if _, err := time.Parse(time.RFC3339, ct[1]); err != nil {
		t.Errorf("commit time %q: %v", ct[1], err)
	}
}

// pythonVersion is the version of the CPython headers the binary is
// compiled against (PY_VERSION); Debian's libpython of the same package
// version is what it links.
func pythonVersion(t *testing.T) string {
	out, err := exec.Command("pkg-config", "--cflags-only-I", "python3-embed").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join(strings.TrimPrefix(f, "-I"), "patchlevel.h"))
		if err != nil {
			continue
		}
		if m := regexp.MustCompile(`#define PY_VERSION\s+"([^"]+)"`).FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	t.Fatalf("no patchlevel.h with PY_VERSION under %s", out)
	return ""
}
