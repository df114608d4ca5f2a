package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ksml-dev/ksml/internal/yamlspec"
)

// Resolved holds the directories and definition files of a configuration
// as absolute, checked paths.
type Resolved struct {
	ConfigDirectory  string
	SchemaDirectory  string
	StorageDirectory string
	// Definitions are in configuration order; Path is set for file
	// definitions, Inline for inline ones.
	Definitions []ResolvedDefinition
}

// ResolvedDefinition is a definition with its file located.
type ResolvedDefinition struct {
	Definition
	// Path is the absolute path of the definition file; empty for inline
	// definitions.
	Path string
}

// Resolve checks the directories and definition files, as upstream does at
// startup: relative paths are relative to workDir (empty: the process's
// working directory); the config and schema directories must exist; the
// storage directory must exist unless createStorageDirectory is set, in
// which case it is created; every definition file must be a regular file
// under the config directory (or an absolute path). Every problem is
// reported, as Errors.
func (c *Config) Resolve(workDir string) (*Resolved, error) {
	if workDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		workDir = wd
	}
	var errs yamlspec.Collector
	k := &c.KSML
	r := &Resolved{}
	abs := func(p string) string {
		if p == "" {
			return filepath.Clean(workDir)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(workDir, p)
		}
		return filepath.Clean(p)
	}
	dir := func(key, value string, create bool) string {
		p := abs(value)
		pos := k.pos[key]
		if pos.File == "" {
			pos.File = c.File
		}
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && create {
			if err := os.MkdirAll(p, 0o755); err != nil {
				errs.Add(pos, "ksml.%s: cannot create directory %s: %v", key, p, err)
				return p
			}
			return p
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			hint := ""
			if key == "storageDirectory" {
				hint = " (set createStorageDirectory: true to create it)"
			}
			errs.Add(pos, "ksml.%s: directory %s does not exist%s", key, p, hint)
		case err != nil:
			errs.Add(pos, "ksml.%s: %v", key, err)
		case !st.IsDir():
			errs.Add(pos, "ksml.%s: %s is not a directory", key, p)
		}
		return p
	}
	r.ConfigDirectory = dir("configDirectory", k.ConfigDirectory, false)
	r.SchemaDirectory = dir("schemaDirectory", k.SchemaDirectory, false)
	r.StorageDirectory = dir("storageDirectory", k.StorageDirectory, k.CreateStorageDirectory)

	for _, d := range k.Definitions {
		rd := ResolvedDefinition{Definition: d}
		if d.Inline == nil {
			p := d.File
			if !filepath.IsAbs(p) {
				p = filepath.Join(r.ConfigDirectory, p)
			}
			rd.Path = filepath.Clean(p)
			st, err := os.Stat(rd.Path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				errs.Add(d.Pos, "ksml.definitions.%s: definition file %s does not exist", d.Namespace, rd.Path)
			case err != nil:
				errs.Add(d.Pos, "ksml.definitions.%s: %v", d.Namespace, err)
			case !st.Mode().IsRegular():
				errs.Add(d.Pos, "ksml.definitions.%s: %s is not a regular file", d.Namespace, rd.Path)
			}
		}
		r.Definitions = append(r.Definitions, rd)
	}
	if errs.Len() > 0 {
		errs.List.Sort()
		return nil, errs.List
	}
	return r, nil
}
