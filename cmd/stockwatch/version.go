package main

import (
	"context"
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

func versionCmd() *command {
	return &command{
		name:    "version",
		summary: "print the client's version",
		help:    "Prints the version of this client. It does not contact the server.",
		example: "stockwatch version",
		run: func(_ context.Context, s *session, _ []string) error {
			if s.out.json {
				b, err := json.Marshal(struct {
					Version string `json:"version"`
				}{versionString()})
				if err != nil {
					return err
				}
				return s.out.jsonLine(b)
			}
			return s.out.text("stockwatch %s", versionString())
		},
	}
}
