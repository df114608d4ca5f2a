package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Root is the directory beside the repository root (the one holding go.mod).
func TestRootIsBesideTheRepository(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Dir(filepath.Dir(wd))
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", repo, err)
	}
	if got, want := Root(), filepath.Join(filepath.Dir(repo), "shared"); got != want {
		t.Errorf("Root() = %s, want %s", got, want)
	}
}
