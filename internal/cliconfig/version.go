package cliconfig

import (
	"flag"
	"runtime/debug"
)

// VersionFlag is the name of the flag that prints a binary's version and
// exits 0. It has no environment twin: it is an action, not a setting.
const VersionFlag = "version"

// Version returns the version of the binary built as bi, for -version:
// the module version ("v1.4.0", or "(devel)" for a build from a work
// tree), then the VCS revision and time when the build recorded them
// ("(devel) rev 1a2b3c4d5e6f 2026-11-27T10:00:00Z", with "+dirty" for
// uncommitted changes). A nil bi (no build information) gives "unknown".
func Version(bi *debug.BuildInfo) string {
	if bi == nil {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	v += " rev " + rev
	if at != "" {
		v += " " + at
	}
	return v
}

// BinaryVersion returns Version of the running binary's build
// information.
func BinaryVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version(nil)
	}
	return Version(bi)
}

// AddVersion defines -version on fs and returns its value.
func AddVersion(fs *flag.FlagSet) *bool {
	return fs.Bool(VersionFlag, false, "print the version (module version and VCS revision) and exit")
}
