package slackfake

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestBlockKitErrorsCarryJSONPointers(t *testing.T) {
	long := strings.Repeat("x", 3001)
	blocks := []any{
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": long}},
		map[string]any{"type": "header", "text": map[string]any{"type": "mrkdwn", "text": "x"}},
		map[string]any{"type": "actions", "block_id": "a", "elements": []any{
			map[string]any{"type": "button", "action_id": "b", "text": map[string]any{"type": "plain_text", "text": "ok"}},
			map[string]any{"type": "button", "action_id": "b", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("y", 76)}},
		}},
		map[string]any{"type": "context", "block_id": "a", "elements": []any{map[string]any{"type": "mrkdwn", "text": "fine"}}},
		map[string]any{"type": "input", "label": map[string]any{"type": "plain_text", "text": "Service"}, "element": map[string]any{
			"type": "static_select", "action_id": "s", "options": []any{map[string]any{"text": map[string]any{"type": "plain_text", "text": "a"}, "value": "a"}},
			"initial_option": map[string]any{"text": map[string]any{"type": "plain_text", "text": "z"}, "value": "z"}}},
	}
	got := strings.Join(validateBlocks("/blocks", blocks, "message"), "\n")
	for _, want := range []string{
		"must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
		"must be a valid enum value [plain_text] [json-pointer:/blocks/1/text/type]",
		`duplicate action_id "b" [json-pointer:/blocks/2/elements/1/action_id]`,
		"must be less than 76 characters [json-pointer:/blocks/2/elements/1/text/text]",
		`duplicate block_id "a" [json-pointer:/blocks/3/block_id]`,
		"must match one of the options [json-pointer:/blocks/4/element/initial_option]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q; got:\n%s", want, got)
		}
	}
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"type": "divider"}
	}
	if errs := validateBlocks("/blocks", many, "message"); len(errs) != 1 {
		t.Errorf("51 blocks in a message: %v; want one error", errs)
	}
	if errs := validateBlocks("/blocks", many, "home"); len(errs) != 0 {
		t.Errorf("51 blocks on a Home tab: %v; want none (100 allowed)", errs)
	}
	view := map[string]any{"type": "modal", "title": map[string]any{"type": "plain_text", "text": strings.Repeat("t", 25)},
		"private_metadata": strings.Repeat("m", 3001), "blocks": []any{map[string]any{"type": "input", "label": map[string]any{"type": "plain_text", "text": "x"},
			"element": map[string]any{"type": "plain_text_input", "action_id": "x", "max_length": float64(3001)}}}}
	got = strings.Join(validateView(view), "\n")
	for _, want := range []string{"/view/title/text", "/view/private_metadata", "/view/submit", "/view/blocks/0/element/max_length"} {
		if !strings.Contains(got, want) {
			t.Errorf("view errors lack %s; got:\n%s", want, got)
		}
	}
}

func TestOnlySubscribedEventsAreDelivered(t *testing.T) {
	s := New(t, map[string]string{"U0ALICE": "alice"})
	if env, _ := s.Mention("U0ALICE", "C0GENERAL", "hi"); env == "" {
		t.Error("app_mention, which the manifest subscribes to, was not sent")
	}
	s.mu.Lock()
	s.manifest.Settings.Events.Bot = []string{"message.channels"}
	s.mu.Unlock()
	if env, _ := s.Mention("U0ALICE", "C0GENERAL", "hi"); env != "" {
		t.Error("app_mention was sent though the app does not subscribe to it")
	}
	s.SetScopes("chat:write") // message.channels needs channels:history
	if _, _, env, _ := s.Say("U0ALICE", "C0GENERAL", "hello"); env != "" {
		t.Error("message.channels was sent without the channels:history scope")
	}
}

func TestRateLimiterFollowsTheTiers(t *testing.T) {
	l := newLimiter()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	// Tier 2: 20 a minute.
	for i := range 20 {
		if wait := l.allow(Call{Method: "conversations.create"}, "", now.Add(time.Duration(i)*time.Second)); wait != 0 {
			t.Fatalf("call %d refused", i)
		}
	}
	wait := l.allow(Call{Method: "conversations.create"}, "", now.Add(20*time.Second))
	if wait != 40*time.Second {
		t.Errorf("21st call in a minute: Retry-After %v; want 40s (until the first leaves the window)", wait)
	}
	l.allow(Call{Method: "conversations.create"}, "", now.Add(30*time.Second))
	if len(l.early) != 1 {
		t.Errorf("a call inside the Retry-After window was not recorded: %v", l.early)
	}
	if wait := l.allow(Call{Method: "conversations.create"}, "", now.Add(61*time.Second)); wait != 0 {
		t.Errorf("after the window: %v", wait)
	}
	// chat.postMessage: a burst of 3 per channel, then one a second.
	for i := range 3 {
		if wait := l.allow(Call{Method: "chat.postMessage"}, "C1", now); wait != 0 {
			t.Fatalf("post %d of the burst refused", i)
		}
	}
	if wait := l.allow(Call{Method: "chat.postMessage"}, "C1", now); wait == 0 {
		t.Error("a 4th post in the same instant was allowed")
	}
	if wait := l.allow(Call{Method: "chat.postMessage"}, "C2", now); wait != 0 {
		t.Error("another channel was limited by C1's posts")
	}
	if wait := l.allow(Call{Method: "chat.postMessage"}, "C1", now.Add(1100*time.Millisecond)); wait != 0 {
		t.Errorf("a post a second later was refused: %v", wait)
	}
}

// TestEnvelopesMeetAConnectionOnce races new envelopes against connections
// being made: on every connection hello comes first, and no envelope is
// written twice to one connection (once resent as left over, once sent as
// new), which would make a client act on it twice.
func TestEnvelopesMeetAConnectionOnce(t *testing.T) {
	s := New(t, map[string]string{"U0ALICE": "alice"})
	t.Cleanup(s.Close)
	s.RedeliverAfter = 0
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"
	for round := range 100 {
		before := s.Connections()
		dialed := make(chan *websocket.Conn, 1)
		go func() {
			conn, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Error(err)
			}
			dialed <- conn
		}()
		// As a client is told it is connected, not before.
		for s.Connections() == before {
			runtime.Gosched()
		}
		s.SlashCommand("U0ALICE", "C0GENERAL", "/incident", "status")
		conn := <-dialed
		if conn == nil {
			return
		}
		seen := map[string]int{}
		for i := 0; ; i++ {
			conn.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
			var msg struct {
				Type       string `json:"type"`
				EnvelopeID string `json:"envelope_id"`
			}
			if err := conn.ReadJSON(&msg); err != nil {
				break
			}
			if i == 0 && msg.Type != "hello" {
				t.Fatalf("round %d: the connection began with %q, not hello", round, msg.Type)
			}
			if msg.EnvelopeID != "" {
				seen[msg.EnvelopeID]++
				if seen[msg.EnvelopeID] > 1 {
					t.Fatalf("round %d: envelope %s written twice to one connection", round, msg.EnvelopeID)
				}
				conn.WriteJSON(map[string]any{"envelope_id": msg.EnvelopeID})
			}
		}
		conn.Close()
	}
}
