package cliconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// File is a configuration file: a flat TOML document of keys (see
// Twins.Key) and values, each kept as the string a flag would be given.
type File struct {
	Path   string
	Values map[string]string
}

// Key returns the key of the flag flagName in a configuration file: its
// twin's name without STOCKWATCH_, in lower case ("server-name" →
// "server_name", "o" → "output" with the alias {"o": "output"}).
func (t Twins) Key(flagName string) string {
	return strings.ToLower(strings.TrimPrefix(t.Name(flagName), "STOCKWATCH_"))
}

// DefaultFilePath returns where a binary looks for its configuration file
// when no path is given: $XDG_CONFIG_HOME/stockwatch/NAME, or
// $HOME/.config/stockwatch/NAME when XDG_CONFIG_HOME is unset, empty or
// relative (as the XDG base directory specification says). It returns ""
// when neither variable gives a directory.
func DefaultFilePath(lookup func(string) (string, bool), name string) string {
	if dir, _ := lookup("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "stockwatch", name)
	}
	if home, _ := lookup("HOME"); home != "" {
		return filepath.Join(home, ".config", "stockwatch", name)
	}
	return ""
}

// ReadFile reads the configuration file at path. A file that does not
// exist gives (nil, nil) when missingOK, else an error. The document must
// be flat: each value a string, a number or a boolean. The error names
// the file, and the line for a syntax error.
func ReadFile(path string, missingOK bool) (*File, error) {
	var doc map[string]any
	_, err := toml.DecodeFile(path, &doc)
	var pe toml.ParseError
	switch {
	case errors.Is(err, fs.ErrNotExist) && missingOK:
		return nil, nil
	case errors.As(err, &pe):
		return nil, fmt.Errorf("%s: line %d: %s", path, pe.Position.Line, pe.Message)
	case err != nil:
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	f := &File{Path: path, Values: map[string]string{}}
	for k, v := range doc {
		switch v := v.(type) {
		case string:
			f.Values[k] = v
		case int64:
			f.Values[k] = strconv.FormatInt(v, 10)
		case float64:
			f.Values[k] = strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			f.Values[k] = strconv.FormatBool(v)
		default:
			return nil, fmt.Errorf("%s: %s: want a string, a number or a boolean, got a %T", path, k, v)
		}
	}
	return f, nil
}
