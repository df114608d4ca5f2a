package main

import (
	"fmt"
	"os"
	"regexp"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// needFiles is the Args check of commands that take files: with none it
// says what to give, with an example, instead of cobra's "requires at least
// 1 arg(s)".
func needFiles(what, example string) func(cmd interface{ Name() string }, args []string) error {
	return func(cmd interface{ Name() string }, args []string) error {
		if len(args) == 0 {
			return fmt.Errorf("ksml %s needs %s, e.g. ksml %s %s", cmd.Name(), what, cmd.Name(), example)
		}
		return nil
	}
}

// notDefinition finds the top-level keys of YAML files that sit beside
// definitions but are not ones: test suites (tests:, definition:) and
// runner configurations (ksml:, kafka:).
var notDefinition = regexp.MustCompile(`(?m)^(tests|definition|ksml|kafka)[ \t]*:`)

// definitionFiles expands directories into the definition files they hold
// (*.yaml and *.yml, direct children, without test suites and runner
// configurations); files are taken as given. A missing path is an error.
func definitionFiles(args []string) ([]string, error) {
	var files []string
	for _, p := range args {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: no such file or directory", p)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := yamlspec.DirFiles(p, func(src []byte, err error) bool {
			return err != nil || !notDefinition.Match(src)
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no definition files (*.yaml, *.yml) in this directory", p)
		}
		files = append(files, found...)
	}
	return files, nil
}
