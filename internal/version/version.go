// Package version tells which ksml a binary is: its version, the commit it
// was built from, when it was built, and the Go toolchain it was built with.
//
// The values come from two places, in this order:
//
//  1. Link-time settings (-ldflags -X): scripts/release sets version,
//     commit and buildTime of this package, asking `go list
//     ./internal/version` for its import path rather than writing it out,
//     so the script keeps working whatever the module is called. cmd/ksml
//     also accepts -X main.version and hands it to Get.
//  2. What the Go toolchain stamps into every binary (runtime/debug.BuildInfo):
//     `go install <module>/cmd/ksml@v1.2.3` records the module version
//     v1.2.3; `go build` in a git checkout records a version derived from
//     the commit (v0.0.0-20261201093000-0123456789ab, +dirty with local
//     changes) and the vcs.revision, vcs.time and vcs.modified settings.
//
// "dev" is reported only when neither source knows anything, which happens
// for builds outside a checkout or with -buildvcs=false and no -ldflags.
// Nothing here fails: unknown fields are empty and print as "unknown".
package version

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set with -ldflags -X; empty means not set.
var (
	version   string
	commit    string
	buildTime string
)

// Info describes a build.
type Info struct {
	// Version is a release version (v1.2.3), a Go pseudo-version naming
	// the commit, or "dev" when nothing is known.
	Version string
	// Commit is the full commit hash, or a 12-character prefix when only a
	// pseudo-version names it; empty when unknown.
	Commit string
	// Modified is true when the working tree had uncommitted changes.
	Modified bool
	// BuildTime is when the binary was built (RFC 3339, UTC) as the release
	// build records it; empty when unknown.
	BuildTime string
	// CommitTime is the commit's time from the VCS stamp; empty when unknown.
	CommitTime string
	// GoVersion is the toolchain that built the binary (go1.26.8).
	GoVersion string
	// Platform is GOOS/GOARCH.
	Platform string
	// Python is the embedded interpreter's version; the caller fills it in,
	// since this package does not link CPython.
	Python string
}

// Get resolves the build information of the running binary, with a version
// given to cmd/ksml through -X main.version taking the place of this
// package's own when set.
func Get(mainVersion string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return Resolve(Stamp{Version: firstNonEmpty(version, mainVersion), Commit: commit, BuildTime: buildTime}, bi)
}

// Stamp holds the link-time settings.
type Stamp struct{ Version, Commit, BuildTime string }

// pseudoRev matches the commit suffix of a Go pseudo-version
// (v0.0.0-20261201093000-0123456789ab, v1.2.4-0.20261201093000-0123456789ab).
var pseudoRev = regexp.MustCompile(`[.-]\d{14}-([0-9a-f]{12})(?:\+|$)`)

// Resolve combines the link-time settings with the toolchain's build
// information (nil when the binary has none).
func Resolve(s Stamp, bi *debug.BuildInfo) Info {
	info := Info{
		Version:   strings.TrimSpace(s.Version),
		Commit:    strings.TrimSpace(s.Commit),
		BuildTime: strings.TrimSpace(s.BuildTime),
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	var modVersion string
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			modVersion = v
		}
		var revision string
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				revision = kv.Value
			case "vcs.time":
				info.CommitTime = kv.Value
			case "vcs.modified":
				info.Modified = kv.Value == "true"
			}
		}
		if info.Commit == "" {
			info.Commit = revision
		}
	}
	if info.Commit == "" && modVersion != "" {
		// go install module@version builds from a module zip: no VCS
		// stamp, but a pseudo-version names its commit.
		if m := pseudoRev.FindStringSubmatch(modVersion); m != nil {
			info.Commit = m[1]
		}
	}
	if strings.HasSuffix(modVersion, "+dirty") {
		info.Modified = true
	}
	switch {
	case info.Version != "":
	case modVersion != "":
		info.Version = modVersion
	case info.Commit != "":
		info.Version = "v0.0.0-" + short(info.Commit)
		if info.Modified {
			info.Version += "+dirty"
		}
	default:
		info.Version = "dev"
	}
	return info
}

// Short is the one-line form that --version prints.
func (i Info) Short() string {
	var parts []string
	if i.Commit != "" {
		c := "commit " + short(i.Commit)
		if i.Modified {
			c += " (modified)"
		}
		parts = append(parts, c)
	}
	if i.BuildTime != "" {
		parts = append(parts, "built "+i.BuildTime)
	}
	parts = append(parts, i.GoVersion)
	if i.Python != "" {
		parts = append(parts, "python "+i.Python)
	}
	return i.Version + " (" + strings.Join(parts, ", ") + ")"
}

// Long is the multi-line form that `ksml version` prints, one "name: value"
// line per field, unknown values written as "unknown".
func (i Info) Long() string {
	commit := unknown(i.Commit)
	if i.Modified {
		commit += " (modified)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "version:     %s\n", i.Version)
	fmt.Fprintf(&b, "commit:      %s\n", commit)
	fmt.Fprintf(&b, "commit time: %s\n", unknown(i.CommitTime))
	fmt.Fprintf(&b, "built:       %s\n", unknown(i.BuildTime))
	fmt.Fprintf(&b, "go:          %s %s\n", i.GoVersion, i.Platform)
	fmt.Fprintf(&b, "python:      %s\n", unknown(i.Python))
	return b.String()
}

func unknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
