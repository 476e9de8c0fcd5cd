package slack

import (
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"
)

func TestActedForgetsAfterItsWindow(t *testing.T) {
	var r acted
	now := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	key := actedKey(&socketmode.Request{EnvelopeID: "env-1"}, "T1")
	if key != "trigger:T1" || actedKey(&socketmode.Request{EnvelopeID: "env-1"}, "") != "envelope:env-1" || actedKey(nil, "") != "" {
		t.Errorf("keys: %q, %q", key, actedKey(&socketmode.Request{EnvelopeID: "env-1"}, ""))
	}
	if !r.add(key, now) || r.add(key, now.Add(time.Minute)) || !r.has(key, now.Add(29*time.Minute)) {
		t.Error("a trigger was not remembered within the window")
	}
	if r.has(key, now.Add(actedFor)) || !r.add(key, now.Add(actedFor)) {
		t.Error("a trigger was remembered past the window")
	}
	for range 2 {
		if !r.add("", now) || r.has("", now) {
			t.Error("an envelope without a key was taken for a copy")
		}
	}
	// Old entries go once there are many.
	for i := range 2000 {
		r.add(fmt.Sprintf("trigger:%d", i), now.Add(time.Duration(i)*time.Minute))
	}
	if n := len(r.seen); n > 1100 {
		t.Errorf("%d entries kept; old ones are not pruned", n)
	}
}
