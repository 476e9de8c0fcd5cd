package discord

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMessageCatalogueOnDiscord renders every message of the use cases'
// catalogue (commands/paging/testdata/catalogue.messages.json, written by
// TestMessageCatalogue there) as Discord receives it: content or embed,
// and components, into testdata/catalogue.discord.json. A reviewer reads
// what Discord users see; a change to the rendering shows in the diff.
// (go test ./bot/discord -run Catalogue -update rewrites it.)
func TestMessageCatalogueOnDiscord(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "commands", "paging", "testdata", "catalogue.messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sent []struct {
		Op      string      `json:"op"`
		To      string      `json:"to"`
		Message bot.Message `json:"message"`
	}
	if err := json.Unmarshal(raw, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent) < 20 {
		t.Fatalf("the catalogue holds %d messages; it is the whole night's incident", len(sent))
	}
	type rendered struct {
		Op      string                 `json:"op"`
		To      string                 `json:"to"`
		Message *discordgo.MessageSend `json:"message"`
	}
	var out []rendered
	for _, s := range sent {
		out = append(out, rendered{s.Op, s.To, messageSend(s.Message)})
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "catalogue.discord.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/discord -run Catalogue -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("the Discord rendering differs from %s (rerun with -update if the change is intended); got:\n%s", golden, got)
	}
}
