package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/stockwatch/stockwatch/internal/tlstest"
)

// The deployment's fixed points, shared by the Dockerfile, compose.yaml and
// the client's health check.
const (
	grpcPort       = "50051"
	httpPort       = "9464"
	daemonPath     = "/usr/local/bin/stockwatchd"
	clientPath     = "/usr/local/bin/stockwatch"
	builderImage   = "golang:1.26-bookworm"
	runtimeImage   = "gcr.io/distroless/static-debian12:nonroot"
	nonrootUID     = "65532"
	dataDir        = "/data"
	mysqlImage     = "mysql:8.4"
	dbVolume       = "db-data"
	mysqlDataDir   = "/var/lib/mysql"
	healthyCond    = "service_healthy"
	restartPolicy  = "unless-stopped"
	modulePath     = "github.com/stockwatch/stockwatch"
	daemonPackage  = "./cmd/stockwatchd"
	clientPackage  = "./cmd/stockwatch"
	buildStageName = "build"
)

// wantHealthcheck is the api's health check: the client's health subcommand,
// which exits 0 when the server reports SERVING.
var wantHealthcheck = []string{"CMD", clientPath, "-addr", "127.0.0.1:" + grpcPort, "health"}

// repoRoot is the module root, where the deployment files live.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	return root
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// compose.yaml and .env.example

// envExample is .env.example read as compose reads a .env file.
func envExample(t *testing.T) map[string]string {
	t.Helper()
	env, err := dotenv.Parse(strings.NewReader(readFile(t, ".env.example")))
	if err != nil {
		t.Fatalf(".env.example: %v", err)
	}
	return env
}

// envFilled is .env.example with its empty secrets filled in, as an
// operator's .env is.
func envFilled(t *testing.T) map[string]string {
	t.Helper()
	env := envExample(t)
	for k, v := range env {
		if v == "" && secretKey.MatchString(k) {
			env[k] = "test-" + strings.ToLower(strings.ReplaceAll(k, "_", "-"))
		}
	}
	return env
}

// loadCompose loads compose.yaml as `docker compose` does (schema validation,
// interpolation, merge keys, normalisation), with env as the only environment.
func loadCompose(t *testing.T, env map[string]string, opts ...func(*loader.Options)) (*types.Project, error) {
	t.Helper()
	root := repoRoot(t)
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "compose.yaml")}},
		Environment: types.Mapping(maps.Clone(env)),
	}
	// The project name, as the compose CLI takes it: COMPOSE_PROJECT_NAME,
	// else the directory's name.
	name := env["COMPOSE_PROJECT_NAME"]
	if name == "" {
		name = loader.NormalizeProjectName(filepath.Base(root))
	}
	opts = append([]func(*loader.Options){func(o *loader.Options) { o.SetProjectName(name, true) }}, opts...)
	return loader.LoadWithContext(t.Context(), details, opts...)
}

func mustLoadCompose(t *testing.T, env map[string]string, opts ...func(*loader.Options)) *types.Project {
	t.Helper()
	p, err := loadCompose(t, env, opts...)
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("compose.yaml: no service %q (have %v)", name, slices.Sorted(maps.Keys(p.Services)))
	}
	return s
}

func envValue(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("service %s: environment %s is not set", s.Name, key)
	}
	return *v
}

// secretKey says whether a variable or environment key carries a secret.
var secretKey = regexp.MustCompile(`(?i)PASSWORD|TOKEN|SECRET|_DB$`)

// requiredVars must be set for compose to start (${VAR:?...}).
var requiredVars = []string{"MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "STOCKWATCH_ADMIN_TOKEN"}

func TestCompose(t *testing.T) {
	env := envFilled(t)
	p := mustLoadCompose(t, env)
	raw := readFile(t, "compose.yaml")
	root := repoRoot(t)

	t.Run("services", func(t *testing.T) {
		got := slices.Sorted(maps.Keys(p.Services))
		if want := []string{"api", "collector", "db", "notifier"}; !slices.Equal(got, want) {
			t.Errorf("services = %v, want %v", got, want)
		}
		if regexp.MustCompile(`(?m)^version\s*:`).MatchString(raw) {
			t.Error("compose.yaml has a top-level version: key; the Compose spec has none")
		}
	})

	t.Run("db", func(t *testing.T) {
		db := service(t, p, "db")
		if db.Image != mysqlImage {
			t.Errorf("db image = %q, want %q", db.Image, mysqlImage)
		}
		if db.Build != nil {
			t.Error("db must not be built")
		}
		var mounted bool
		for _, v := range db.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source == dbVolume && v.Target == mysqlDataDir {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("db volumes = %+v, want named volume %s at %s", db.Volumes, dbVolume, mysqlDataDir)
		}
		if _, ok := p.Volumes[dbVolume]; !ok {
			t.Errorf("top-level volumes lack %s", dbVolume)
		}
		hc := db.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 {
			t.Fatalf("db healthcheck = %+v, want a mysqladmin ping", hc)
		}
		test := strings.Join(hc.Test[1:], " ")
		for _, want := range []string{"mysqladmin", "ping", "-h 127.0.0.1", "MYSQL_ROOT_PASSWORD"} {
			if !strings.Contains(test, want) {
				t.Errorf("db healthcheck %q lacks %q", test, want)
			}
		}
		if strings.Contains(test, env["MYSQL_ROOT_PASSWORD"]) {
			t.Error("db healthcheck holds the root password itself, not the container's variable")
		}
		if len(db.Ports) > 0 {
			t.Errorf("db publishes %+v; only the api and collector need it, on the compose network", db.Ports)
		}
		for _, k := range []string{"MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"} {
			if got := envValue(t, db, k); got != env[k] {
				t.Errorf("db %s = %q, want %q from the environment", k, got, env[k])
			}
		}
	})

	roles := map[string]string{"api": "api", "collector": "collector", "notifier": "notifier"}
	for name, role := range roles {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			if s.Build == nil {
				t.Fatalf("%s has no build section", name)
			}
			if s.Build.Context != root {
				t.Errorf("%s build context = %q, want the module root %q (\".\")", name, s.Build.Context, root)
			}
			if df := s.Build.Dockerfile; df != "" && df != "Dockerfile" {
				t.Errorf("%s dockerfile = %q, want Dockerfile", name, df)
			}
			if want := []string{"-role", role}; !slices.Equal(s.Command, want) {
				t.Errorf("%s command = %q, want %q", name, s.Command, want)
			}
			if s.Restart != restartPolicy {
				t.Errorf("%s restart = %q, want %q", name, s.Restart, restartPolicy)
			}
			if len(s.Entrypoint) > 0 {
				t.Errorf("%s overrides the image's entrypoint: %q", name, s.Entrypoint)
			}
			u, err := url.Parse(envValue(t, s, "STOCKWATCH_DB"))
			if err != nil {
				t.Fatalf("%s STOCKWATCH_DB does not parse as a URL (is MYSQL_PASSWORD URL-safe?): %v", name, err)
			}
			pw, _ := u.User.Password()
			if u.Scheme != "mysql" || u.Host != "db:3306" || u.Path != "/"+env["MYSQL_DATABASE"] ||
				u.User.Username() != env["MYSQL_USER"] || pw != env["MYSQL_PASSWORD"] {
				t.Errorf("%s STOCKWATCH_DB = %s, want mysql://$MYSQL_USER:$MYSQL_PASSWORD@db:3306/$MYSQL_DATABASE", name, u.Redacted())
			}
			if got := envValue(t, s, "STOCKWATCH_HTTP_ADDR"); got != ":"+httpPort {
				t.Errorf("%s STOCKWATCH_HTTP_ADDR = %q, want %q (all interfaces)", name, got, ":"+httpPort)
			}
		})
	}

	t.Run("api publishes gRPC and checks health with the client", func(t *testing.T) {
		api := service(t, p, "api")
		var published bool
		for _, port := range api.Ports {
			if port.Target == 50051 && port.Published == grpcPort {
				published = true
			}
		}
		if !published {
			t.Errorf("api ports = %+v, want %s:%s", api.Ports, grpcPort, grpcPort)
		}
		if got := envValue(t, api, "STOCKWATCH_GRPC_ADDR"); got != ":"+grpcPort {
			t.Errorf("api STOCKWATCH_GRPC_ADDR = %q, want %q", got, ":"+grpcPort)
		}
		if got := envValue(t, api, "STOCKWATCH_ADMIN_TOKEN"); got != env["STOCKWATCH_ADMIN_TOKEN"] {
			t.Errorf("api STOCKWATCH_ADMIN_TOKEN = %q, want the environment's", got)
		}
		hc := api.HealthCheck
		if hc == nil || hc.Disable {
			t.Fatal("api has no healthcheck")
		}
		if !slices.Equal(hc.Test, wantHealthcheck) {
			t.Errorf("api healthcheck = %q, want %q", hc.Test, wantHealthcheck)
		}
		if hc.Timeout == nil || hc.Interval == nil {
			t.Error("api healthcheck: set interval and timeout explicitly")
		}
	})

	t.Run("collector does not take the api's host ports", func(t *testing.T) {
		hostPorts := map[string]string{}
		for _, name := range []string{"api", "collector"} {
			for _, port := range service(t, p, name).Ports {
				key := port.HostIP + ":" + port.Published
				if other, dup := hostPorts[key]; dup {
					t.Errorf("%s and %s both publish host port %s", other, name, key)
				}
				hostPorts[key] = name
				if name == "collector" && port.Published == grpcPort {
					t.Errorf("collector publishes %s, the api's port", grpcPort)
				}
			}
		}
	})

	t.Run("started in order", func(t *testing.T) {
		want := map[string][]string{"api": {"db"}, "collector": {"api", "db"}}
		for name, deps := range want {
			s := service(t, p, name)
			if got := slices.Sorted(maps.Keys(s.DependsOn)); !slices.Equal(got, deps) {
				t.Errorf("%s depends_on %v, want %v", name, got, deps)
			}
			for dep, d := range s.DependsOn {
				if d.Condition != healthyCond {
					t.Errorf("%s depends_on %s: condition %q, want %s", name, dep, d.Condition, healthyCond)
				}
			}
		}
		if hc := service(t, p, "api").HealthCheck; hc == nil || hc.Disable {
			t.Error("collector waits for api service_healthy, but api has no healthcheck")
		}
	})

	t.Run("no secret in compose.yaml", func(t *testing.T) {
		for k, v := range env {
			if secretKey.MatchString(k) && v != "" && strings.Contains(raw, v) {
				t.Errorf("compose.yaml contains the value of %s from .env.example", k)
			}
		}
		// Before interpolation, every secret-carrying value must come from a variable.
		rawProject := mustLoadCompose(t, env, func(o *loader.Options) { o.SkipInterpolation = true })
		for name, s := range rawProject.Services {
			for k, v := range s.Environment {
				if v != nil && secretKey.MatchString(k) && !strings.Contains(*v, "${") {
					t.Errorf("service %s: %s = %q is a literal; take it from the environment", name, k, *v)
				}
			}
		}
		// And the environment's values are the ones that arrive.
		sentinel := maps.Clone(env)
		for k := range sentinel {
			if secretKey.MatchString(k) {
				sentinel[k] = "s3cret-" + strings.ToLower(strings.ReplaceAll(k, "_", "-"))
			}
		}
		sp := mustLoadCompose(t, sentinel)
		checks := []struct{ service, key, want string }{
			{"db", "MYSQL_PASSWORD", sentinel["MYSQL_PASSWORD"]},
			{"db", "MYSQL_ROOT_PASSWORD", sentinel["MYSQL_ROOT_PASSWORD"]},
			{"api", "STOCKWATCH_ADMIN_TOKEN", sentinel["STOCKWATCH_ADMIN_TOKEN"]},
		}
		for _, c := range checks {
			if got := envValue(t, service(t, sp, c.service), c.key); got != c.want {
				t.Errorf("%s %s = %q, want %q from the environment", c.service, c.key, got, c.want)
			}
		}
		for _, name := range []string{"api", "collector"} {
			if dsn := envValue(t, service(t, sp, name), "STOCKWATCH_DB"); !strings.Contains(dsn, ":"+sentinel["MYSQL_PASSWORD"]+"@") {
				t.Errorf("%s STOCKWATCH_DB does not carry MYSQL_PASSWORD from the environment", name)
			}
		}
	})

	t.Run("required variables", func(t *testing.T) {
		for _, k := range requiredVars {
			e := maps.Clone(env)
			delete(e, k)
			_, err := loadCompose(t, e)
			if err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("without %s: err = %v, want compose to refuse naming it", k, err)
			}
		}
	})

	t.Run("every variable is in .env.example", func(t *testing.T) {
		used := composeVars(t, raw)
		if len(used) == 0 {
			t.Fatal("compose.yaml uses no variables")
		}
		for _, v := range used {
			if _, ok := env[v]; !ok {
				t.Errorf("compose.yaml uses ${%s}, which .env.example does not define", v)
			}
		}
		for k := range env {
			if !slices.Contains(used, k) && !strings.HasPrefix(k, "COMPOSE_") {
				t.Errorf(".env.example defines %s, which compose.yaml does not use", k)
			}
		}
		for _, k := range requiredVars {
			if !regexp.MustCompile(`\$\{` + k + `:\?`).MatchString(raw) {
				t.Errorf("compose.yaml: %s is not required anywhere (${%s:?message})", k, k)
			}
		}
	})

	t.Run(".env.example", func(t *testing.T) {
		urlSafe := regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
		example := envExample(t)
		for _, k := range []string{"MYSQL_USER", "MYSQL_DATABASE"} {
			if !urlSafe.MatchString(example[k]) {
				t.Errorf(".env.example %s = %q is not URL-safe", k, example[k])
			}
		}
		if n := env["COMPOSE_PROJECT_NAME"]; n == "" || loader.NormalizeProjectName(n) != n {
			t.Errorf(".env.example COMPOSE_PROJECT_NAME = %q, want a valid project name", n)
		}
		text := readFile(t, ".env.example")
		if !strings.Contains(text, "URL-safe") {
			t.Error(".env.example does not say that MYSQL_PASSWORD must be URL-safe")
		}
		for k, v := range example {
			if secretKey.MatchString(k) && v != "" {
				t.Errorf(".env.example %s = %q: leave secrets empty, so that compose refuses to start until they are set", k, v)
			}
		}
		// As copied, unfilled: compose must refuse, naming a secret.
		_, err := loadCompose(t, example)
		if err == nil || !regexp.MustCompile(`MYSQL_PASSWORD|MYSQL_ROOT_PASSWORD|STOCKWATCH_ADMIN_TOKEN`).MatchString(err.Error()) {
			t.Errorf("compose with .env.example as copied: err = %v, want a refusal naming an unset secret", err)
		}
		if !slices.Contains(dockerignorePatterns(t), ".env") {
			t.Error(".dockerignore does not exclude .env")
		}
	})

	t.Run("docker-compose config", func(t *testing.T) {
		bin, err := exec.LookPath("docker-compose")
		if err != nil {
			t.Skip("docker-compose not installed; the compose-go load above is the check")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--project-directory", root, "-f", filepath.Join(root, "compose.yaml"), "config", "-q")
		cmd.Dir = t.TempDir() // not the root: a developer's own .env there must not count
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose config -q: %v\n%s", err, out)
		}
	})
}

// composeVars lists the variables compose.yaml interpolates, ${VAR...} or
// $VAR, outside comments; $$ is a literal dollar.
func composeVars(t *testing.T, raw string) []string {
	t.Helper()
	name := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)
	var vars []string
	for _, line := range strings.Split(raw, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for i := 0; i < len(line); i++ {
			if line[i] != '$' || i+1 >= len(line) {
				continue
			}
			rest := line[i+1:]
			switch {
			case rest[0] == '$':
				i++ // escaped
				continue
			case rest[0] == '{':
				rest = rest[1:]
			}
			if v := name.FindString(rest); v != "" && !slices.Contains(vars, v) {
				vars = append(vars, v)
			}
		}
	}
	slices.Sort(vars)
	return vars
}

// ---------------------------------------------------------------------------
// Dockerfile

type instruction struct {
	line int
	cmd  string // upper case
	args string // continuation lines joined
}

type stage struct {
	from, name string
	ins        []instruction
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// index is the position of the first instruction cmd whose args match re, or -1.
func (s stage) index(cmd string, re *regexp.Regexp) int {
	for i, in := range s.ins {
		if in.cmd == cmd && re.MatchString(in.args) {
			return i
		}
	}
	return -1
}

// parseDockerfile splits a Dockerfile into stages of instructions, the way
// the reference parser does for the subset this project uses: comments,
// backslash continuations, one instruction per logical line.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var cur strings.Builder
	start := 0
	flush := func() {
		logical := strings.TrimSpace(cur.String())
		cur.Reset()
		if logical == "" {
			return
		}
		cmd, args, _ := strings.Cut(logical, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
			}
			return
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

// shellWords splits a command line the way sh does for the plain words,
// quotes and backslashes a build command needs, and refuses anything that
// would make the shell do more (variables, globs, operators): what this test
// runs is then exactly what the image build runs.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated '")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, errors.New(`unterminated "`)
			}
			q := s[i+1 : i+1+j]
			if strings.ContainsAny(q, "$`\\") {
				return nil, fmt.Errorf("unsupported shell syntax in %q", q)
			}
			cur.WriteString(q)
			i += j + 1
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("$`&;|<>(){}*?[]#~!", c) >= 0:
			return nil, fmt.Errorf("unsupported shell syntax %q", c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// goBuild is the Dockerfile's `go build` command, taken apart.
type goBuild struct {
	env     []string // NAME=value assignments before the command
	flags   []string // build flags, -o excluded
	out     string   // -o value
	pkgs    []string // packages built
	ldflags string
}

func parseGoBuild(t *testing.T, run instruction) goBuild {
	t.Helper()
	words, err := shellWords(run.args)
	if err != nil {
		t.Fatalf("Dockerfile:%d: the go build RUN must be one plain command: %v", run.line, err)
	}
	var b goBuild
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
		b.env = append(b.env, words[0])
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("Dockerfile:%d: want [ENV=...] go build ..., got %q", run.line, run.args)
	}
	words = words[2:]
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-o":
			if i+1 == len(words) {
				t.Fatalf("Dockerfile:%d: -o without a value", run.line)
			}
			b.out = words[i+1]
			i++
		case strings.HasPrefix(w, "-o="):
			b.out = strings.TrimPrefix(w, "-o=")
		case w == "-ldflags" && i+1 < len(words):
			b.ldflags = words[i+1]
			b.flags = append(b.flags, w, words[i+1])
			i++
		case strings.HasPrefix(w, "-ldflags="):
			b.ldflags = strings.TrimPrefix(w, "-ldflags=")
			b.flags = append(b.flags, w)
		case strings.HasPrefix(w, "-"):
			b.flags = append(b.flags, w)
		default:
			b.pkgs = append(b.pkgs, w)
		}
	}
	return b
}

// envArgs parses ENV's arguments: KEY=value pairs, or the legacy KEY value.
func envArgs(t *testing.T, in instruction) map[string]string {
	t.Helper()
	out := map[string]string{}
	words, err := shellWords(in.args)
	if err != nil {
		t.Fatalf("Dockerfile:%d: ENV: %v", in.line, err)
	}
	if len(words) >= 2 && !strings.Contains(words[0], "=") {
		out[words[0]] = strings.Join(words[1:], " ")
		return out
	}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			t.Fatalf("Dockerfile:%d: ENV word %q is not KEY=value", in.line, w)
		}
		out[k] = v
	}
	return out
}

// flagsOf splits an instruction's leading --flag=value options from the rest.
func flagsOf(args string) (map[string]string, []string) {
	flags := map[string]string{}
	var rest []string
	for _, f := range strings.Fields(args) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.HasPrefix(k, "--") && len(rest) == 0 {
			flags[k] = v
			continue
		}
		rest = append(rest, f)
	}
	return flags, rest
}

type dockerfile struct {
	build, final stage
	goBuild      goBuild
	env          map[string]string // the runtime image's ENV
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	stages := parseDockerfile(t, readFile(t, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build and a runtime stage", len(stages))
	}
	df := dockerfile{build: stages[0], final: stages[len(stages)-1], env: map[string]string{}}
	var runs []instruction
	for _, in := range df.build.all("RUN") {
		if strings.Contains(in.args, "go build") {
			runs = append(runs, in)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("build stage has %d RUN go build, want 1", len(runs))
	}
	df.goBuild = parseGoBuild(t, runs[0])
	for _, in := range df.final.all("ENV") {
		maps.Copy(df.env, envArgs(t, in))
	}
	return df
}

func TestDockerfile(t *testing.T) {
	df := readDockerfile(t)

	t.Run("build stage", func(t *testing.T) {
		b := df.build
		if b.from != builderImage || b.name != buildStageName {
			t.Errorf("first stage = FROM %s AS %s, want FROM %s AS %s", b.from, b.name, builderImage, buildStageName)
		}
		// Dependencies in their own layer, before the sources.
		modCopy := b.index("COPY", regexp.MustCompile(`^go\.mod go\.sum \./?$`))
		download := b.index("RUN", regexp.MustCompile(`^go mod download\b`))
		srcCopy := b.index("COPY", regexp.MustCompile(`^\. \.$|^\. \./$`))
		build := b.index("RUN", regexp.MustCompile(`go build`))
		if modCopy < 0 || download < 0 || srcCopy < 0 || build < 0 ||
			!(modCopy < download && download < srcCopy && srcCopy < build) {
			t.Errorf("build stage order: COPY go.mod go.sum (%d), RUN go mod download (%d), COPY . . (%d), RUN go build (%d); want them in this order",
				modCopy, download, srcCopy, build)
		}
		g := df.goBuild
		if !slices.Contains(g.env, "CGO_ENABLED=0") {
			t.Errorf("go build env = %q, want CGO_ENABLED=0", g.env)
		}
		if !slices.Contains(g.flags, "-trimpath") {
			t.Errorf("go build flags = %q, want -trimpath", g.flags)
		}
		if g.ldflags != "-s -w" {
			t.Errorf("go build -ldflags = %q, want \"-s -w\"", g.ldflags)
		}
		if g.out != "/out/" {
			t.Errorf("go build -o %q, want /out/", g.out)
		}
		if want := []string{daemonPackage, clientPackage}; !slices.Equal(g.pkgs, want) {
			t.Errorf("go build packages = %q, want %q", g.pkgs, want)
		}
		if b.index("RUN", regexp.MustCompile(`mkdir -p `+dataDir+`\b.*chown `+nonrootUID+`:`+nonrootUID+` `+dataDir)) < 0 {
			t.Errorf("build stage does not create %s owned by %s", dataDir, nonrootUID)
		}
	})

	t.Run("runtime stage", func(t *testing.T) {
		f := df.final
		if f.from != runtimeImage {
			t.Errorf("runtime stage FROM %s, want %s", f.from, runtimeImage)
		}
		if runs := f.all("RUN"); len(runs) > 0 {
			t.Errorf("Dockerfile:%d: RUN in the distroless stage, which has no shell", runs[0].line)
		}
		users := f.all("USER")
		if len(users) == 0 {
			t.Error("runtime stage sets no USER")
		} else if u := users[len(users)-1].args; !regexp.MustCompile(`^(nonroot|65532)(:(nonroot|65532))?$`).MatchString(u) {
			t.Errorf("USER %s, want nonroot", u)
		}
		eps := f.all("ENTRYPOINT")
		if len(eps) != 1 {
			t.Fatalf("runtime stage has %d ENTRYPOINT, want 1", len(eps))
		}
		var ep []string
		if err := json.Unmarshal([]byte(eps[0].args), &ep); err != nil {
			t.Errorf("ENTRYPOINT %s is not the exec (JSON) form: %v", eps[0].args, err)
		}
		if !slices.Equal(ep, []string{daemonPath}) {
			t.Errorf("ENTRYPOINT = %q, want [%q]", ep, daemonPath)
		}
		if cmds := f.all("CMD"); len(cmds) > 0 {
			t.Errorf("runtime stage has CMD %s; compose's command must be the only arguments", cmds[0].args)
		}

		var exposed []string
		for _, in := range f.all("EXPOSE") {
			for _, p := range strings.Fields(in.args) {
				exposed = append(exposed, strings.TrimSuffix(p, "/tcp"))
			}
		}
		for _, p := range []string{grpcPort, httpPort} {
			if !slices.Contains(exposed, p) {
				t.Errorf("EXPOSE %v lacks %s", exposed, p)
			}
		}
		for k, want := range map[string]string{"STOCKWATCH_GRPC_ADDR": ":" + grpcPort, "STOCKWATCH_HTTP_ADDR": ":" + httpPort} {
			if got := df.env[k]; got != want {
				t.Errorf("ENV %s = %q, want %q (listen on all interfaces)", k, got, want)
			}
		}

		workdirs := f.all("WORKDIR")
		if len(workdirs) == 0 || workdirs[len(workdirs)-1].args != dataDir {
			t.Errorf("runtime WORKDIR is not %s", dataDir)
		}
		var volume bool
		for _, in := range f.all("VOLUME") {
			var vs []string
			if json.Unmarshal([]byte(in.args), &vs) != nil {
				vs = strings.Fields(in.args)
			}
			volume = volume || slices.Contains(vs, dataDir)
		}
		if !volume {
			t.Errorf("no VOLUME %s", dataDir)
		}

		// What is copied from the build stage, and where.
		var binaries, dataOwned bool
		for _, in := range f.all("COPY") {
			flags, rest := flagsOf(in.args)
			if flags["--from"] != buildStageName || len(rest) < 2 {
				continue
			}
			src, dst := rest[:len(rest)-1], rest[len(rest)-1]
			if dst == "/usr/local/bin/" && slices.Contains(src, "/out/stockwatchd") && slices.Contains(src, "/out/stockwatch") {
				binaries = true
			}
			if dst == dataDir && slices.Equal(src, []string{dataDir}) &&
				regexp.MustCompile(`^(65532|nonroot):(65532|nonroot)$`).MatchString(flags["--chown"]) {
				dataOwned = true
			}
		}
		if !binaries {
			t.Errorf("runtime stage does not COPY --from=%s /out/stockwatchd /out/stockwatch /usr/local/bin/", buildStageName)
		}
		if !dataOwned {
			t.Errorf("runtime stage does not COPY --from=%s --chown=%s:%s %s %s", buildStageName, nonrootUID, nonrootUID, dataDir, dataDir)
		}
	})

	t.Run("every FROM is pinned", func(t *testing.T) {
		for _, s := range []stage{df.build, df.final} {
			_, tag, ok := strings.Cut(path.Base(s.from), ":")
			if !ok || tag == "" || tag == "latest" {
				t.Errorf("FROM %s: pin a tag", s.from)
			}
		}
	})

	t.Run("compose agrees", func(t *testing.T) {
		p := mustLoadCompose(t, envFilled(t))
		api := service(t, p, "api")
		if api.HealthCheck == nil || len(api.HealthCheck.Test) < 2 || api.HealthCheck.Test[1] != clientPath {
			t.Errorf("api healthcheck does not run %s, which the image ships", clientPath)
		}
		for _, port := range api.Ports {
			if !slices.Contains([]string{grpcPort, httpPort}, strconv.Itoa(int(port.Target))) {
				t.Errorf("api publishes container port %d, which the image does not EXPOSE", port.Target)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// .dockerignore

// dockerignorePatterns reads .dockerignore: one pattern a line, # comments.
func dockerignorePatterns(t *testing.T) []string {
	t.Helper()
	var pats []string
	for _, line := range strings.Split(readFile(t, ".dockerignore"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pats = append(pats, line)
	}
	return pats
}

// ignoreMatcher implements .dockerignore's matching for patterns without
// exceptions: a pattern (cleaned, relative to the context root, with * ? and
// ** as in Docker) excludes a path when it matches the path or one of its
// parent directories.
type ignoreMatcher []*regexp.Regexp

func newIgnoreMatcher(t *testing.T, patterns []string) ignoreMatcher {
	t.Helper()
	var m ignoreMatcher
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") {
			t.Fatalf(".dockerignore: exception %q is not supported by this test's matcher; extend it", p)
		}
		p = strings.TrimPrefix(path.Clean("/"+p), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			case c == '[' || c == '\\':
				t.Fatalf(".dockerignore: %q uses [ or \\, which this test's matcher does not support", p)
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		m = append(m, regexp.MustCompile(re.String()))
	}
	return m
}

func (m ignoreMatcher) excludes(rel string) bool {
	rel = filepath.ToSlash(rel)
	for {
		for _, re := range m {
			if re.MatchString(rel) {
				return true
			}
		}
		parent := path.Dir(rel)
		if parent == "." || parent == rel {
			return false
		}
		rel = parent
	}
}

func TestDockerignore(t *testing.T) {
	m := newIgnoreMatcher(t, dockerignorePatterns(t))
	for _, p := range []string{".git", ".git/config", ".env", "stockwatch.db", "stockwatch.db-wal", "internal/store/x.db", "bin/stockwatchd", "compose.yaml"} {
		if !m.excludes(p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/stockwatchd/main.go", "cmd/stockwatch", "internal/store/migrations", "proto/stockwatch/v1"} {
		if m.excludes(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
}

// buildContext copies the module root to dir as `docker build` sends it:
// without what .dockerignore excludes.
func buildContext(t *testing.T, root, dir string) {
	t.Helper()
	m := newIgnoreMatcher(t, dockerignorePatterns(t))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		if m.excludes(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, dst)
	})
	if err != nil {
		t.Fatalf("build context: %v", err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// hasGoFiles says whether dir holds a non-test Go file.
func hasGoFiles(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// The image's build command, run here

// TestImageBuild builds the binaries with the Dockerfile's own go build
// command, from the build context .dockerignore leaves, and checks what the
// distroless image relies on: static, stripped, trimmed binaries that run.
func TestImageBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries; skipped with -short")
	}
	df := readDockerfile(t)
	g := df.goBuild
	root := repoRoot(t)
	tmp := t.TempDir()
	ctxDir := filepath.Join(tmp, "context")
	outDir := filepath.Join(tmp, "out") + string(filepath.Separator)
	buildContext(t, root, ctxDir)

	pkgs := slices.Clone(g.pkgs)
	for _, pkg := range g.pkgs {
		if hasGoFiles(filepath.Join(ctxDir, pkg)) {
			continue
		}
		msg := fmt.Sprintf("%s has no Go files in the build context: the image build would fail", pkg)
		if os.Getenv("CI") == "true" || pkg == daemonPackage {
			t.Fatal(msg)
		}
		t.Logf("%s; building the rest (outside CI only)", msg)
		pkgs = slices.DeleteFunc(pkgs, func(p string) bool { return p == pkg })
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool: %v", err)
	}
	args := append([]string{"build"}, g.flags...)
	args = append(args, "-o", outDir)
	args = append(args, pkgs...)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = ctxDir
	// As in the golang image: no GOFLAGS, no workspace, the local toolchain;
	// then the RUN line's own assignments.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Env = append(cmd.Env, g.env...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", strings.Join(g.env, " "), strings.Join(cmd.Args, " "), err, out)
	}
	t.Logf("built %v in %s", pkgs, time.Since(start).Round(time.Millisecond))

	for _, pkg := range pkgs {
		bin := filepath.Join(outDir, path.Base(pkg))
		t.Run(path.Base(pkg)+" is static", func(t *testing.T) {
			checkStatic(t, bin)
			checkBuildInfo(t, bin, modulePath+strings.TrimPrefix(pkg, "."))
			checkTrimmed(t, bin, root, ctxDir)
		})
	}

	daemon := filepath.Join(outDir, path.Base(daemonPackage))
	usage := daemonUsage(t, daemon)

	t.Run("environment names are daemon flags", func(t *testing.T) {
		names := slices.Collect(maps.Keys(df.env))
		p := mustLoadCompose(t, envFilled(t))
		for _, name := range []string{"api", "collector"} {
			names = append(names, slices.Collect(maps.Keys(service(t, p, name).Environment))...)
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "STOCKWATCH_") {
				continue
			}
			flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(n, "STOCKWATCH_")), "_", "-")
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(flagName) + `(\s|$)`).MatchString(usage) {
				t.Errorf("%s is the twin of -%s, which stockwatchd -h does not list", n, flagName)
			}
		}
	})

	client := ""
	if slices.Contains(pkgs, clientPackage) {
		client = filepath.Join(outDir, path.Base(clientPackage))
	}
	t.Run("api role serves health", func(t *testing.T) {
		runAPI(t, daemon, client, nil)
	})
	t.Run("api role serves health over mTLS with compose's TLS variables", func(t *testing.T) {
		if client == "" {
			t.Skip("client not built")
		}
		runAPI(t, daemon, client, composeTLS(t, usage))
	})
}

// apiTLS is the TLS set-up of one runAPI: the daemon's and the health
// check's environment, and the test's own credentials.
type apiTLS struct {
	daemonEnv, clientEnv []string
	creds                credentials.TransportCredentials
}

// composeTLS reads the TLS variables that compose.yaml shows, commented
// out, in the api's environment, and gives each a file of a throw-away PKI
// (by the base name of its example path) or its example value. Those whose
// flag stockwatchd -h lists go to the daemon, the rest to the health
// check's client; each must be one or the other.
func composeTLS(t *testing.T, daemonUsage string) *apiTLS {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`(?m)^\s*#\s+(STOCKWATCH_[A-Z_]+):\s+(\S+)`).FindAllStringSubmatch(string(b), -1)
	if len(vars) == 0 {
		t.Fatal("compose.yaml shows no commented STOCKWATCH_ TLS variables for the api")
	}
	serverName := ""
	for _, v := range vars {
		if v[1] == "STOCKWATCH_SERVER_NAME" {
			serverName = v[2]
		}
	}
	if serverName == "" {
		t.Fatal("compose.yaml's TLS variables lack STOCKWATCH_SERVER_NAME: the health check dials 127.0.0.1")
	}
	pki := tlstest.New(t, serverName)
	files := map[string]string{
		"ca.crt": pki.CAFile, "server.crt": pki.ServerCertFile, "server.key": pki.ServerKeyFile,
		"client.crt": pki.ClientCertFile, "client.key": pki.ClientKeyFile,
	}
	clientFlags := map[string]bool{"tls": true, "ca": true, "cert": true, "key": true, "server-name": true}
	cfg := &apiTLS{creds: credentials.NewTLS(&tls.Config{
		RootCAs: pki.Pool, ServerName: serverName, Certificates: []tls.Certificate{pki.ClientCert},
	})}
	mtls := false
	for _, v := range vars {
		name, value := v[1], v[2]
		if strings.HasPrefix(value, "/") {
			f, ok := files[path.Base(value)]
			if !ok {
				t.Fatalf("compose.yaml: %s=%s: no such file in the test's PKI (%v)", name, value, slices.Sorted(maps.Keys(files)))
			}
			value = f
		}
		flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "STOCKWATCH_")), "_", "-")
		switch {
		case regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(flagName) + `(\s|$)`).MatchString(daemonUsage):
			cfg.daemonEnv = append(cfg.daemonEnv, name+"="+value)
			mtls = mtls || flagName == "tls-client-ca"
		case clientFlags[flagName]:
			cfg.clientEnv = append(cfg.clientEnv, name+"="+value)
		default:
			t.Errorf("compose.yaml: %s is the twin of -%s, a flag of neither stockwatchd nor stockwatch", name, flagName)
		}
	}
	if !mtls {
		t.Error("compose.yaml's TLS variables do not show mTLS (STOCKWATCH_TLS_CLIENT_CA)")
	}
	return cfg
}

func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			t.Errorf("%s has a PT_INTERP header: dynamically linked", filepath.Base(bin))
		case elf.PT_DYNAMIC:
			t.Errorf("%s has a PT_DYNAMIC header: dynamically linked", filepath.Base(bin))
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("%s imports shared libraries %v (%v)", filepath.Base(bin), libs, err)
	}
	if syms, err := f.ImportedSymbols(); err == nil && len(syms) > 0 {
		t.Errorf("%s imports %d dynamic symbols", filepath.Base(bin), len(syms))
	}
	if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
		t.Errorf("%s has a .dynamic or .interp section", filepath.Base(bin))
	}
	// -ldflags='-s -w': no symbol table, no DWARF.
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("%s has section %s: not stripped", filepath.Base(bin), s.Name)
		}
	}
}

func checkBuildInfo(t *testing.T, bin, wantPath string) {
	t.Helper()
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("build info: %v", err)
	}
	if bi.Path != wantPath {
		t.Errorf("main package = %s, want %s", bi.Path, wantPath)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	// (With -trimpath, go omits -ldflags from the build info; checkStatic
	// sees its effect instead.)
	want := map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"}
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
		}
	}
}

// checkTrimmed: with -trimpath, no directory of the build machine is in the binary.
func checkTrimmed(t *testing.T, bin string, dirs ...string) {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if bytes.Contains(b, []byte(d)) {
			t.Errorf("%s contains the build path %s: not built with -trimpath", filepath.Base(bin), d)
		}
	}
}

// daemonUsage runs `stockwatchd -h`: exit status 0 and a usage naming -role.
func daemonUsage(t *testing.T, daemon string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, daemon, "-h")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{} // the image's environment is empty but for its ENV
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("stockwatchd -h: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^\s+-role\b`).Match(out) {
		t.Fatalf("stockwatchd -h does not list -role:\n%s", out)
	}
	return string(out)
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// runAPI starts the binary as the api container does (compose's command, the
// image's default database in its working directory), but on a free loopback
// port and without the HTTP listener; waits until gRPC health says SERVING;
// runs the compose healthcheck's client command when the client is built; and
// stops it with SIGTERM, as `docker compose stop` does, expecting exit status
// 0 within the stop grace period, after which the health command must fail.
//
// With tc, the daemon serves TLS from tc.daemonEnv and the health check
// runs with tc.clientEnv, which it needs: without it, it must fail.
func runAPI(t *testing.T, daemon, client string, tc *apiTLS) {
	p := mustLoadCompose(t, envFilled(t))
	api := service(t, p, "api")
	workdir := t.TempDir()
	grpcAddr := "127.0.0.1:" + freePort(t)
	cmd := exec.Command(daemon, api.Command...)
	cmd.Dir = workdir
	cmd.Env = []string{
		"STOCKWATCH_GRPC_ADDR=" + grpcAddr,
		"STOCKWATCH_ADMIN_TOKEN=test-token",
		"STOCKWATCH_VERIFY_TICKERS=false",
		"STOCKWATCH_LOG_FORMAT=json",
	}
	creds := insecure.NewCredentials()
	var clientEnv []string
	if tc != nil {
		cmd.Env = append(cmd.Env, tc.daemonEnv...)
		creds, clientEnv = tc.creds, tc.clientEnv
	}
	cmd.Args = append(cmd.Args, "-http-addr=") // no HTTP listener: ports stay free
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("stockwatchd output:\n%s", logs.String())
		}
	}()

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("stockwatchd -role api exited before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("stockwatchd -role api not SERVING after 30s: %v %v", resp.GetStatus(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(workdir, "stockwatch.db")); err != nil {
		t.Errorf("the default database is not in the working directory: %v", err)
	}

	healthCmd := func(env ...string) *exec.Cmd {
		// The compose healthcheck, with the test's address.
		args := slices.Clone(wantHealthcheck[2:])
		args[1] = grpcAddr
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		t.Cleanup(cancel)
		c := exec.CommandContext(ctx, client, args...)
		c.Dir = t.TempDir()
		c.Env = append([]string{}, env...)
		return c
	}
	if client != "" && tc != nil {
		if out, err := healthCmd().CombinedOutput(); err == nil {
			t.Errorf("stockwatch health exits 0 against a TLS api without the TLS variables:\n%s", out)
		}
		if out, err := healthCmd(clientEnv...).CombinedOutput(); err != nil {
			t.Errorf("stockwatch health with %v against a TLS api: %v\n%s", clientEnv, err, out)
		}
	} else if client != "" {
		if out, err := healthCmd().CombinedOutput(); err != nil {
			t.Errorf("stockwatch %s against a SERVING api: %v\n%s", strings.Join(wantHealthcheck[2:], " "), err, out)
		}
	} else {
		t.Log("client not built: the healthcheck command itself is not run")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("stockwatchd after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(15 * time.Second): // compose.yaml's stop_grace_period
		t.Error("stockwatchd did not stop within 15s of SIGTERM")
	}

	if client != "" && stopped {
		if out, err := healthCmd().CombinedOutput(); err == nil {
			t.Errorf("stockwatch health exits 0 with no server:\n%s", out)
		}
	}
}
