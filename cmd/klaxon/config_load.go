package main

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Loading: viper reads config.yaml and the environment into the schema,
// and errors name the key they are about.

// newViper returns a viper that knows every key and its default.
func newViper() *viper.Viper {
	v := viper.New()
	defaults(v)
	return v
}

// ConfigError is a configuration problem, naming the key.
type ConfigError struct {
	Key    string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Reason) }

// LoadConfig reads the config file at path ("" means ./config.yaml if it
// exists, else only defaults), then KLAXON_* environment variables, and
// validates the result. getenv is os.Getenv outside tests.
func LoadConfig(path string, getenv func(string) string) (*Config, string, error) {
	v := newViper()
	source := "built-in defaults"
	if path == "" {
		if _, err := os.Stat("config.yaml"); err == nil {
			path = "config.yaml"
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, "", fmt.Errorf("config: reading %s: %w", path, err)
		}
		source = path
	}
	// KLAXON_SLACK_BOT_TOKEN overrides slack.bot_token, and so on for every
	// key. Reading them here, rather than with viper's AutomaticEnv, lets
	// tests pass their own environment.
	for _, key := range v.AllKeys() {
		if val := getenv(EnvName(key)); val != "" {
			v.Set(key, val)
		}
	}
	var cfg Config
	err := v.Unmarshal(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
			yamlDateToString,
		)
	})
	if err != nil {
		return nil, "", decodeError(err, v)
	}
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	return &cfg, source, nil
}

var (
	invalidKeys = regexp.MustCompile(`'([^']*)' has invalid keys: ([^\n]+)`)
	badValue    = regexp.MustCompile(`'([^']+)' (.+)`)
)

// decodeError rewrites mapstructure's messages to name the keys plainly and
// show the offending value, unless the key holds a secret.
func decodeError(err error, v *viper.Viper) error {
	msg := err.Error()
	if m := invalidKeys.FindStringSubmatch(msg); m != nil {
		var keys []string
		for _, k := range strings.Split(m[2], ", ") {
			if m[1] != "" {
				k = m[1] + "." + k
			}
			keys = append(keys, k)
		}
		return &ConfigError{Key: strings.Join(keys, ", "), Reason: "unknown key (see config.example.yaml for the keys klaxon reads)"}
	}
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "* ")
		if m := badValue.FindStringSubmatch(line); m != nil {
			reason := m[2]
			if got := v.Get(m[1]); got != nil && !secretKey(m[1]) {
				reason += fmt.Sprintf(" (got %q)", fmt.Sprint(got))
			}
			return &ConfigError{Key: m[1], Reason: reason}
		}
	}
	return fmt.Errorf("config: %w", err)
}

// yamlDateToString keeps dates as the text people wrote: YAML reads an
// unquoted 2026-11-16 as a timestamp.
func yamlDateToString(from, to reflect.Type, data any) (any, error) {
	if t, ok := data.(time.Time); ok && to.Kind() == reflect.String {
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02"), nil
		}
		return t.Format(time.RFC3339), nil
	}
	return data, nil
}

// secretKey reports whether a key holds a token or secret.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "token") || strings.Contains(k, "secret") || strings.Contains(k, "key") || strings.Contains(k, "password") || strings.Contains(k, "dsn")
}
