package main

import (
	"flag"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/client"
)

// config is the client's configuration: defaults, overridden by
// STOCKWATCH_* environment variables, overridden by flags.
type config struct {
	addr       string
	timeout    time.Duration
	retries    int
	output     string
	token      string
	tls        bool
	ca         string
	cert       string
	key        string
	serverName string
}

func defaultConfig() config {
	return config{
		addr:    "localhost:50051",
		timeout: client.DefaultTimeout,
		retries: client.DefaultRetries,
		output:  "text",
	}
}

// envName is a flag's environment twin: -server-name →
// STOCKWATCH_SERVER_NAME, and -o → STOCKWATCH_OUTPUT.
func envName(flagName string) string {
	if flagName == "o" {
		flagName = "output"
	}
	return "STOCKWATCH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// globalFlags names the flags register defines, for usage texts and for
// telling them from a command's own flags.
var globalFlags = map[string]bool{
	"addr": true, "timeout": true, "retries": true, "o": true, "token": true,
	"tls": true, "ca": true, "cert": true, "key": true, "server-name": true,
}

// register defines the global flags on fs, with c's current values as
// defaults so that a second flag set (a command's) starts from the first.
func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", c.addr, "`host:port` of the server")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "timeout of each attempt of a call")
	fs.IntVar(&c.retries, "retries", c.retries, "retries of a call that failed with UNAVAILABLE, DEADLINE_EXCEEDED or ABORTED")
	fs.StringVar(&c.output, "o", c.output, "output `format`: text or json (one object per line)")
	fs.StringVar(&c.token, "token", c.token, "admin `token`, sent as 'authorization: Bearer <token>'")
	fs.BoolVar(&c.tls, "tls", c.tls, "use TLS (implied by -ca, -cert, -key and -server-name)")
	fs.StringVar(&c.ca, "ca", c.ca, "CA `file` (PEM) the server's certificate must chain to; default: system roots")
	fs.StringVar(&c.cert, "cert", c.cert, "client certificate `file` (PEM), for mTLS")
	fs.StringVar(&c.key, "key", c.key, "client key `file` (PEM), for mTLS")
	fs.StringVar(&c.serverName, "server-name", c.serverName, "`name` expected in the server's certificate; default: the host of -addr")
}

// fromEnv applies the environment twins of fs's flags. It returns a usage
// error naming the variable whose value does not parse.
func (c *config) fromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("", "invalid %s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// validate returns a usage error naming the first unusable flag.
func (c config) validate() error {
	switch {
	case c.addr == "":
		return usagef("", "-addr: must not be empty")
	case c.timeout <= 0:
		return usagef("", "-timeout: must be positive, got %s", c.timeout)
	case c.retries < 0 || c.retries > 100:
		return usagef("", "-retries: must be between 0 and 100, got %d", c.retries)
	case c.output != "text" && c.output != "json":
		return usagef("", "-o: unknown format %q (want text or json)", c.output)
	case (c.cert == "") != (c.key == ""):
		return usagef("", "-cert and -key: give both or neither")
	}
	return nil
}

// options maps the configuration onto the client's.
func (c config) options() client.Options {
	retries := c.retries
	if retries == 0 {
		retries = -1 // the client reads 0 as "the default"
	}
	return client.Options{
		Timeout: c.timeout,
		Retries: retries,
		Token:   c.token,
		TLS: client.TLS{
			Enabled:    c.tls,
			CAFile:     c.ca,
			CertFile:   c.cert,
			KeyFile:    c.key,
			ServerName: c.serverName,
		},
	}
}
