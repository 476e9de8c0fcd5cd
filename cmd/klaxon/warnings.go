package main

import (
	"fmt"
	"os"
	"reflect"
	"strings"
)

// configWarnings are what klaxon runs with but an operator should fix:
// said in the log at start-up, by klaxon check and on /readyz.
func configWarnings(cfg *Config, source string) []string {
	var out []string
	if info, err := os.Stat(source); err == nil && info.Mode().Perm()&0o077 != 0 && len(cfg.secrets()) > 0 {
		out = append(out, fmt.Sprintf("%s holds secrets and is readable by others (mode %04o): chmod 600 %s", source, info.Mode().Perm(), source))
	}
	if cfg.HTTP.MetricsToken == "" && !cfg.loopback() {
		out = append(out, fmt.Sprintf("/metrics is open on %s, which other machines can reach: set http.metrics_token", cfg.HTTP.Listen))
	}
	if cfg.Incidents.CallURL != "" && !strings.Contains(cfg.Incidents.CallURL, "{secret}") {
		out = append(out, "incidents.call_url has no {secret}: a private incident's meeting room can be guessed from its number or channel")
	}
	return out
}

// secrets lists every secret the configuration holds, wherever it is.
func (c *Config) secrets() []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k))
			}
		case reflect.String:
			if v.Type() == reflect.TypeFor[Secret]() && v.String() != "" {
				out = append(out, v.String())
			}
		}
	}
	walk(reflect.ValueOf(c).Elem())
	return out
}
