package bot_test

import (
	"os/exec"
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
