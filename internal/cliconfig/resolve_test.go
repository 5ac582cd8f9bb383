package cliconfig_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"5s", 5 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0", 0, ""},
		{"5", 0, "missing unit: try 5s"},
		{"1.5", 0, "missing unit: try 1.5s"},
		{" 60 ", 0, "missing unit: try 60s"},
		{"-3", 0, "missing unit: try -3s"},
		{"soon", 0, "not a duration like 90s, 5m or 1h30m"},
		{"", 0, "not a duration like 90s, 5m or 1h30m"},
		{"5d", 0, "not a duration like 90s, 5m or 1h30m"},
		{"NaN", 0, "not a duration like 90s, 5m or 1h30m"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := cliconfig.ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestDurationFlag checks the messages of a duration flag from the
// command line and from its twin, and its usage line.
func TestDurationFlag(t *testing.T) {
	t.Parallel()
	var d time.Duration
	fs := cliconfig.NewFlagSet("prog")
	cliconfig.DurationVar(fs, &d, "interval", time.Minute, "collection period")
	err := cliconfig.Parse(fs, []string{"-interval", "5"}, io.Discard, func(io.Writer) {})
	if want := `invalid value "5" for flag -interval: missing unit: try 5s`; err == nil || err.Error() != want {
		t.Errorf("Parse = %v, want %q", err, want)
	}
	fs = cliconfig.NewFlagSet("prog")
	cliconfig.DurationVar(fs, &d, "interval", time.Minute, "collection period")
	err = cliconfig.Twins{}.Apply(fs, cliconfig.MapEnv{"STOCKWATCH_INTERVAL": "5"}.Lookup)
	if want := `invalid STOCKWATCH_INTERVAL="5": missing unit: try 5s`; err == nil || err.Error() != want {
		t.Errorf("Apply = %v, want %q", err, want)
	}
	var sb strings.Builder
	cliconfig.PrintFlags(&sb, fs, nil, nil)
	if want := "  -interval duration\n    \tcollection period (default 1m0s)\n"; sb.String() != want {
		t.Errorf("PrintFlags = %q, want %q", sb.String(), want)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	setting := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"NoBuildInfo", nil, "unknown"},
		{"Release", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"WorkTreeWithoutVCS", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
		{"EmptyVersion", &debug.BuildInfo{}, "(devel)"},
		{"WorkTree", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261127100000-1a2b3c4d5e6f"},
			Settings: setting("vcs.revision", "1a2b3c4d5e6f7a8b9c0d", "vcs.time", "2026-11-27T10:00:00Z", "vcs.modified", "false")},
			"v0.0.0-20261127100000-1a2b3c4d5e6f rev 1a2b3c4d5e6f 2026-11-27T10:00:00Z"},
		{"Dirty", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: setting("vcs.revision", "abc123", "vcs.modified", "true")},
			"(devel) rev abc123+dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cliconfig.Version(tt.bi); got != tt.want {
				t.Errorf("Version = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTwinsNameVersion(t *testing.T) {
	t.Parallel()
	if got := (cliconfig.Twins{}).Name(cliconfig.VersionFlag); got != "" {
		t.Errorf("Name(version) = %q, want none", got)
	}
}

// writeConfig writes a configuration file and returns its path.
func writeConfig(tb testing.TB, text string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestResolve checks the precedence of the layers: flags > env > file >
// defaults, with the empty-variable rule for the file too.
func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		file    string // TOML; "" for no file
		want    func(*values)
		sources map[string]string // of the flags whose source is not the default
	}{
		{"Defaults", nil, nil, "", func(*values) {}, nil},
		{"FileSets", nil, nil, "http_addr = \"127.0.0.1:9\"\nn = 7\nu = 9\nd = \"2m\"\nb = false\n",
			func(v *values) { v.Addr, v.N, v.U, v.D, v.B = "127.0.0.1:9", 7, 9, 2*time.Minute, false },
			map[string]string{"http-addr": "file", "n": "file", "u": "file", "d": "file", "b": "file"}},
		{"EnvWinsOverFile", nil, map[string]string{"STOCKWATCH_N": "8"}, "n = 7\n", func(v *values) { v.N = 8 }, map[string]string{"n": "env"}},
		{"FlagWinsOverEnvAndFile", []string{"-n", "1"}, map[string]string{"STOCKWATCH_N": "8"}, "n = 7\n", func(v *values) { v.N = 1 }, map[string]string{"n": "flag"}},
		{"FlagWinsOverBadFile", []string{"-d", "1s"}, nil, "d = \"soon\"\n", func(v *values) { v.D = time.Second }, map[string]string{"d": "flag"}},
		{"EmptyEnvWinsOverFile", nil, map[string]string{"STOCKWATCH_HTTP_ADDR": ""}, "http_addr = \"127.0.0.1:9\"\n", func(v *values) { v.Addr = "" }, map[string]string{"http-addr": "env"}},
		{"EmptyFileValueEmpties", nil, nil, "http_addr = \"\"\n", func(v *values) { v.Addr = "" }, map[string]string{"http-addr": "file"}},
		{"FileFillsWhatEnvLeaves", nil, map[string]string{"STOCKWATCH_N": "8"}, "n = 7\nu = 6\n", func(v *values) { v.N, v.U = 8, 6 }, map[string]string{"n": "env", "u": "file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var file *cliconfig.File
			if tt.file != "" {
				var err error
				if file, err = cliconfig.ReadFile(writeConfig(t, tt.file), false); err != nil {
					t.Fatal(err)
				}
			}
			got, fs := parseFlags(t, tt.args)
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			sources, err := cliconfig.Twins{}.Resolve(fs, func(n string) bool { return given[n] }, cliconfig.MapEnv(tt.env).Lookup, file)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			wantValues(t, *got, tt.want)
			wantSources := map[string]string{"http-addr": "default", "n": "default", "u": "default", "d": "default", "b": "default"}
			for k, v := range tt.sources {
				wantSources[k] = v
			}
			if diff := cmp.Diff(wantSources, sources); diff != "" {
				t.Errorf("sources mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		noFile     []string
		want       string // after the file's path
	}{
		{"BadValue", "n = \"many\"\n", nil, `invalid n = "many" in PATH: parse error`},
		{"DurationWithoutUnit", "d = 5\n", nil, `invalid d = "5" in PATH: missing unit: try 5s`},
		{"UnknownKey", "adress = \"x\"\n", nil, `PATH: unknown key "adress" (want one of b, d, http_addr, n, u)`},
		{"FlagNameNotKey", "http-addr = \"x\"\n", nil, `PATH: unknown key "http-addr" (want one of b, d, http_addr, n, u)`},
		{"Excluded", "n = 3\n", []string{"n"}, `PATH: unknown key "n" (want one of b, d, http_addr, u)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tt.file)
			file, err := cliconfig.ReadFile(path, false)
			if err != nil {
				t.Fatal(err)
			}
			v := defaults()
			fs := testFlags("prog", &v)
			_, err = cliconfig.Twins{NoFile: tt.noFile}.Resolve(fs, func(string) bool { return false }, cliconfig.MapEnv{}.Lookup, file)
			wantUsage(t, "Resolve", err, "prog", replacePath(tt.want, path))
		})
	}
}

func replacePath(s, path string) string { return strings.ReplaceAll(s, "PATH", path) }

func TestReadFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none.toml")
	if f, err := cliconfig.ReadFile(missing, true); f != nil || err != nil {
		t.Errorf("ReadFile(missing, missingOK) = %v, %v; want nil, nil", f, err)
	}
	if _, err := cliconfig.ReadFile(missing, false); err == nil || err.Error() != "read configuration: open "+missing+": no such file or directory" {
		t.Errorf("ReadFile(missing) = %v, want the open error", err)
	}
	bad := writeConfig(t, "addr = \"x\"\nthis is not toml\n")
	if _, err := cliconfig.ReadFile(bad, true); err == nil || !strings.HasPrefix(err.Error(), bad+": line 2: ") {
		t.Errorf("ReadFile(bad) = %v, want an error naming the file and line 2", err)
	}
	nested := writeConfig(t, "[server]\naddr = \"x\"\n")
	if _, err := cliconfig.ReadFile(nested, true); err == nil || err.Error() != nested+": server: want a string, a number or a boolean, got a map[string]interface {}" {
		t.Errorf("ReadFile(nested) = %v", err)
	}
	f, err := cliconfig.ReadFile(writeConfig(t, "addr = \"h:1\"\nretries = 2\ntls = true\nrate = 0.5\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"addr": "h:1", "retries": "2", "tls": "true", "rate": "0.5"}, f.Values); diff != "" {
		t.Errorf("values mismatch (-want +got):\n%s", diff)
	}
}

func TestKeyAndDefaultFilePath(t *testing.T) {
	t.Parallel()
	tw := cliconfig.Twins{Aliases: map[string]string{"o": "output"}}
	for in, want := range map[string]string{"addr": "addr", "server-name": "server_name", "o": "output", "token-file": "token_file"} {
		if got := tw.Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/stockwatch/config.toml"},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/h"}, "/h/.config/stockwatch/config.toml"},
		{map[string]string{"XDG_CONFIG_HOME": "", "HOME": "/h"}, "/h/.config/stockwatch/config.toml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/stockwatch/config.toml"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := cliconfig.DefaultFilePath(cliconfig.MapEnv(tt.env).Lookup, "config.toml"); got != tt.want {
			t.Errorf("DefaultFilePath(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}
