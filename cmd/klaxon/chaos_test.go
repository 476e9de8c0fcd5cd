//go:build chaos

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// TestDisconnects drops klaxon's Socket Mode connection every 100 events
// of a 1,000-event run: nothing may be lost or doubled, and each
// reconnect is timed.
func TestDisconnects(t *testing.T) {
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "klaxon.db")
	k := startSlack(t, fake, db)
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Flaky network" sev:3`))
	k.waitFor("the incident to be set up", func() bool { cs := fake.Channels(); return len(cs) == 1 && len(cs[0].Pins) == 1 })
	channel := fake.Channels()[0].ID

	var sent []string
	var reconnects []time.Duration
	for i := range 1000 {
		if i > 0 && i%100 == 0 {
			before := fake.Connections()
			dropped := time.Now()
			fake.DropConnection()
			k.waitFor("a reconnect", func() bool { return fake.Connections() > before && fake.Connected() })
			reconnects = append(reconnects, time.Since(dropped))
		}
		_, _, _, id := fake.Say(bob, channel, fmt.Sprintf("message %d", i))
		sent = append(sent, id)
	}
	k.waitFor("every event acknowledged", func() bool { return fake.Unacked() == 0 })
	k.stop()

	s, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, _ := s.IncidentByNumber(context.Background(), 1)
	evs, _ := s.Events(context.Background(), inc.ID, 0, 0)
	lost, doubled := tally(t, sent, evs, nil)
	slices.Sort(reconnects)
	fmt.Printf("disconnect summary: events=%d drops=%d lost=%d duplicated=%d reconnect p50=%s max=%s\n", len(sent), len(reconnects),
		lost, doubled, reconnects[len(reconnects)/2].Round(time.Millisecond), reconnects[len(reconnects)-1].Round(time.Millisecond))
	if lost != 0 || doubled != 0 {
		t.Errorf("lost %d, duplicated %d", lost, doubled)
	}
}

// tally counts the sent Slack events missing from the timeline and those
// on it more than once; what describes each event is logged for the lost.
func tally(t *testing.T, sent []string, evs []bot.Event, what map[string]string) (lost, doubled int) {
	seen := map[string]int{}
	for _, ev := range evs {
		if ev.SourceID != "" {
			seen[ev.SourceID]++
		}
	}
	for _, id := range sent {
		switch n := seen["slack:"+id]; {
		case n == 0:
			lost++
			t.Logf("lost: %s (%s)", id, what[id])
		case n > 1:
			doubled++
		}
	}
	return lost, doubled
}

// TestDiscordGatewayFaults sends 1,000 messages into an incident channel
// while the gateway asks klaxon to RECONNECT every 100 messages and sends
// a resumable INVALID_SESSION every 250: every message must be on the
// timeline exactly once, in order.
func TestDiscordGatewayFaults(t *testing.T) {
	k := startDiscord(t)
	f := k.fake
	id := f.Command(dAlice, discordfake.GeneralID, "incident", "declare", discordfake.Option{Name: "title", Type: 3, Value: "Gateway drill"})
	if got := k.reply(id); !strings.Contains(got, "INC-1") {
		t.Fatalf("reply = %q", got)
	}
	ch, ok := f.ChannelByName("inc-1-gateway-drill")
	if !ok {
		t.Fatal("no incident channel")
	}
	start := time.Now()
	sessions := func() int { identified, resumed, _ := f.Stats(); return identified + resumed }
	faults := 0
	for i := range 1000 {
		if i > 0 && i%100 == 0 {
			before := sessions()
			if i%250 == 0 {
				f.InvalidSession(true)
			} else {
				f.Reconnect()
			}
			faults++
			// Keep talking while klaxon reconnects, then make sure it did.
			f.Say(dBob, ch.ID, fmt.Sprintf("message %d", i))
			k.waitFor("klaxon back on the gateway", func() bool { return sessions() > before && f.Connected() })
			continue
		}
		f.Say(dBob, ch.ID, fmt.Sprintf("message %d", i))
	}
	last := f.Say(dAlice, ch.ID, "<@"+discordfake.BotID+"> status?", discordfake.BotID)
	k.waitFor("klaxon's answer after the last message", func() bool {
		for _, m := range f.Messages(ch.ID) {
			if m.Reference == last {
				return true
			}
		}
		return false
	})
	elapsed := time.Since(start)
	identified, resumed, _ := f.Stats()
	k.stop()

	var got []string
	for _, ev := range timeline(t, k.db, 1) {
		if ev.Kind == bot.EventMessage && strings.HasPrefix(ev.Text, "message ") {
			got = append(got, ev.Text)
		}
	}
	lost, doubled, outOfOrder := 0, 0, 0
	seen := map[string]int{}
	for _, text := range got {
		seen[text]++
	}
	for i := range 1000 {
		switch n := seen[fmt.Sprintf("message %d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			doubled++
		}
	}
	for i := 1; i < len(got); i++ {
		var a, b int
		fmt.Sscanf(got[i-1], "message %d", &a)
		fmt.Sscanf(got[i], "message %d", &b)
		if b < a {
			outOfOrder++
		}
	}
	fmt.Printf("discord gateway summary: events=1000 faults=%d identifies=%d resumes=%d lost=%d duplicated=%d out-of-order=%d in %s\n",
		faults, identified, resumed, lost, doubled, outOfOrder, elapsed.Round(time.Millisecond))
	if lost != 0 || doubled != 0 || outOfOrder != 0 || identified+resumed < faults+1 {
		t.Errorf("lost %d, duplicated %d, out of order %d, resumes %d", lost, doubled, outOfOrder, resumed)
	}
}
