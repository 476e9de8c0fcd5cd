package discord

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/internal/golden"
)

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
	golden.Check(t, "catalogue.discord.json", append(got, '\n'))
}
