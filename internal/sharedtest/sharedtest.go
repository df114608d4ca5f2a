// Package sharedtest locates the shared test material that sits beside the
// repository as ../shared (the upstream KSML corpus, the acceptance suites
// and the seed), for tests that check ksml against it.
//
// A fresh clone does not have ../shared, so such tests skip, each saying
// what it needs; `go test -v ./... | grep 'needs ../shared'` lists them.
// Under CI=true, where the material must be present, a missing path fails
// the test instead, so CI cannot pass by skipping.
package sharedtest

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// Root returns the absolute path of ../shared beside the repository root,
// whether it exists or not.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "shared")
	}
	// file is <repo>/internal/sharedtest/sharedtest.go.
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(filepath.Dir(repo), "shared")
}

// Path returns the absolute path of rel (slash-separated, under ../shared).
// When it does not exist the test skips, or fails under CI=true.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Root(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Missing(t, p)
	}
	return p
}

// Missing ends the test because the shared material at path is absent:
// a skip that names the path, or a failure under CI=true.
func Missing(t testing.TB, path string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("needs ../shared: %s is absent (CI=true requires the shared material beside the repository)", path)
	}
	t.Skipf("needs ../shared: %s is absent (the upstream corpus and acceptance suites beside the repository)", path)
}
