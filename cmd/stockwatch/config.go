package main

import (
	"flag"
	"os"
	"strings"
	"time"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
	"github.com/stockwatch/stockwatch/internal/client"
)

// config is the client's configuration: defaults, overridden by the
// configuration file, overridden by STOCKWATCH_* environment variables,
// overridden by flags.
type config struct {
	config     string // the configuration file; "" for none
	addr       string
	timeout    time.Duration
	retries    int
	output     string
	token      string
	tokenFile  string
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

// twins names the environment twins of the global flags and their keys
// in the configuration file: -server-name → STOCKWATCH_SERVER_NAME and
// server_name, -o → STOCKWATCH_OUTPUT and output. The file cannot hold
// the token (a file of settings gets copied and shown; -token-file names
// a file that holds only the secret) nor its own location.
func twins() cliconfig.Twins {
	return cliconfig.Twins{Aliases: map[string]string{"o": "output"}, NoFile: []string{"token", "config"}}
}

// register defines the global flags on fs, with c's current values as
// defaults so that a second flag set (a command's) starts from the first.
func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", c.config, "configuration `file` (TOML); missing is fine unless named here or in the twin; empty: none")
	fs.StringVar(&c.addr, "addr", c.addr, "`host:port` of the server; several replicas: host:port,host:port,... or dns:///name:port")
	cliconfig.DurationVar(fs, &c.timeout, "timeout", c.timeout, "timeout of each attempt of a call")
	fs.IntVar(&c.retries, "retries", c.retries, "retries of a call that failed with UNAVAILABLE, DEADLINE_EXCEEDED or ABORTED")
	fs.StringVar(&c.output, "o", c.output, "output `format`: text or json (one object per line)")
	fs.StringVar(&c.token, "token", c.token, "admin `token`, sent as 'authorization: Bearer <token>'")
	fs.StringVar(&c.tokenFile, "token-file", c.tokenFile, "`file` holding the admin token, read when -token is empty")
	fs.BoolVar(&c.tls, "tls", c.tls, "use TLS (implied by -ca, -cert, -key and -server-name)")
	fs.StringVar(&c.ca, "ca", c.ca, "CA `file` (PEM) the server's certificate must chain to; default: system roots")
	fs.StringVar(&c.cert, "cert", c.cert, "client certificate `file` (PEM), for mTLS")
	fs.StringVar(&c.key, "key", c.key, "client key `file` (PEM), for mTLS")
	fs.StringVar(&c.serverName, "server-name", c.serverName, "`name` expected in the server's certificate; default: the host of -addr")
}

// validate returns a usage error naming the first unusable flag.
func (c config) validate() error {
	switch {
	case c.addr == "":
		return usagef("", "-addr: must not be empty")
	case client.CheckAddr(c.addr) != nil:
		return usagef("", "-addr: %v", client.CheckAddr(c.addr))
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

// readToken reads the token from -token-file when -token is empty. It
// returns a usage error when the file cannot be read or holds nothing.
func (c *config) readToken() error {
	if c.token != "" || c.tokenFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return usagef("", "-token-file: %v", err)
	}
	if c.token = strings.TrimSpace(string(b)); c.token == "" {
		return usagef("", "-token-file: %s is empty", c.tokenFile)
	}
	return nil
}

// options maps the configuration onto the client's.
func (c config) options() client.Options {
	// -retries 0 means no retry; client.Options reads 0 as "the
	// default" (3) and a negative number as none.
	retries := c.retries
	if retries == 0 {
		retries = -1
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
