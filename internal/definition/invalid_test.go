package definition_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksml-dev/ksml/internal/definition"
)

// TestInvalidDefinitions checks every file of testdata/invalid against its
// .want file: one "line:col: message" per diagnostic, in order.
func TestInvalidDefinitions(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid testdata: %v", err)
	}
	checker := pythonChecker()
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			wantSrc, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Split(strings.TrimSpace(string(wantSrc)), "\n")
			_, err = definition.Load(file, definition.Options{Code: checker})
			var ds definition.Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("want diagnostics, got %v", err)
			}
			var got []string
			for _, d := range ds {
				if d.Pos.File != file {
					t.Errorf("diagnostic names file %q, want %q", d.Pos.File, file)
				}
				got = append(got, strings.TrimPrefix(d.Error(), file+":"))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("diagnostics differ\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
