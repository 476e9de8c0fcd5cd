package slack

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/slack-go/slack"

	"github.com/klaxon-bot/klaxon/bot"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMessageCatalogueInBlockKit renders every message of the use cases'
// catalogue (commands/paging/testdata/catalogue.messages.json, written by
// TestMessageCatalogue there) as Slack receives it: the notification
// text and the Block Kit blocks, into testdata/catalogue.blockkit.json.
// A reviewer reads what Slack users see; a change to the rendering shows
// in the diff. (go test ./bot/slack -run Catalogue -update rewrites it.)
func TestMessageCatalogueInBlockKit(t *testing.T) {
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
		Op     string        `json:"op"`
		To     string        `json:"to"`
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}
	var out []rendered
	for _, s := range sent {
		out = append(out, rendered{s.Op, s.To, fallback(s.Message), blocks(s.Message)})
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "catalogue.blockkit.json")
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
		t.Fatalf("%v (run go test ./bot/slack -run Catalogue -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("the Slack rendering differs from %s (rerun with -update if the change is intended); got:\n%s", golden, got)
	}
}
