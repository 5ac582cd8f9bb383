package deploy_test

import (
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stockwatch/stockwatch/internal/store"
)

// The galera profile of compose.yaml: a 3-node MariaDB Galera cluster and the
// daemons on it (docs/galera.md#with-docker-compose).
const (
	galeraProfile   = "galera"
	mariadbImage    = "mariadb:10.11"
	mariadbDataDir  = "/var/lib/mysql"
	galeraConfig    = "galera-cnf"
	galeraCnfTarget = "/etc/mysql/conf.d/galera.cnf"
	bootstrapFlag   = "--wsrep-new-cluster"
	// The grants of mysql@localhost, the unix-socket account mariadb-backup
	// uses on the donor of a state transfer (MariaDB 10.5 and later).
	sstGrants = "RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR"
)

var galeraNodes = []string{"galera1", "galera2", "galera3"}

// galeraDaemons are the daemons under the profile, by their default twin.
var galeraDaemons = map[string]string{"api-galera": "api", "collector-galera": "collector", "notifier-galera": "notifier"}

// wantGaleraCnf is every setting of the nodes' configuration file.
var wantGaleraCnf = map[string]string{
	"binlog_format":            "ROW",
	"default_storage_engine":   "InnoDB",
	"innodb_autoinc_lock_mode": "2",
	"wsrep_on":                 "ON",
	"wsrep_provider":           "/usr/lib/galera/libgalera_smm.so",
	"wsrep_cluster_name":       "stockwatch",
	"wsrep_cluster_address":    "gcomm://galera1,galera2,galera3",
	"wsrep_sst_method":         "mariabackup",
	"wsrep_sst_auth":           "mysql:",
	"wsrep_mode":               "REQUIRED_PRIMARY_KEY,STRICT_REPLICATION",
}

// wantGaleraHealthcheck is healthy only when the node says Synced, asked over
// TCP as root with the container's own password variable.
var wantGaleraHealthcheck = []string{"CMD-SHELL", `MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb -h 127.0.0.1 -u root -N -B -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT'" | grep -qx Synced`}

func withGalera(o *loader.Options) { o.Profiles = []string{galeraProfile} }

// parseCnf reads an option file's key = value lines, outside comments and
// group headers.
func parseCnf(t *testing.T, text string) (group string, settings map[string]string) {
	t.Helper()
	settings = map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			group = line
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: line %q is not key = value", galeraConfig, line)
			}
			k = strings.TrimSpace(k)
			if _, dup := settings[k]; dup {
				t.Errorf("%s sets %s twice", galeraConfig, k)
			}
			settings[k] = strings.TrimSpace(v)
		}
	}
	return group, settings
}

func TestComposeGalera(t *testing.T) {
	env := envFilled(t)
	p := mustLoadCompose(t, env, withGalera)

	t.Run("profile services", func(t *testing.T) {
		var profiled, plain []string
		for name, s := range p.Services {
			if len(s.Profiles) == 0 {
				plain = append(plain, name)
				continue
			}
			profiled = append(profiled, name)
			if !slices.Equal(s.Profiles, []string{galeraProfile}) {
				t.Errorf("%s profiles = %q, want [%s]", name, s.Profiles, galeraProfile)
			}
		}
		slices.Sort(profiled)
		slices.Sort(plain)
		want := append(slices.Sorted(maps.Keys(galeraDaemons)), galeraNodes...)
		slices.Sort(want)
		if !slices.Equal(profiled, want) {
			t.Errorf("services of profile %s = %v, want %v", galeraProfile, profiled, want)
		}
		// The default `docker compose up` is what TestCompose checks: these four.
		if want := []string{"api", "collector", "db", "notifier"}; !slices.Equal(plain, want) {
			t.Errorf("services without a profile = %v, want %v", plain, want)
		}
	})

	t.Run("nodes", func(t *testing.T) {
		var nodes []string
		volumes := map[string]string{}
		for name, s := range p.Services {
			if s.Image == mariadbImage {
				nodes = append(nodes, name)
			}
		}
		slices.Sort(nodes)
		if !slices.Equal(nodes, galeraNodes) {
			t.Fatalf("services on %s = %v, want %v", mariadbImage, nodes, galeraNodes)
		}
		for _, name := range galeraNodes {
			s := service(t, p, name)
			if s.Build != nil || len(s.Entrypoint) > 0 {
				t.Errorf("%s: build %v, entrypoint %q; want the image as it is", name, s.Build, s.Entrypoint)
			}
			if s.Hostname != name {
				t.Errorf("%s hostname = %q, want %q (the wsrep node name)", name, s.Hostname, name)
			}
			if s.Restart != restartPolicy {
				t.Errorf("%s restart = %q, want %q: a node that dies rejoins", name, s.Restart, restartPolicy)
			}
			if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) != 60*time.Second {
				t.Errorf("%s stop_grace_period = %v, want 60s: a SIGKILLed node may not restart the cluster", name, s.StopGracePeriod)
			}
			if len(s.Ports) > 0 {
				t.Errorf("%s publishes %+v; only the daemons need it, on the compose network", name, s.Ports)
			}
			if len(s.Volumes) != 1 {
				t.Fatalf("%s volumes = %+v, want one", name, s.Volumes)
			}
			v := s.Volumes[0]
			if v.Type != types.VolumeTypeVolume || v.Source != name+"-data" || v.Target != mariadbDataDir {
				t.Errorf("%s volume = %s %s:%s, want volume %s-data:%s", name, v.Type, v.Source, v.Target, name, mariadbDataDir)
			}
			if other, dup := volumes[v.Source]; dup {
				t.Errorf("%s and %s share volume %s", other, name, v.Source)
			}
			volumes[v.Source] = name
			if _, ok := p.Volumes[v.Source]; !ok {
				t.Errorf("top-level volumes lack %s", v.Source)
			}
			if len(s.Configs) != 1 || s.Configs[0].Source != galeraConfig || s.Configs[0].Target != galeraCnfTarget {
				t.Errorf("%s configs = %+v, want %s at %s", name, s.Configs, galeraConfig, galeraCnfTarget)
			}
			if hc := s.HealthCheck; hc == nil || !slices.Equal(hc.Test, wantGaleraHealthcheck) {
				t.Errorf("%s healthcheck = %+v, want %q", name, hc, wantGaleraHealthcheck)
			}
			want := map[string]string{
				"MARIADB_MYSQL_LOCALHOST_USER":   "1",
				"MARIADB_MYSQL_LOCALHOST_GRANTS": sstGrants,
			}
			for _, k := range []string{"MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"} {
				want[k] = env[k]
			}
			got := map[string]string{}
			for k, v := range s.Environment {
				if v != nil {
					got[k] = *v
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s environment = %v, want %v", name, got, want)
			}
		}
	})

	t.Run("wsrep settings", func(t *testing.T) {
		c, ok := p.Configs[galeraConfig]
		if !ok {
			t.Fatalf("top-level configs lack %s", galeraConfig)
		}
		group, got := parseCnf(t, c.Content)
		if group != "[mariadb]" {
			t.Errorf("%s group = %q, want [mariadb]", galeraConfig, group)
		}
		if !maps.Equal(got, wantGaleraCnf) {
			t.Errorf("%s = %v, want %v", galeraConfig, got, wantGaleraCnf)
		}
		if want := "gcomm://" + strings.Join(galeraNodes, ","); got["wsrep_cluster_address"] != want {
			t.Errorf("wsrep_cluster_address = %q, want every node: %q", got["wsrep_cluster_address"], want)
		}
		// The state transfer's account is the one the nodes' environment makes.
		user, pass, _ := strings.Cut(got["wsrep_sst_auth"], ":")
		if user != "mysql" || pass != "" {
			t.Errorf("wsrep_sst_auth = %q, want mysql@localhost (MARIADB_MYSQL_LOCALHOST_USER) without a password", got["wsrep_sst_auth"])
		}
	})

	t.Run("one node bootstraps, the others wait for it", func(t *testing.T) {
		var bootstraps []string
		for _, name := range galeraNodes {
			if slices.ContainsFunc(service(t, p, name).Command, func(arg string) bool { return strings.Contains(arg, bootstrapFlag) }) {
				bootstraps = append(bootstraps, name)
			}
		}
		if !slices.Equal(bootstraps, []string{"galera1"}) {
			t.Errorf("nodes whose command has %s = %v, want [galera1]", bootstrapFlag, bootstraps)
		}
		if deps := service(t, p, "galera1").DependsOn; len(deps) > 0 {
			t.Errorf("galera1 depends_on %v, want nothing", slices.Sorted(maps.Keys(deps)))
		}
		for _, name := range galeraNodes[1:] {
			s := service(t, p, name)
			if len(s.Command) > 0 {
				t.Errorf("%s command = %q, want the image's (mariadbd, joining)", name, s.Command)
			}
			want := types.DependsOnConfig{"galera1": {Condition: healthyCond, Required: true}}
			if !reflect.DeepEqual(s.DependsOn, want) {
				t.Errorf("%s depends_on = %+v, want %+v", name, s.DependsOn, want)
			}
		}
	})

	t.Run("galera1 bootstraps only a new or cleanly stopped cluster", func(t *testing.T) {
		cmd := service(t, p, "galera1").Command
		if len(cmd) != 3 || cmd[0] != "bash" || cmd[1] != "-c" {
			t.Fatalf("galera1 command = %q, want bash -c SCRIPT", cmd)
		}
		grastate := func(safe string) string {
			return "# GALERA saved state\nversion: 2.1\nuuid:    6b6e4a2c-0f1e-11ef-8e3c-5f0a0e6c1d2b\nseqno:   1234\nsafe_to_bootstrap: " + safe + "\n"
		}
		for _, tc := range []struct {
			name, grastate string
			peerAnswers    bool
			want           string
		}{
			{"new volume, no node answers", "", false, "mariadbd " + bootstrapFlag},
			{"new volume, another node answers", "", true, "mariadbd"},
			{"last node to stop", grastate("1"), false, "mariadbd " + bootstrapFlag},
			{"not the last node to stop", grastate("0"), false, "mariadbd"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := runBootstrap(t, cmd[2], tc.grastate, tc.peerAnswers); got != tc.want {
					t.Errorf("galera1 runs docker-entrypoint.sh %q, want %q", got, tc.want)
				}
			})
		}
	})

	for name, base := range galeraDaemons {
		t.Run(name, func(t *testing.T) {
			s, def := service(t, p, name), service(t, p, base)
			dsn := envValue(t, s, "STOCKWATCH_DB")
			want := "mysql://" + env["MYSQL_USER"] + ":" + env["MYSQL_PASSWORD"] +
				"@galera1:3306,galera2:3306,galera3:3306/" + env["MYSQL_DATABASE"]
			if dsn != want {
				t.Errorf("%s STOCKWATCH_DB = %s, want %s", name, store.Redact(dsn), store.Redact(want))
			}
			// stockwatchd checks its -db with store.CheckDSN before anything else.
			if err := store.CheckDSN(dsn); err != nil {
				t.Errorf("%s STOCKWATCH_DB: store.CheckDSN: %v", name, err)
			}
			if hosts := dsnHosts(dsn); !slices.Equal(hosts, []string{"galera1:3306", "galera2:3306", "galera3:3306"}) {
				t.Errorf("%s STOCKWATCH_DB hosts = %v, want every node", name, hosts)
			}
			wantDeps := types.DependsOnConfig{}
			for _, n := range galeraNodes {
				wantDeps[n] = types.ServiceDependency{Condition: healthyCond, Required: true}
			}
			if base != "api" {
				wantDeps["api-galera"] = types.ServiceDependency{Condition: healthyCond, Required: true}
			}
			if !reflect.DeepEqual(s.DependsOn, wantDeps) {
				t.Errorf("%s depends_on = %+v, want %+v", name, s.DependsOn, wantDeps)
			}
			// The rest is the default service's, to the letter.
			def.Name, def.Profiles, def.DependsOn = name, []string{galeraProfile}, wantDeps
			def.Environment = maps.Clone(def.Environment)
			def.Environment["STOCKWATCH_DB"] = &want
			if fields := differentFields(s, def); len(fields) > 0 {
				t.Errorf("%s differs from %s beyond its profile, STOCKWATCH_DB and depends_on, in %v", name, base, fields)
			}
		})
	}

	t.Run("the daemon's URL check names a repeated node", func(t *testing.T) {
		dsn := "mysql://u:p@galera1:3306,galera2:3306,galera1/stockwatch"
		err := store.CheckDSN(dsn)
		if want := "mysql URL: host galera1:3306 given twice"; err == nil || err.Error() != want {
			t.Errorf("store.CheckDSN(%q) = %v, want %q", store.Redact(dsn), err, want)
		}
	})

	t.Run("no secret in the profile", func(t *testing.T) {
		raw := mustLoadCompose(t, env, withGalera, func(o *loader.Options) { o.SkipInterpolation = true })
		for name, s := range raw.Services {
			for k, v := range s.Environment {
				if v != nil && secretKey.MatchString(k) && !strings.Contains(*v, "${") {
					t.Errorf("service %s: %s = %q is a literal; take it from the environment", name, k, *v)
				}
			}
			if hc := s.HealthCheck; hc != nil && strings.Contains(strings.Join(hc.Test, " "), env["MYSQL_ROOT_PASSWORD"]) {
				t.Errorf("service %s: healthcheck holds the root password itself", name)
			}
		}
	})
}

// differentFields names the fields in which two structs differ, looking
// into embedded ones.
func differentFields(a, b any) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var names []string
	for i := range va.NumField() {
		f, fa, fb := va.Type().Field(i), va.Field(i), vb.Field(i)
		switch {
		case reflect.DeepEqual(fa.Interface(), fb.Interface()):
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			names = append(names, differentFields(fa.Interface(), fb.Interface())...)
		default:
			names = append(names, f.Name)
		}
	}
	return names
}

// dsnHosts is the host list of a mysql:// URL, as written.
func dsnHosts(dsn string) []string {
	_, rest, _ := strings.Cut(dsn, "://")
	auth, _, _ := strings.Cut(rest, "/")
	return strings.Split(auth[strings.LastIndex(auth, "@")+1:], ",")
}

// runBootstrap runs galera1's start script as its container would, with the
// data directory moved to a temporary one holding grastate (none if empty),
// the peers galera2 and galera3 replaced by a loopback port that answers or
// refuses, and the image's docker-entrypoint.sh by one that prints its
// arguments, which it returns.
func runBootstrap(t *testing.T, script, grastate string, peerAnswers bool) string {
	t.Helper()
	for _, s := range []string{mariadbDataDir, "for peer in galera2 galera3;", "/dev/tcp/$peer/4567"} {
		if !strings.Contains(script, s) {
			t.Fatalf("galera1's script no longer has %q, which this test rewrites:\n%s", s, script)
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{data, bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if grastate != "" {
		if err := os.WriteFile(filepath.Join(data, "grastate.dat"), []byte(grastate), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "docker-entrypoint.sh"), []byte("#!/bin/sh\necho \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t) // closed: connections are refused
	if peerAnswers {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port = strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")
	}
	script = strings.ReplaceAll(script, mariadbDataDir, data)
	script = strings.ReplaceAll(script, "for peer in galera2 galera3;", "for peer in 127.0.0.1;")
	script = strings.ReplaceAll(script, "/dev/tcp/$peer/4567", "/dev/tcp/$peer/"+port)

	cmd := exec.CommandContext(t.Context(), "bash", "-c", script)
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("galera1's script: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
