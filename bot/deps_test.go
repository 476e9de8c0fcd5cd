package bot_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/klaxon-bot/klaxon"

// The libraries that stay at the edges.
var (
	chatSDKs = []string{"github.com/slack-go/slack", "github.com/bwmarrin/discordgo"}
	bbolt    = "go.etcd.io/bbolt"
	pgx      = "github.com/jackc/pgx"
	config   = []string{"github.com/spf13/viper", "github.com/spf13/cobra"}
)

// rule forbids the packages under prefix (the package itself and its
// subpackages, except those listed in except) to depend on any of deny,
// directly or not.
type rule struct {
	prefix string
	exact  bool // the package itself, not its subpackages
	except []string
	deny   []string
	why    string
}

// rules is the architecture: imports point down, from adapters and
// cmd/klaxon to the use cases to the vocabulary (bot), and each database
// and SDK stays in the one package that adapts it.
var rules = []rule{
	{prefix: module + "/bot", except: []string{"/bot/slack", "/bot/discord", "/bot/chattest"},
		deny: append(append([]string{bbolt, pgx, module + "/commands", module + "/store"}, chatSDKs...), config...),
		why:  "the vocabulary and the adapters see only package bot (and their own SDK)"},
	{prefix: module + "/bot/slack", deny: append([]string{module + "/commands", module + "/store", bbolt, pgx, chatSDKs[1]}, config...),
		why: "the Slack adapter sees only package bot and slack-go"},
	{prefix: module + "/bot/discord", deny: append([]string{module + "/commands", module + "/store", bbolt, pgx, chatSDKs[0]}, config...),
		why: "the Discord adapter sees only package bot and discordgo"},
	{prefix: module + "/commands", except: []string{"/commands/commandstest"}, deny: append(append([]string{bbolt, pgx, module + "/store", module + "/cmd"}, chatSDKs...), config...),
		why: "use cases see only bot's interfaces, never a platform, a database or the config library (their test harness may)"},
	{prefix: module + "/commands", deny: []string{module + "/cmd", module + "/bot/slack", module + "/bot/discord", module + "/bot/web"},
		why: "use cases never import the adapters or the program"},
	{prefix: module + "/commands", exact: true, deny: []string{module + "/commands/paging", module + "/commands/alerts",
		module + "/commands/heartbeats", module + "/commands/oncall", module + "/commands/hooks", module + "/commands/reach"},
		why: "the incident lifecycle knows its followers and the other domains only as bot interfaces; they import it, not the other way"},
	{prefix: module + "/commands/oncall", deny: []string{module + "/commands/paging", module + "/commands/alerts"},
		why: "paging asks on-call who is on call through an interface it declares; on-call knows nothing of paging"},
	{prefix: module + "/store", except: []string{"/store/bolt", "/store/pg", "/store/pgtest", "/store/storetest"},
		deny: []string{bbolt, pgx, module + "/commands"},
		why:  "the store contract is shared by both stores and imports neither database"},
	{prefix: module + "/store/bolt", deny: []string{pgx, module + "/store/pg", module + "/commands"},
		why: "store/bolt and store/pg are siblings"},
	{prefix: module + "/store/pg", deny: []string{bbolt, module + "/store/bolt", module + "/commands"},
		why: "store/bolt and store/pg are siblings"},
}

// TestDependencyRule enforces the architecture on every package of the
// module (test files aside: tests may wire concrete pieces).
func TestDependencyRule(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	for _, r := range rules {
		checked := 0
		for pkg, ds := range deps {
			if !under(pkg, r.prefix) || (r.exact && pkg != r.prefix) || excepted(pkg, r.except) {
				continue
			}
			checked++
			for _, d := range ds {
				for _, bad := range r.deny {
					if under(d, bad) {
						t.Errorf("%s depends on %s: %s", pkg, d, r.why)
					}
				}
			}
		}
		if checked == 0 {
			t.Errorf("no package under %s: the rule %q checks nothing", r.prefix, r.why)
		}
	}
	// The rules can fail: cmd/klaxon wires everything, so it depends on
	// what they deny elsewhere.
	for _, want := range []string{bbolt, module + "/commands", module + "/store/bolt"} {
		found := false
		for _, d := range deps[module+"/cmd/klaxon"] {
			found = found || under(d, want)
		}
		if !found {
			t.Errorf("cmd/klaxon does not depend on %s; the dependency listing is wrong", want)
		}
	}
}

// under reports whether pkg is path or inside it.
func under(pkg, path string) bool { return pkg == path || strings.HasPrefix(pkg, path+"/") }

func excepted(pkg string, except []string) bool {
	for _, e := range except {
		if under(pkg, module+e) {
			return true
		}
	}
	return false
}
