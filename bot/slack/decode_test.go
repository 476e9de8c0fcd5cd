package slack

import (
	"encoding/json"
	"testing"
	"time"

	goslack "github.com/slack-go/slack"
)

func TestDecodeInteractionAcceptsStringBooleans(t *testing.T) {
	payload := json.RawMessage(`{"type":"view_submission","is_enterprise_install":"false","user":{"id":"U1"},
		"view":{"id":"V1","callback_id":"klaxon.declare","state":{"values":{"title":{"title":{"type":"plain_text_input","value":"DB down"}}}}}}`)
	var strict goslack.InteractionCallback
	if err := json.Unmarshal(payload, &strict); err == nil {
		t.Log("slack-go now accepts string booleans; the tolerant path is a fallback only")
	}
	cb, err := decodeInteraction(payload)
	if err != nil {
		t.Fatal(err)
	}
	values, _ := submission(cb.View)
	if cb.Type != goslack.InteractionTypeViewSubmission || cb.User.ID != "U1" || values["title"] != "DB down" {
		t.Errorf("decoded %+v, values %v", cb, values)
	}
}

func TestTimestamps(t *testing.T) {
	tests := map[string]time.Time{
		"1763694000.000100": time.Unix(1763694000, 100_000).UTC(),
		"1763694000.5":      time.Unix(1763694000, 500_000_000).UTC(),
		"1763694000":        time.Unix(1763694000, 0).UTC(),
		"garbage":           {},
	}
	for in, want := range tests {
		if got := ts(in); !got.Equal(want) {
			t.Errorf("ts(%q) = %v; want %v", in, got, want)
		}
	}
}
