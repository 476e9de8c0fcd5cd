//go:build chaos

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/store"
)

// The crash loop: the real klaxon binary, connected to the fake Slack, is
// killed with SIGKILL at random moments while a scripted incident runs,
// and restarted on the same bbolt file. Run with `make chaos`
// (CHAOS_ROUNDS, default 50).

func TestCrashLoop(t *testing.T) {
	rounds := 50
	if s := os.Getenv("CHAOS_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	perRound := max(2000/rounds, 40)
	bin := buildKlaxon(t)
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "klaxon.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	p := startProcess(t, bin, db, fake)
	if _, ok := fake.Ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Chaos drill" sev:2`), wait); !ok {
		t.Fatal("the declaration was not acknowledged")
	}
	// The declaration itself is not under fire: wait until it is complete
	// (the summary is pinned once the channel is recorded).
	if !fake.WaitFor(wait, func() bool { cs := fake.Channels(); return len(cs) == 1 && len(cs[0].Pins) == 1 }) {
		t.Fatalf("no incident channel; logs:\n%s", p.logs)
	}
	channel := fake.Channels()[0].ID

	var sent []string // event ids of every message and reaction, in order
	kinds := map[string]string{}
	start := time.Now()
	for round := range rounds {
		if round > 0 {
			p = startProcess(t, bin, db, fake)
		}
		killAt := time.Now().Add(time.Duration(rng.IntN(400)) * time.Millisecond)
		for i := range perRound {
			if time.Now().After(killAt) {
				break
			}
			_, ts, _, id := fake.Say(bob, channel, fmt.Sprintf("round %d message %d", round, i))
			sent = append(sent, id)
			kinds[id] = fmt.Sprintf("round %d message %d", round, i)
			if i%10 == 0 {
				_, id := fake.React(alice, channel, ts, "eyes")
				sent = append(sent, id)
				kinds[id] = fmt.Sprintf("round %d reaction %d", round, i)
			}
			time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
		}
		time.Sleep(time.Until(killAt))
		p.kill()
		// Said while klaxon is down: Slack keeps it until klaxon is back.
		for i := range 3 {
			_, _, _, id := fake.Say(bob, channel, fmt.Sprintf("round %d while down %d", round, i))
			sent = append(sent, id)
			kinds[id] = fmt.Sprintf("round %d while down %d", round, i)
		}
	}
	// A last run delivers whatever was left unacknowledged, then stops cleanly.
	p = startProcess(t, bin, db, fake)
	if !fake.WaitFor(60*time.Second, func() bool { return fake.Unacked() == 0 }) {
		t.Errorf("%d envelopes never acknowledged", fake.Unacked())
	}
	p.stop(t)

	s, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	corrupt := 0
	if err := s.Check(); err != nil {
		corrupt = 1
		t.Errorf("bbolt check: %v", err)
	}
	inc, err := s.IncidentByNumber(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(context.Background(), inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	lost, doubled := tally(t, sent, evs, kinds)
	incidents, _ := s.ListIncidents(context.Background(), bot.IncidentFilter{})
	t.Logf("chaos: %d rounds in %s, %d events sent, lost = %d, duplicated = %d, corrupt = %d, incidents = %d",
		rounds, time.Since(start).Round(time.Second), len(sent), lost, doubled, corrupt, len(incidents))
	fmt.Printf("chaos summary: rounds=%d events=%d lost=%d duplicated=%d corrupt=%d\n", rounds, len(sent), lost, doubled, corrupt)
	if lost != 0 || doubled != 0 || len(incidents) != 1 {
		t.Errorf("lost %d, duplicated %d, %d incidents", lost, doubled, len(incidents))
	}
}

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

	s, err := store.Open(db, store.Options{})
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
