package main

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/store/storetest"
)

// TestFlagsAfterArguments runs every command with the global flags before
// the command name and again after its arguments (one dash, then two):
// the output must be the same.
func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		args := map[string][]string{
			"register": {"dave@example.com", "AAPL"}, "update": {"alice@example.com", "MSFT"},
			"delete": {"bob@example.com", "-y"}, "user": {"alice@example.com"}, "latest": {"alice@example.com"},
			"average": {"alice@example.com", "3"}, "prices": {"AAPL"}, "purge": {"30d", "-y"},
			"history": {"alice@example.com", "-since", "7d"}, "alert-set": {"alice@example.com", "-above", "210"},
			"alert-show": {"alice@example.com"}, "alert-clear": {"alice@example.com"}, "notifications": {"alice@example.com"},
		}[c.name]
		// The alert commands but alert-set need a band, notifications its
		// crossings.
		arrange := map[string]func(testing.TB, *clienttest.Server){
			"alert-show": aliceBand, "alert-clear": aliceBand, "notifications": aliceCrossings,
		}[c.name]
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var outs []result
			for _, line := range [][]string{
				append([]string{"-o", "json", "-timeout", "5s", c.name}, args...),
				append(append([]string{c.name}, args...), "-o", "json", "-timeout", "5s"),
				append(append([]string{c.name}, args...), "--o=json", "--timeout", "5s"),
			} {
				srv := seeded(t, clienttest.Options{})
				if arrange != nil {
					arrange(t, srv)
				}
				r := runCLI(t, t.Context(), srv.Addr, nil, "", line...)
				r.stdout = secretRE.ReplaceAllString(r.stdout, "whsec_BASE64") // one per server
				if r.code != 0 || !strings.HasPrefix(r.stdout, "{") {
					t.Fatalf("%q: exit %d, stdout %q, stderr %q; want 0 and JSON", line, r.code, r.stdout, r.stderr)
				}
				outs = append(outs, r)
			}
			for i, r := range outs[1:] {
				if r != outs[0] {
					t.Errorf("run %d = %+v, want %+v as with the flags first", i+2, r, outs[0])
				}
			}
		})
	}
}

// TestConfirm answers the question of delete and purge on a terminal.
func TestConfirm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input string
		args        []string
		code, calls int
		users       int
	}{
		{"delete_yes", "y\n", []string{"delete", "bob@example.com"}, 0, 1, 2},
		{"delete_no", "n\n", []string{"delete", "bob@example.com"}, 1, 0, 3},
		{"delete_empty", "\n", []string{"delete", "bob@example.com"}, 1, 0, 3},
		{"delete_eof", "", []string{"delete", "bob@example.com"}, 1, 0, 3},
		{"delete_no_json", "no\n", []string{"delete", "bob@example.com", "-o", "json"}, 1, 0, 3},
		{"purge_yes", "YES\n", []string{"purge", "30d"}, 0, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, clienttest.Options{})
			r := runProc(t, t.Context(), srv.Addr, nil, tt.input, true, tt.args...)
			if r.code != tt.code || srv.StockCalls() != tt.calls {
				t.Errorf("exit %d after %d RPCs, want %d after %d; stderr %q", r.code, srv.StockCalls(), tt.code, tt.calls, r.stderr)
			}
			if n := storetest.Count(t, srv.DB, "users", ""); n != tt.users {
				t.Errorf("users = %d, want %d", n, tt.users)
			}
			checkGolden(t, "confirm_"+tt.name, r)
		})
	}
}

// TestUnreachable: nothing listens on port 1 of the loopback.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"unreachable":      {"-retries", "0", "user", "alice@example.com"},
		"unreachable_json": {"-retries", "0", "user", "alice@example.com", "-o", "json"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, t.Context(), "127.0.0.1:1", nil, "", args...)
			if r.code != 1 {
				t.Errorf("exit status = %d, want 1", r.code)
			}
			checkGolden(t, name, r)
		})
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	want := "stockwatch " + cliconfig.BinaryVersion() + "\n"
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		r := runCLI(t, t.Context(), "127.0.0.1:1", nil, "", args...)
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and %q", args, r.code, r.stdout, r.stderr, want)
		}
	}
}

// TestCompletion generates the completion script of each shell and checks
// its syntax with the shell itself, where it is installed (bash always).
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, t.Context(), "127.0.0.1:1", nil, "", "completion", shell)
			if r.code != 0 || !strings.Contains(r.stdout, "stockwatch") || r.stderr != "" {
				t.Fatalf("completion %s: exit %d, stderr %q", shell, r.code, r.stderr)
			}
			bin, err := exec.LookPath(shell)
			if err != nil {
				if shell == "bash" {
					t.Fatal("bash is not installed")
				}
				t.Skipf("%s is not installed: the script was generated, not checked", shell)
			}
			script := filepath.Join(t.TempDir(), "stockwatch."+shell)
			if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// TestCompletionCandidates asks for completions the way the scripts do.
func TestCompletionCandidates(t *testing.T) {
	t.Parallel()
	r := runCLI(t, t.Context(), "127.0.0.1:1", nil, "", "__complete", "reg")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "register\t") {
		t.Errorf("__complete reg: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, t.Context(), "127.0.0.1:1", nil, "", "__complete", "hi")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "history\t") {
		t.Errorf("__complete hi: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, t.Context(), "127.0.0.1:1", nil, "", "__complete", "latest", "alice@example.com", "--w")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "--watch\t") {
		t.Errorf("__complete latest EMAIL --w: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, t.Context(), "127.0.0.1:1", nil, "", "__complete", "users", "-o", "")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "text\njson\n") {
		t.Errorf("__complete users -o: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestConfigFile checks the precedence flags > env > file > defaults
// through config show, and the file's errors.
func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tokenFile := write("token", "s3cret\n")
	xdg := filepath.Join(dir, "xdg")
	if err := os.MkdirAll(filepath.Join(xdg, "stockwatch"), 0o700); err != nil {
		t.Fatal(err)
	}
	write("xdg/stockwatch/config.toml", "addr = \"xdg.example:50051\"\n")
	full := write("full.toml", "addr = \"file.example:50051\"\ntimeout = \"9s\"\nretries = 5\noutput = \"text\"\ntoken_file = \""+tokenFile+"\"\ntls = true\nserver_name = \"file.example\"\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
	}{
		{"defaults", []string{"config", "show"}, nil, 0},
		{"xdg", []string{"config", "show"}, map[string]string{"XDG_CONFIG_HOME": xdg}, 0},
		{"home", []string{"config", "show"}, map[string]string{"HOME": filepath.Join(dir, "nohome")}, 0},
		{"file", []string{"config", "show", "-config", full}, nil, 0},
		{"env_over_file", []string{"config", "show"}, map[string]string{"STOCKWATCH_CONFIG": full, "STOCKWATCH_RETRIES": "1", "STOCKWATCH_TOKEN": "other"}, 0},
		{"flag_over_env", []string{"config", "show", "-retries", "2", "--config", full}, map[string]string{"STOCKWATCH_RETRIES": "1"}, 0},
		{"empty_env_disables_file", []string{"config", "show"}, map[string]string{"STOCKWATCH_CONFIG": "", "XDG_CONFIG_HOME": xdg}, 0},
		{"json", []string{"config", "show", "-o", "json", "-config", full}, nil, 0},
		{"named_file_missing", []string{"config", "show", "-config", filepath.Join(dir, "missing.toml")}, nil, 2},
		{"unknown_key", []string{"users", "-config", write("typo.toml", "adress = \"x:1\"\n")}, nil, 2},
		{"token_in_file", []string{"users", "-config", write("token.toml", "token = \"s3cret\"\n")}, nil, 2},
		{"bad_value", []string{"users", "-config", write("bad.toml", "timeout = 5\n")}, nil, 2},
		{"syntax", []string{"users", "-config", write("syntax.toml", "addr = \n")}, nil, 2},
		{"empty_token_file", []string{"users", "-token-file", write("empty", "\n")}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Not runCLI: STOCKWATCH_ADDR must not be set.
			env := cliconfig.MapEnv{"TZ": "UTC"}
			maps.Copy(env, tt.env)
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, proc{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: env.Lookup, now: time.Now})
			r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
			if r.code != tt.code {
				t.Errorf("exit status = %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			r.stdout = strings.ReplaceAll(r.stdout, dir, "DIR")
			r.stderr = strings.ReplaceAll(r.stderr, dir, "DIR")
			checkGolden(t, "config_"+tt.name, r)
		})
	}
}

// TestTokenFile: the admin token read from -token-file (or the file's
// token_file) reaches the server.
func TestTokenFile(t *testing.T) {
	t.Parallel()
	srv := seeded(t, clienttest.Options{AdminToken: "s3cret"})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("token_file = \""+tokenFile+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"users", "-limit", "1", "-token-file", tokenFile},
		{"users", "-limit", "1", "-config", cfg},
	} {
		if r := runCLI(t, t.Context(), srv.Addr, nil, "", args...); r.code != 0 {
			t.Errorf("%q: exit %d, stderr %q; want 0", args, r.code, r.stderr)
		}
	}
}
