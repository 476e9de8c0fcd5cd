package bot_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyRule enforces the architecture: the vocabulary (bot) and the
// use cases (commands) never reach a platform SDK, the database or the
// config library. Adapters and cmd/klaxon may.
func TestDependencyRule(t *testing.T) {
	forbidden := []string{
		"github.com/slack-go/slack",
		"github.com/bwmarrin/discordgo",
		"go.etcd.io/bbolt",
		"github.com/spf13/viper",
		"github.com/spf13/cobra",
	}
	for _, pkg := range []string{"github.com/klaxon-bot/klaxon/bot", "github.com/klaxon-bot/klaxon/commands"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed only %d packages; the check would prove nothing", pkg, len(deps))
		}
		for _, dep := range deps {
			for _, bad := range forbidden {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s; only adapters, store and cmd/klaxon may", pkg, dep)
				}
			}
		}
	}
}

// TestAdaptersSeeOnlyTheVocabulary keeps the adapters (chat platforms, the
// HTTP server, pagers) independent of the use cases: they speak package
// bot, and cmd/klaxon wires the two together.
func TestAdaptersSeeOnlyTheVocabulary(t *testing.T) {
	for _, pkg := range []string{"web", "slack", "discord", "console", "pager"} {
		path := "github.com/klaxon-bot/klaxon/bot/" + pkg
		out, err := exec.Command("go", "list", "-deps", path).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", path, err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/klaxon-bot/klaxon/bot") {
			t.Fatalf("%s does not list package bot among its dependencies; the check would prove nothing", path)
		}
		for _, dep := range deps {
			if dep == "github.com/klaxon-bot/klaxon/commands" || dep == "github.com/klaxon-bot/klaxon/store" {
				t.Errorf("%s depends on %s; adapters see only package bot", path, dep)
			}
		}
	}
}
