package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build information.
var version = ""

// buildInfo returns the version, the VCS commit and the Go version.
func buildInfo() (ver, commit, goVersion string) {
	ver, commit = version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	if ver == "" {
		ver = "dev"
	}
	return ver, commit, runtime.Version()
}

// userAgent is sent with every API request and webhook.
func userAgent() string {
	v, _, _ := buildInfo()
	return "rtkwatchd/" + v
}

func cmdVersion(env *environment) error {
	v, c, g := buildInfo()
	fmt.Fprintf(env.stdout, "rtkwatchd %s\ncommit %s\n%s\n", v, c, g)
	return nil
}
