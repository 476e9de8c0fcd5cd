//go:build chaos

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStorm declares 30 incidents in 5 s while the fake Slack enforces
// its documented rate-limit tiers. Every incident ends with its channel,
// its topic, its pinned summary and its announcement; every page goes
// out; no call is made inside a Retry-After window; no envelope is
// acknowledged after Slack's 3 seconds.
func TestStorm(t *testing.T) {
	fake := newFake(t)
	fake.EnforceRateLimits()
	tr := newTriggers(t, func() int { return 0 })
	k := outboxKlaxon(t, fake, tr, fake.URL(), env{"KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS"})
	k.waitFor("the connection", fake.Connected)
	const n = 30
	start := time.Now()
	var envs []string
	for i := range n {
		envs = append(envs, fake.SlashCommand(alice, "C0GENERAL", "/incident", fmt.Sprintf(`declare "Storm %d" sev:1 service:payments`, i)))
		time.Sleep(5 * time.Second / n)
	}
	done := func() bool {
		if tr.count() < n || len(fake.Messages("C0INCIDENTS")) < n {
			return false
		}
		for i := range n {
			c, ok := fake.ChannelByName(fmt.Sprintf("inc-%d-storm-%d", i+1, i))
			if !ok || len(c.Pins) != 1 || !strings.HasPrefix(c.Topic, fmt.Sprintf("INC-%d ·", i+1)) {
				return false
			}
		}
		return true
	}
	if !fake.WaitFor(5*time.Minute, done) {
		t.Fatalf("after 5 min: %d pages, %d announcements, %d channels; logs:\n%.4000s", tr.count(), len(fake.Messages("C0INCIDENTS")), len(fake.Channels()), k.logs)
	}
	took := time.Since(start)
	if early := fake.EarlyCalls(); len(early) > 0 {
		t.Errorf("%d calls inside a Retry-After window, the first %s", len(early), early[0].Method)
	}
	var worst time.Duration
	for _, e := range envs {
		d, ok := fake.AckLatency(e)
		if !ok {
			t.Errorf("envelope %s was never acknowledged", e)
		}
		worst = max(worst, d)
	}
	if worst > 3*time.Second {
		t.Errorf("slowest acknowledgement %v; Slack allows 3 s", worst)
	}
	if got := tr.count(); got != n {
		t.Errorf("%d pages; want %d, one each", got, n)
	}
	t.Logf("storm: %d incidents complete in %v under Slack's tiers; 429s answered %d; slowest ack %v",
		n, took.Round(time.Second), len(fake.Calls("chat.postMessage (429)"))+len(fake.Calls("conversations.create (429)"))+len(fake.Calls("pins.add (429)"))+len(fake.Calls("conversations.setTopic (429)")), worst)
}
