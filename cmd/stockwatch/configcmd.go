package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/stockwatch/stockwatch/internal/cliconfig"
)

// configCmd returns "config", whose one subcommand, show, prints the
// effective configuration.
func (a *app) configCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "the client's configuration",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "print the effective configuration, secrets redacted",
		Long: "Prints the value of each setting and where it came from (flag, env, file or default), as TOML\n" +
			"that a configuration file can hold; the token is redacted. With -o json: one object.",
		Example: "  stockwatch config show",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := a.setup(c)
			if err != nil {
				return err
			}
			return a.showConfig(s.out.w, s.out.json)
		},
	})
	return c
}

// setting is one line of config show.
type setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"` // flag, env, file or default
}

// showConfig prints the global flags' values and sources, the token
// redacted: TOML with the source in a comment, or one JSON object.
func (a *app) showConfig(w io.Writer, asJSON bool) error {
	tw := twins()
	var settings []setting
	quoted := map[string]bool{}
	a.global.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		v := f.Value.String()
		if f.Name == "token" && v != "" {
			v = "(redacted)"
		}
		src := a.sources[f.Name]
		if f.Name == "token" && v != "" && src == cliconfig.SourceDefault {
			src = "token_file"
		}
		if src == cliconfig.SourceEnv {
			src += " " + tw.Name(f.Name)
		}
		settings = append(settings, setting{Key: tw.Key(f.Name), Value: v, Source: src})
		quoted[tw.Key(f.Name)] = !isPlain(f)
	})
	if asJSON {
		b, err := json.Marshal(struct {
			File     string    `json:"file"`
			Settings []setting `json:"settings"`
		}{a.file, settings})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	switch {
	case a.file != "":
		fmt.Fprintf(w, "# configuration file: %s\n", a.file)
	case a.cfg.config != "":
		fmt.Fprintf(w, "# configuration file: %s (not found)\n", a.cfg.config)
	default:
		fmt.Fprintln(w, "# configuration file: none")
	}
	for _, s := range settings {
		v := s.Value
		if quoted[s.Key] {
			v = strconv.Quote(v)
		}
		if _, err := fmt.Fprintf(w, "%-11s = %-24s # %s\n", s.Key, v, s.Source); err != nil {
			return err
		}
	}
	return nil
}

// isPlain reports whether f's value is a TOML number or boolean.
func isPlain(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	switch g.Get().(type) {
	case bool, int:
		return true
	}
	return false
}
