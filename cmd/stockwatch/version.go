package main

import (
	"encoding/json"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version of a "go install …@version" build is used,
// and "dev" for a build from a work tree.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// printVersion prints the client's version: {"version":"…"} with -o
// json, "stockwatch VERSION" otherwise.
func printVersion(out *printer) error {
	if out.json {
		b, err := json.Marshal(struct {
			Version string `json:"version"`
		}{versionString()})
		if err != nil {
			return err
		}
		return out.jsonLine(b)
	}
	return out.text("stockwatch %s", versionString())
}
