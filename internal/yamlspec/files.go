package yamlspec

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DirFiles lists the YAML files (*.yaml and *.yml, any case, regular
// files, direct children only) of dir for which keep returns true, sorted.
// keep sees each file's content, or the error reading it. The error is
// that of reading the directory.
func DirFiles(dir string, keep func(src []byte, err error) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		name := strings.ToLower(e.Name())
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if keep(os.ReadFile(path)) {
			files = append(files, path)
		}
	}
	sort.Strings(files)
	return files, nil
}
