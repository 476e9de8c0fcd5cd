package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfig loads arbitrary YAML as the configuration: klaxon either
// accepts it or refuses it with a "config: …" error, and never panics.
func FuzzConfig(f *testing.F) {
	f.Add(scheduleYAML)
	f.Add(sweepConfigFor("https://api.github.com", "https://api.github.com"))
	for _, c := range badConfigs {
		f.Add(c.yaml)
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	path := filepath.Join(f.TempDir(), "config.yaml")
	f.Fuzz(func(t *testing.T, yaml string) {
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := LoadConfig(path, env{}.get)
		switch {
		case err != nil && !strings.HasPrefix(err.Error(), "config: "):
			t.Fatalf("error %q does not say it is about the configuration", err)
		case err != nil && len(err.Error()) < len("config: x: y"):
			t.Fatalf("error %q names no key or reason", err)
		case err == nil && cfg == nil:
			t.Fatal("no error and no configuration")
		case err == nil:
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("a loaded configuration does not validate: %v", verr)
			}
		}
	})
}
