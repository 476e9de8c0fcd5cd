package slack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/internal/golden"
)

// consoleMention is a mention of a console user (alice) or channel
// (inc-1-checkout-is-down), as the catalogue's console run writes them.
var consoleMention = regexp.MustCompile(`<([@#])([a-z0-9-]+)>`)

// slackIDs gives the catalogue's console people and channels Slack-style
// ids (<@UALICE>, <#CINC1CHECKOUTISDOWN>), so the rendering shows live
// mentions as on Slack.
func slackIDs(s string) string {
	return consoleMention.ReplaceAllStringFunc(s, func(m string) string {
		sub := consoleMention.FindStringSubmatch(m)
		prefix := "U"
		if sub[1] == "#" {
			prefix = "C"
		}
		return "<" + sub[1] + prefix + strings.ToUpper(strings.ReplaceAll(sub[2], "-", "")) + ">"
	})
}

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
		m := s.Message
		m.Title, m.Text, m.Context = slackIDs(m.Title), slackIDs(m.Text), slackIDs(m.Context)
		m.Fields = append([]bot.Field(nil), m.Fields...)
		for i := range m.Fields {
			m.Fields[i].Value = slackIDs(m.Fields[i].Value)
		}
		out = append(out, rendered{s.Op, s.To, fallback(m), blocks(m)})
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "catalogue.blockkit.json", append(got, '\n'))
}
