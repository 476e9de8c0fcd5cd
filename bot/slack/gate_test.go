package slack

import (
	"testing"
	"time"
)

// Calls Slack never served do not spend the method's tier: after an
// outage of refused and 5xx calls, klaxon is not held back a minute by
// its own count.
func TestGateDoesNotCountCallsSlackNeverServed(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	g := newGate(func() time.Time { return now })
	limit := perMinute["conversations.create"]
	for i := range limit {
		at, err := g.enter("conversations.create", "")
		if err != nil {
			t.Fatalf("call %d refused: %v", i+1, err)
		}
		g.unreached("conversations.create", at)
		now = now.Add(time.Millisecond)
	}
	if _, err := g.enter("conversations.create", ""); err != nil {
		t.Fatalf("after %d calls Slack never served: %v", limit, err)
	}
	// Served calls count: the tier fills.
	for range limit - 1 {
		if _, err := g.enter("conversations.create", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.enter("conversations.create", ""); err == nil {
		t.Fatalf("call %d within a minute went ahead; the tier is %d a minute", limit+1, limit)
	}
}
